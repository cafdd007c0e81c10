"""The ``SketchIndex`` over the database, for the live pipeline (the memory one is for tests)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from daemon.dedup.index import Candidate
from daemon.dedup.sketch import Sketch
from storage import sketches


class SqlSketchIndex:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def candidates(self, keys: Sequence[int], since: datetime) -> list[Candidate]:
        rows = await sketches.band_candidates(self.session, keys, since)
        return [
            Candidate(r.story_id, r.article_id, Sketch.from_bytes(r.sketch), r.published)
            for r in rows
        ]

    async def add(
        self,
        story_id: int,
        article_id: int,
        keys: Sequence[int],
        sketch: Sketch,
        published: datetime,
    ) -> None:
        # The sketch itself is stored on the article row, written by the caller.
        await sketches.add_bands(
            self.session, story_id=story_id, article_id=article_id, keys=keys, published=published
        )
