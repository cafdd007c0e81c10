"""The shared tail of every source: place each article in its story, match it, enqueue alerts.

Everything for one input happens in the caller's transaction, so an article, its sketch bands
and the alerts it caused are committed together or not at all.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from alerts.match import Matcher
from alerts.payload import build_payload
from daemon import dedup
from daemon.dedup import Candidate, Decision, Kind, Sketch, StoryDecider, alert_round
from daemon.dedup.store import SqlSketchIndex
from storage import outbox, sketches
from storage.articles import (
    PreviousItem,
    create_story,
    insert_article,
    previous_items,
    touch_story,
    update_article,
)
from storage.types import Article

log = logging.getLogger("newswatch.ingest")
DEFAULT_DECIDER = StoryDecider()


@dataclass(slots=True)
class IngestResult:
    new: int = 0
    seen: int = 0
    updated: int = 0
    alert_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Pipeline:
    """What the settings in force make of each new article: its rules and its story grouping.

    Sources take a callable returning the current one, so a settings reload reaches the next
    article without touching work under way.
    """

    matcher: Matcher
    decider: StoryDecider = DEFAULT_DECIDER


@dataclass(frozen=True, slots=True)
class Placed:
    kind: Kind
    story_id: int
    article_id: int
    updates: int


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


async def ingest_articles(
    session: AsyncSession,
    *,
    source_id: int,
    articles: Sequence[Article],
    pipeline: Pipeline,
) -> IngestResult:
    result = IngestResult()
    keys = [item_key(article) for article in articles]
    known = await previous_items(session, source_id, keys)
    for key, article in zip(keys, articles, strict=True):
        placed = await place_article(session, source_id, article, pipeline.decider, key, known)
        if placed is None:
            result.seen += 1
            continue
        if placed.kind is Kind.UPDATE:
            result.updated += 1
        else:
            result.new += 1
        result.alert_ids.extend(await _alert(session, pipeline.matcher, article, placed))
    return result


async def place_article(
    session: AsyncSession,
    source_id: int,
    article: Article,
    decider: StoryDecider,
    key: str,
    known: dict[str, PreviousItem],
) -> Placed | None:
    """Store the article where dedup says it belongs; None when it is nothing new.

    ``known`` holds the stored versions of this batch's items and is kept current, so an item
    that appears twice in one batch is recognised the second time.
    """
    text = body_text(article)
    sketch = dedup.sketch(article.title, text, article.url)
    published = when(article)
    stored = known.get(key)
    previous = _as_candidate(stored)
    if stored is not None and previous is None:
        return None  # stored before sketches existed: treat as already seen
    index = SqlSketchIndex(session)
    decision = await dedup.place(index, decider, sketch, published, previous)
    if decision.kind is Kind.SAME:
        return None
    content = dedup.content_hash(text) or None
    canonical = dedup.canonical_url(article.url) if article.url else None
    if decision.kind is Kind.UPDATE and stored is not None:
        updates = await update_article(
            session,
            stored.article_id,
            content_hash=content,
            canonical_url=canonical,
            sketch=sketch.to_bytes(),
            article=article,
        )
        await sketches.add_bands(
            session,
            story_id=stored.story_id,
            article_id=stored.article_id,
            keys=dedup.band_keys(sketch),
            published=published,
            replace=True,
        )
        known[key] = stored._replace(sketch=sketch.to_bytes(), update_count=updates)
        return Placed(Kind.UPDATE, stored.story_id, stored.article_id, updates)
    story_id = await _story_for(session, decision, article)
    article_id = await insert_article(
        session,
        source_id=source_id,
        story_id=story_id,
        item_key=key,
        content_hash=content,
        canonical_url=canonical,
        sketch=sketch.to_bytes(),
        article=article,
    )
    if article_id is None:
        return None
    await index.add(story_id, article_id, dedup.band_keys(sketch), sketch, published)
    known[key] = PreviousItem(article_id, story_id, sketch.to_bytes(), published, 0)
    log.debug(
        "placed article_id=%s story_id=%s kind=%s reason=%s score=%.2f",
        article_id,
        story_id,
        decision.kind.value,
        decision.reason.value,
        decision.score,
    )
    return Placed(decision.kind, story_id, article_id, 0)


def _as_candidate(stored: PreviousItem | None) -> Candidate | None:
    if stored is None or stored.sketch is None:
        return None
    sketch = Sketch.from_bytes(stored.sketch)
    return Candidate(stored.story_id, stored.article_id, sketch, stored.published)


async def _story_for(session: AsyncSession, decision: Decision, article: Article) -> int:
    if decision.kind is Kind.JOIN and decision.story_id is not None:
        await touch_story(session, decision.story_id)
        return decision.story_id
    return await create_story(session, article.title)


async def _alert(
    session: AsyncSession, matcher: Matcher, article: Article, placed: Placed
) -> list[int]:
    alerts: list[outbox.NewAlert] = []
    for hit in matcher.match(article):
        round_ = alert_round(placed.kind, hit.rule.on_update, placed.updates)
        if round_ is None:
            continue
        payload = build_payload(hit, article, placed.story_id)
        if placed.kind is Kind.UPDATE:
            payload["update"] = placed.updates
        alerts.extend(
            outbox.NewAlert(
                rule=hit.rule.name,
                story_id=placed.story_id,
                article_id=placed.article_id,
                channel=channel,
                payload=payload,
                round=round_,
            )
            for channel in hit.rule.channels
        )
        log.info(
            "match rule=%r article_id=%s story_id=%s kind=%s title=%r terms=%s",
            hit.rule.name,
            placed.article_id,
            placed.story_id,
            placed.kind.value,
            article.title,
            ", ".join(hit.terms),
        )
    return await outbox.enqueue(session, alerts)
