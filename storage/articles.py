"""Articles and the stories they belong to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ArticleRow, Story, utcnow
from storage.sql import insert_ignore
from storage.types import Article


@dataclass(frozen=True, slots=True)
class Stored:
    """What storage decided about an incoming article."""

    article_id: int
    story_id: int
    new_story: bool


def article_values(article: Article) -> dict[str, Any]:
    captured = article.captured
    return {
        "url": article.url,
        "title": article.title,
        "authors": list(article.authors),
        "published": article.published,
        "captured": captured.isoformat() if isinstance(captured, date | datetime) else None,
        "section": article.section,
        "tags": list(article.tags),
        "lead": article.lead,
        "body": list(article.body),
        "images": [
            {"caption": i.caption, "credit": i.credit, "url": i.url} for i in article.images
        ],
        "reading_time": article.reading_time,
        "language": article.language,
        "extra": dict(article.extra),
    }


async def store_article(
    session: AsyncSession,
    *,
    source_id: int,
    item_key: str,
    content_hash: str,
    article: Article,
    story_id: int | None = None,
) -> Stored | None:
    """Insert the article unless (source, item_key) exists; None means "seen before".

    Without an explicit ``story_id`` it joins the story of an article with the same content
    hash (the same text under another URL or from another source), else starts a story.
    """
    values = {
        "source_id": source_id,
        "item_key": item_key,
        "content_hash": content_hash,
        "story_id": 0,
        **article_values(article),
    }
    existing = await session.execute(
        select(ArticleRow.id).where(
            ArticleRow.source_id == source_id, ArticleRow.item_key == item_key
        )
    )
    if existing.first() is not None:
        return None
    new_story = False
    if story_id is None:
        story_id = await story_by_content(session, content_hash)
    if story_id is None:
        story_id = await create_story(session, article.title)
        new_story = True
    else:
        await touch_story(session, story_id)
    values["story_id"] = story_id
    stmt = insert_ignore(session, ArticleRow).values(values)
    result = await session.execute(stmt.returning(ArticleRow.id))
    row = result.first()
    if row is None:
        return None
    return Stored(article_id=int(row[0]), story_id=story_id, new_story=new_story)


async def story_by_content(session: AsyncSession, content_hash: str) -> int | None:
    result = await session.execute(
        select(ArticleRow.story_id).where(ArticleRow.content_hash == content_hash).limit(1)
    )
    return result.scalar_one_or_none()


async def create_story(session: AsyncSession, title: str) -> int:
    story = Story(title=title)
    session.add(story)
    await session.flush()
    return story.id


async def touch_story(session: AsyncSession, story_id: int) -> None:
    await session.execute(
        update(Story)
        .where(Story.id == story_id)
        .values(updated_at=utcnow(), article_count=Story.article_count + 1)
    )
