"""What a parser worker hands the ingest pipeline: an article with its identity key and its
similarity sketch worked out where it was parsed.

Kept apart from :mod:`daemon.ingest` so the worker processes import the reader and the
sketch alone, not the database, the matcher and the channels the pipeline needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from daemon import dedup
from daemon.dedup import Sketch
from storage.types import Article


def body_text(article: Article) -> str:
    return "\n\n".join(article.paragraphs)


def item_key(article: Article) -> str:
    """Per-source identity: the GUID, else the canonical URL, else a hash of title and text."""
    return dedup.item_key(article.guid, article.url, article.title, body_text(article))


def when(article: Article) -> datetime:
    """The time that places an article in the story window: published, else captured, else now."""
    if article.published is not None:
        return article.published
    captured = article.captured
    if isinstance(captured, datetime):
        return captured
    if isinstance(captured, date):
        return datetime(captured.year, captured.month, captured.day, tzinfo=UTC)
    return datetime.now(UTC)


@dataclass(slots=True)
class Prepared:
    """An incoming article with everything dedup needs, computed once, possibly in a parser
    worker process: sketching costs as much as parsing, and there it runs on another core."""

    article: Article
    key: str
    sketch: Sketch
    sketch_bytes: bytes  # as stored on the article row
    bands: list[int]
    published: datetime
    content_hash: str | None
    canonical_url: str | None


# An incoming article, sketched already (by a parser worker) or not.
Entry = Article | Prepared


def article_of(item: Entry) -> Article:
    return item.article if isinstance(item, Prepared) else item


def key_of(item: Entry) -> str:
    return item.key if isinstance(item, Prepared) else item_key(item)


def prepare(article: Article) -> Prepared:
    text = body_text(article)
    sketch = dedup.sketch(article.title, text, article.url)
    return Prepared(
        article=article,
        key=dedup.item_key(article.guid, article.url, article.title, text),
        sketch=sketch,
        sketch_bytes=sketch.to_bytes(),
        bands=dedup.band_keys(sketch),
        published=when(article),
        content_hash=dedup.content_hash(text) or None,
        canonical_url=dedup.canonical_url(article.url) if article.url else None,
    )
