"""The persistent near-duplicate index: LSH band keys in an indexed table.

A lookup is ``band_key IN (…) AND published >= :since`` on ``(band_key, published)``, capped
per key, so its cost follows the number of similar articles, not the size of the store.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ArticleRow, StorySketchBand
from storage.sql import insert_ignore

PER_KEY_LIMIT = 50


class BandRow(NamedTuple):
    story_id: int
    article_id: int
    sketch: bytes
    published: datetime


async def band_candidates(
    session: AsyncSession, keys: Sequence[int], since: datetime, per_key: int = PER_KEY_LIMIT
) -> list[BandRow]:
    """Stored articles sharing any key, published at or after ``since``, each listed once."""
    if not keys:
        return []
    bands = StorySketchBand
    ranked = (
        select(
            bands.article_id,
            bands.story_id,
            bands.published,
            func.row_number()
            .over(partition_by=bands.band_key, order_by=bands.published.desc())
            .label("rank"),
        )
        .where(bands.band_key.in_(list(set(keys))), bands.published >= since)
        .subquery()
    )
    query = (
        select(ranked.c.story_id, ranked.c.article_id, ArticleRow.sketch, ranked.c.published)
        .join(ArticleRow, ArticleRow.id == ranked.c.article_id)
        .where(ranked.c.rank <= per_key, ArticleRow.sketch.is_not(None))
        .distinct()
    )
    rows = (await session.execute(query)).all()
    seen: dict[int, BandRow] = {}
    for story_id, article_id, sketch, published in rows:
        if sketch is not None:
            seen.setdefault(article_id, BandRow(story_id, article_id, sketch, published))
    return list(seen.values())


async def add_bands(
    session: AsyncSession,
    *,
    story_id: int,
    article_id: int,
    keys: Sequence[int],
    published: datetime,
    replace: bool = False,
) -> None:
    """Index an article under its keys; ``replace`` drops what an earlier version had."""
    if replace:
        await session.execute(
            delete(StorySketchBand).where(StorySketchBand.article_id == article_id)
        )
    rows = [
        {"band_key": key, "article_id": article_id, "story_id": story_id, "published": published}
        for key in dict.fromkeys(keys)
    ]
    if rows:
        await session.execute(insert_ignore(session, StorySketchBand), rows)
