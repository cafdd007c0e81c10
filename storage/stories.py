"""Stories as users browse them: the newest first, each with its articles in arrival order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ArticleRow, Source, Story


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
