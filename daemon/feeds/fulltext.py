"""Full text for ``full_text = true`` feeds whose entries carry only a summary.

Only entries not stored yet are fetched (a feed re-polled every few minutes must not re-fetch
its pages), through the same fetcher and so under the same per-host limits as the feed. A page
that cannot be fetched or read leaves the entry with its summary: the alert still goes out.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from zoneinfo import ZoneInfo

from daemon.errors import FetchError, ParseError
from daemon.feeds.fetch import Fetcher
from daemon.feeds.parsing import ParsePool
from daemon.prepared import item_key
from storage.types import Article

log = logging.getLogger("newswatch.feeds")
# An entry with less text than this is a teaser, not an article.
THIN_TEXT = 600


def is_thin(article: Article) -> bool:
    return bool(article.url) and sum(len(p) for p in article.body) < THIN_TEXT


def wanted_pages(articles: list[Article], known: Collection[str], limit: int) -> list[int]:
    """Indices of the thin entries not in ``known`` whose pages are worth fetching, at most
    ``limit`` (politeness: a feed that suddenly lists 500 teasers costs 20 page loads)."""
    picked = [i for i, a in enumerate(articles) if is_thin(a) and item_key(a) not in known]
    return picked[:limit]


def merge_page(entry: Article, page: Article) -> Article:
    """The feed's metadata wins (it is structured); the page brings the body."""
    if sum(len(p) for p in page.body) <= sum(len(p) for p in entry.body):
        return entry
    return entry.replace(
        body=page.body,
        lead=entry.lead or page.lead,
        authors=entry.authors or page.authors,
        published=entry.published or page.published,
        images=entry.images or page.images,
        reading_time=page.reading_time or entry.reading_time,
        language=entry.language or page.language,
        extra={**entry.extra, "full_text": True},
    )


async def add_full_text(
    articles: list[Article],
    indices: list[int],
    *,
    fetcher: Fetcher,
    parser: ParsePool,
    source: str,
    zone: ZoneInfo | None,
) -> list[Article]:
    result = list(articles)
    for index in indices:
        entry = result[index]
        assert entry.url is not None
        try:
            response = await fetcher.fetch(entry.url)
            if response.status != 200:
                raise FetchError(f"HTTP {response.status}")
            page = await parser.page(response.body, response.url, source, zone)
        except (FetchError, ParseError) as exc:
            log.warning("full text unavailable source=%s url=%s: %s", source, entry.url, exc)
            continue
        if page is not None:
            result[index] = merge_page(entry, page)
    return result
