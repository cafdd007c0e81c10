"""Band rows written behind the store transaction, many articles at a time and in key order.

An article has some 67 band rows under random keys, so a store group of 70 articles changed
about 5,000 pages scattered over the band index, and each commit wrote, and each checkpoint
copied, every one of them: per 5,000 new articles against an index of 1.7 million rows, SQLite
spent 3.8 s inserting bands, 3.4 s committing and 1.9 s checkpointing, most of its work in a
poll round. Here a store transaction writes one ``pending_bands`` row per article (its keys as
one JSON array, appended at the end of the table) and the backlog keeps the same rows in memory,
where lookups find them. A flush later writes a few thousand articles' bands in key order, a
key range per transaction, so each page of the index is written once for the many rows that
land on it, and the store writer gets its turn between two ranges.

The memory follows committed rows only: an article enters it when its transaction commits (a
rolled-back group leaves nothing behind) and leaves once a flush has written it. A crash loses
nothing: the next start reads ``pending_bands`` back, and a flush cut short is written again
(band rows already there are skipped). Bands are deferred on SQLite, where one daemon writes
the file; PostgreSQL replicas must see each other's articles at once, so there the bands are
written in the store transaction.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import time
from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import partial
from typing import NamedTuple

from sqlalchemy import delete, event, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from storage.lane import SqliteLane
from storage.models import ArticleRow, PendingBands, StorySketchBand
from storage.periodic import Periodic
from storage.sql import bind_processors, sqlite_many

log = logging.getLogger("newswatch.storage")
# A flush starts once this many articles wait, or the oldest has waited FLUSH_SECONDS.
FLUSH_ARTICLES = 2_500
FLUSH_SECONDS = 15.0
CHECK_SECONDS = 1.0
# Band rows per flush transaction: about a fifth of a second of SQLite's time, after which
# the store writer may take the write slot.
ROWS_PER_RANGE = 16_000
ROWS_PER_STATEMENT = 500
FORGET_STEP = 250
SHARDS = 256  # a power of two: a key's shard is its low bits
_STAGED = "newswatch.pending_bands"


class Indexed(NamedTuple):
    """A stored article as the band index knows it."""

    story_id: int
    article_id: int
    keys: Sequence[int]
    published: datetime
    sketch: bytes


# story, keys, published, sketch, the hash of the keys as pending_bands holds them (the text
# itself is 1.5 KB an article, 30 MB of a first poll's backlog), monotonic arrival time
_Entry = tuple[int, tuple[int, ...], datetime, bytes, int, float]
# (key, story, article, sketch, published): the shape of a band lookup's rows.
BandHit = tuple[int, int, int, bytes, datetime]


def pack_keys(keys: Iterable[int]) -> str:
    """A JSON array, which SQLite's ``json_each`` turns into rows for the flush."""
    return json.dumps(list(dict.fromkeys(keys)), separators=(",", ":"))


def unpack_keys(text: str) -> tuple[int, ...]:
    return tuple(json.loads(text))


def bands_insert_sql(values: str) -> str:
    return (
        f"INSERT INTO {StorySketchBand.__tablename__} "
        f"(band_key, published, article_id, story_id) VALUES {values} ON CONFLICT DO NOTHING"
    )


class BandBacklog:
    """Articles whose bands wait in ``pending_bands``, kept in memory for lookups.

    ``defer``: new articles' bands wait here; without it (a short-lived command beside a
    running daemon) bands are written at once, and the backlog only lets lookups see what
    the daemon has not flushed yet.
    """

    def __init__(self, *, defer: bool) -> None:
        self.defer = defer
        # article -> (story, keys, published, sketch, hash of keys as stored, arrival), in
        # arrival order: plain tuples of untracked values, which the garbage collector stops
        # walking (a NamedTuple is walked for as long as it lives).
        self._entries: dict[int, _Entry] = {}
        # key -> its one article, and key -> the articles sharing it (near-duplicates), each
        # split over SHARDS dicts by the key's low bits. With 10,000 articles waiting there
        # are 700,000 keys: as one dict, growing it copied them all in one go (a 55-80 ms
        # stall of the event loop, every 20 s of a first poll), and while a tuple value made
        # it tracked every full collection walked it whole (up to 48 ms). Shards of a few
        # thousand keys grow in microseconds, and ``_single`` holds only ints, so the
        # garbage collector never tracks it.
        self._single: list[dict[int, int]] = [{} for _ in range(SHARDS)]
        self._shared: list[dict[int, tuple[int, ...]]] = [{} for _ in range(SHARDS)]
        self._rounds: Periodic | None = None
        self._flushing = asyncio.Lock()  # one flush at a time: the background one or a drain

    def __len__(self) -> int:
        return len(self._entries)

    async def load(self, session: AsyncSession) -> int:
        """Read back what waits in the table (after a restart, or another process's)."""
        rows = await session.execute(
            select(
                PendingBands.story_id,
                PendingBands.article_id,
                PendingBands.keys,
                PendingBands.published,
                ArticleRow.sketch,
            )
            .join(ArticleRow, ArticleRow.id == PendingBands.article_id)
            .where(ArticleRow.sketch.is_not(None))
        )
        for story_id, article_id, keys, published, sketch in rows:
            assert sketch is not None  # the query asks for it
            self._put(Indexed(story_id, article_id, unpack_keys(keys), published, sketch), keys)
        return len(self._entries)

    def hits(self, keys: Iterable[int], since: datetime) -> list[BandHit]:
        """Band-lookup rows for waiting articles published at or after ``since``."""
        found: list[BandHit] = []
        single, shared, mask = self._single, self._shared, SHARDS - 1
        for key in keys:
            owner = single[key & mask].get(key)
            for article_id in shared[key & mask].get(key, ()) if owner is None else (owner,):
                story_id, _, published, sketch, _, _ = self._entries[article_id]
                if published >= since:
                    found.append((key, story_id, article_id, sketch, published))
        return found

    def waiting(self) -> list[Indexed]:
        """The articles in memory, oldest first."""
        return [
            Indexed(story, article_id, keys, published, sketch)
            for article_id, (story, keys, published, sketch, _, _) in self._entries.items()
        ]

    async def add(self, session: AsyncSession, articles: Sequence[Indexed]) -> None:
        """Queue the articles' bands in the caller's transaction; lookups see them once it
        commits."""
        if not articles:
            return
        connection = await session.connection()
        [stamp] = bind_processors(connection.dialect, PendingBands, ["published"])
        packed = [pack_keys(a.keys) for a in articles]
        rows = [
            (a.article_id, a.story_id, stamp(a.published) if stamp else a.published, keys)
            for a, keys in zip(articles, packed, strict=True)
        ]
        await sqlite_many(connection, _pending_sql, rows, ROWS_PER_STATEMENT)
        self._staged(session).extend(zip(articles, packed, strict=True))

    async def forget(self, session: AsyncSession, article_id: int) -> None:
        """Drop an article's waiting bands (it is being re-indexed) in the caller's
        transaction."""
        await session.execute(delete(PendingBands).where(PendingBands.article_id == article_id))
        self._staged(session).append(article_id)

    def _staged(self, session: AsyncSession) -> list[tuple[Indexed, str] | int]:
        """What the session's transaction changes here, applied when it commits (by the
        listeners below, registered once: a listener per session made SQLAlchemy's event
        registry clean up after every session in the garbage collector's pauses)."""
        info = session.sync_session.info
        staged: _Staged | None = info.get(_STAGED)
        if staged is None:
            staged = info[_STAGED] = (self, [])
        return staged[1]

    def _apply(self, changes: Sequence[tuple[Indexed, str] | int]) -> None:
        for change in changes:
            if isinstance(change, int):
                self._remove(change)
            else:
                self._put(*change)

    def _put(self, entry: Indexed, packed: str) -> None:
        article_id = entry.article_id
        self._remove(article_id)
        keys = tuple(dict.fromkeys(entry.keys))  # each key listed once
        arrived = time.monotonic()
        self._entries[article_id] = (
            entry.story_id,
            keys,
            entry.published,
            entry.sketch,
            hash(packed),
            arrived,
        )
        mask = SHARDS - 1
        for key in keys:
            single, shared = self._single[key & mask], self._shared[key & mask]
            owner = single.pop(key, None)
            if owner is not None:
                shared[key] = (owner, article_id)
            elif (owners := shared.get(key)) is not None:
                shared[key] = (*owners, article_id)
            else:
                single[key] = article_id

    def _remove(self, article_id: int) -> None:
        entry = self._entries.pop(article_id, None)
        if entry is None:
            return
        mask = SHARDS - 1
        for key in entry[1]:
            single, shared = self._single[key & mask], self._shared[key & mask]
            if single.get(key) == article_id:
                del single[key]
            elif (owners := shared.get(key)) is not None:
                left = tuple(owner for owner in owners if owner != article_id)
                if len(left) > 1:
                    shared[key] = left
                else:
                    del shared[key]
                    if left:
                        single[key] = left[0]

    def due(self, now: float | None = None) -> bool:
        """Enough waits for a flush to pay, or the oldest has waited long enough."""
        oldest = next(iter(self._entries.values()), None)
        if oldest is None:
            return False
        waited = (time.monotonic() if now is None else now) - oldest[5]
        return len(self._entries) >= FLUSH_ARTICLES or waited >= FLUSH_SECONDS

    async def flush(
        self, lane: SqliteLane, slot: asyncio.Semaphore, limit: int = FLUSH_ARTICLES
    ) -> int:
        """Write up to ``limit`` waiting articles' bands (oldest first), a key range per
        transaction, each taken under the write ``slot``; returns how many articles."""
        async with self._flushing:
            return await self._flush(lane, slot, limit)

    async def _flush(self, lane: SqliteLane, slot: asyncio.Semaphore, limit: int) -> int:
        known = set(self._entries)  # committed, so in the table unless written or deleted
        async with slot:
            waiting, rows = await lane.transaction(partial(_take_pending, limit))
        if len(waiting) < limit:
            # The read saw every waiting row: what memory holds beyond them another process
            # (``newswatch ingest``) has written, or retention has deleted.
            await self._forget(known.difference(article_id for article_id, _ in waiting))
        if not waiting:
            return 0
        for first in range(1, rows + 1, ROWS_PER_RANGE):
            async with slot:
                await lane.transaction(partial(_write_range, first, first + ROWS_PER_RANGE))
        async with slot:
            await lane.transaction(_clear_pending)
        # Only what was read leaves the memory: an article re-indexed meanwhile has a new row,
        # which the clearing kept (its keys differ) and memory still holds.
        await self._forget(a for a, keys in waiting if self._holds(a, keys))
        return len(waiting)

    def _holds(self, article_id: int, keys: str) -> bool:
        """Memory holds the article with these keys as stored (not a newer indexing)."""
        entry = self._entries.get(article_id)
        return entry is not None and entry[4] == hash(keys)

    async def _forget(self, article_ids: Iterable[int]) -> None:
        """Drop entries from memory, giving the event loop a turn now and then: a flush's
        2,500 articles took the loop 50-150 ms in one go."""
        for done, article_id in enumerate(list(article_ids), 1):
            self._remove(article_id)
            if done % FORGET_STEP == 0:
                await asyncio.sleep(0)
        if not self._entries:
            # A dict never shrinks as keys leave it: after a first poll's backlog the shards
            # held tables sized for its peak (53 MB at 2,000 feeds), empty, until the next.
            self._single = [{} for _ in range(SHARDS)]
            self._shared = [{} for _ in range(SHARDS)]

    def start(self, lane: SqliteLane, slot: asyncio.Semaphore) -> None:
        """Flush in the background whenever ``due`` (only when deferring)."""
        if self.defer and self._rounds is None:
            self._rounds = Periodic(
                "band flush", partial(self._flush_round, lane, slot), CHECK_SECONDS, self.due
            )
            self._rounds.start()

    async def _flush_round(self, lane: SqliteLane, slot: asyncio.Semaphore) -> int:
        """A flush of ``FLUSH_ARTICLES`` at most, however many wait: flushes of up to 8,000
        kept pace no better on a first poll of 2,000 feeds, and left 64 MB more waiting in
        memory at its peak."""
        return await self.flush(lane, slot)

    async def close(self, lane: SqliteLane, slot: asyncio.Semaphore) -> None:
        """Stop, then write everything still waiting, so a restart has nothing to redo."""
        if self._rounds is None or not await self._rounds.stop():
            return
        try:
            await self.drain(lane, slot)
        except Exception as exc:  # nothing is lost: the next start reads the rows back
            log.warning("last band flush failed (the next start writes them): %r", exc)

    async def drain(self, lane: SqliteLane, slot: asyncio.Semaphore) -> int:
        """Flush until nothing waits; returns how many articles."""
        total = 0
        while written := await self.flush(lane, slot):
            total += written
        return total


_Staged = tuple[BandBacklog, list[tuple[Indexed, str] | int]]


@event.listens_for(Session, "after_commit")
def _committed(sync: Session) -> None:
    staged: _Staged | None = sync.info.get(_STAGED)
    if staged:
        backlog, changes = staged
        backlog._apply(changes)
        changes.clear()


@event.listens_for(Session, "after_rollback")
def _discarded(sync: Session) -> None:
    staged: _Staged | None = sync.info.get(_STAGED)
    if staged:
        staged[1].clear()


def _pending_sql(values: str) -> str:
    return (
        f"INSERT INTO {PendingBands.__tablename__} (article_id, story_id, published, keys) "
        f"VALUES {values} ON CONFLICT (article_id) DO UPDATE SET "
        "story_id = excluded.story_id, published = excluded.published, keys = excluded.keys"
    )


# The flush works in two tables of the lane connection's own (in memory, never logged):
# what it took from pending_bands, and those articles' band rows in key order, numbered, so
# each range is a slice by number. SQLite unpacks and sorts them, without the GIL.
_TAKEN = "newswatch_flush_taken"
_SORTED = "newswatch_flush_sorted"
_PENDING = PendingBands.__tablename__


def _take_pending(limit: int, connection: sqlite3.Connection) -> tuple[list[tuple[int, str]], int]:
    """The oldest ``limit`` waiting articles, and how many band rows they make."""
    connection.execute("PRAGMA temp_store=MEMORY")
    connection.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {_TAKEN} "
        "(article_id INTEGER PRIMARY KEY, story_id, published, keys)"
    )
    connection.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {_SORTED} "
        "(n INTEGER PRIMARY KEY, band_key, published, article_id, story_id)"
    )
    connection.execute(f"DELETE FROM {_TAKEN}")
    connection.execute(f"DELETE FROM {_SORTED}")
    connection.execute(
        f"INSERT INTO {_TAKEN} SELECT article_id, story_id, published, keys FROM {_PENDING} "
        "ORDER BY article_id LIMIT ?",
        (limit,),
    )
    connection.execute(
        f"INSERT INTO {_SORTED} (band_key, published, article_id, story_id) "
        f"SELECT key.value, t.published, t.article_id, t.story_id "
        f"FROM {_TAKEN} AS t, json_each(t.keys) AS key ORDER BY 1, 3"
    )
    taken = connection.execute(f"SELECT article_id, keys FROM {_TAKEN}").fetchall()
    [(rows,)] = connection.execute(f"SELECT count(*) FROM {_SORTED}").fetchall()
    return [(int(article_id), str(keys)) for article_id, keys in taken], int(rows)


def _write_range(first: int, stop: int, connection: sqlite3.Connection) -> None:
    connection.execute(
        f"INSERT INTO {StorySketchBand.__tablename__} "
        "(band_key, published, article_id, story_id) "
        f"SELECT band_key, published, article_id, story_id FROM {_SORTED} "
        "WHERE n >= ? AND n < ? ORDER BY n ON CONFLICT DO NOTHING",
        (first, stop),
    )


def _clear_pending(connection: sqlite3.Connection) -> None:
    """Delete exactly the rows that were written: same article, same keys. An article that
    retention deleted while the flush ran (between two ranges) had its bands deleted before
    some were written: the band table has no foreign key to refuse them, so they go here."""
    connection.execute(
        f"DELETE FROM {_PENDING} WHERE EXISTS (SELECT 1 FROM {_TAKEN} AS t "
        f"WHERE t.article_id = {_PENDING}.article_id AND t.keys = {_PENDING}.keys)"
    )
    connection.execute(
        f"DELETE FROM {StorySketchBand.__tablename__} WHERE article_id IN (SELECT article_id "
        f"FROM {_TAKEN} WHERE article_id NOT IN (SELECT id FROM {ArticleRow.__tablename__}))"
    )
