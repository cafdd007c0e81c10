"""Stories as users browse them (the newest first, each with its articles in arrival order),
and stories joined when an article shows two of them to be one."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.models import AlertRow, ArticleRow, Source, Story


@dataclass(frozen=True, slots=True)
class StoredArticle:
    id: int
    source: str
    title: str
    published: datetime | None
    created_at: datetime
    sketch: bytes | None  # what the caller compares to say how the article joined


@dataclass(frozen=True, slots=True)
class StoredStory:
    id: int
    title: str
    updated_at: datetime
    articles: list[StoredArticle]


async def newest_stories(session: AsyncSession, limit: int) -> list[StoredStory]:
    """The ``limit`` most recently updated stories; two queries whatever their size."""
    found = await session.execute(
        select(Story.id, Story.title, Story.updated_at)
        .where(Story.merged_into.is_(None))
        .order_by(Story.updated_at.desc(), Story.id.desc())
        .limit(limit)
    )
    stories = found.all()
    if not stories:
        return []
    rows = await session.execute(
        select(
            ArticleRow.id,
            ArticleRow.story_id,
            Source.name,
            ArticleRow.title,
            ArticleRow.published,
            ArticleRow.created_at,
            ArticleRow.sketch,
        )
        .join(Source, Source.id == ArticleRow.source_id)
        .where(ArticleRow.story_id.in_([s.id for s in stories]))
        .order_by(ArticleRow.id)
    )
    members: dict[int, list[StoredArticle]] = {s.id: [] for s in stories}
    for row in rows:
        members[row.story_id].append(
            StoredArticle(row.id, row.name, row.title, row.published, row.created_at, row.sketch)
        )
    return [StoredStory(s.id, s.title, s.updated_at, members[s.id]) for s in stories]


async def current_stories(session: AsyncSession, ids: Iterable[int]) -> dict[int, int]:
    """Which of these stories were merged, and into what: chains are kept one hop long."""
    wanted = list(set(ids))
    found: dict[int, int] = {}
    for start in range(0, len(wanted), 500):
        rows = await session.execute(
            select(Story.id, Story.merged_into).where(
                Story.id.in_(wanted[start : start + 500]), Story.merged_into.is_not(None)
            )
        )
        found.update({int(story): int(into) for story, into in rows if into is not None})
    return found


async def merge_stories(session: AsyncSession, stories: Iterable[int]) -> int:
    """Make these stories one, kept under the oldest; returns its id.

    The oldest survives whichever replica merges, so two merging at once agree. Articles move;
    an alert moves unless the survivor already has the same (rule, channel, round), which
    stays where it was sent: the unique key then stops a third copy from alerting again.
    """
    current = await current_stories(session, stories)
    roots = sorted({current.get(s, s) for s in stories})
    into, others = roots[0], roots[1:]
    if not others:
        return into
    moved = await session.execute(
        select(func.coalesce(func.sum(Story.article_count), 0)).where(Story.id.in_(others))
    )
    await session.execute(
        update(Story)
        .where(or_(Story.id.in_(others), Story.merged_into.in_(others)))
        .values(merged_into=into, article_count=0)
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(Story)
        .where(Story.id == into)
        .values(article_count=Story.article_count + int(moved.scalar_one()))
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(ArticleRow)
        .where(ArticleRow.story_id.in_(others))
        .values(story_id=into)
        .execution_options(synchronize_session=False)
    )
    kept = aliased(AlertRow)
    clash = exists().where(
        and_(
            kept.story_id == into,
            kept.rule == AlertRow.rule,
            kept.channel == AlertRow.channel,
            kept.round == AlertRow.round,
        )
    )
    for other in others:  # one at a time: two of them may hold the same rule's alert
        await session.execute(
            update(AlertRow)
            .where(AlertRow.story_id == other, ~clash)
            .values(story_id=into)
            .execution_options(synchronize_session=False)
        )
    return into
