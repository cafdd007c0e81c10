"""The shared tail of every source: store what is new, match it, enqueue the alerts.

Everything for one input happens in the caller's transaction, so an article and the alerts
it caused are committed together or not at all.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from alerts.match import Matcher
from alerts.payload import build_payload
from storage import outbox
from storage.articles import store_article
from storage.types import Article

log = logging.getLogger("newswatch.ingest")
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


@dataclass(slots=True)
class IngestResult:
    new: int = 0
    seen: int = 0
    alert_ids: list[int] = field(default_factory=list)


def content_hash(article: Article) -> str:
    """Hash of the body with case, punctuation and spacing folded away."""
    text = " ".join(article.body) or article.lead or article.title
    return hashlib.sha256(_NON_WORD.sub(" ", text.casefold()).strip().encode()).hexdigest()


def item_key(article: Article) -> str:
    """Per-source identity: the GUID, else the URL, else a hash of title and text."""
    if article.guid:
        basis = "guid:" + article.guid
    elif article.url:
        basis = "url:" + article.url
    else:
        basis = "text:" + article.title + "\n" + article.text
    return hashlib.sha256(basis.encode()).hexdigest()


async def ingest_articles(
    session: AsyncSession,
    *,
    source_id: int,
    articles: Sequence[Article],
    matcher: Matcher,
) -> IngestResult:
    result = IngestResult()
    for article in articles:
        stored = await store_article(
            session,
            source_id=source_id,
            item_key=item_key(article),
            content_hash=content_hash(article),
            article=article,
        )
        if stored is None:
            result.seen += 1
            continue
        result.new += 1
        hits = matcher.match(article)
        alerts = [
            outbox.NewAlert(
                rule=hit.rule.name,
                story_id=stored.story_id,
                article_id=stored.article_id,
                channel=channel,
                payload=build_payload(hit, article, stored.story_id),
            )
            for hit in hits
            for channel in hit.rule.channels
        ]
        result.alert_ids.extend(await outbox.enqueue(session, alerts))
        for hit in hits:
            log.info(
                "match rule=%r article_id=%s title=%r terms=%s",
                hit.rule.name,
                stored.article_id,
                article.title,
                ", ".join(hit.terms),
            )
    return result
