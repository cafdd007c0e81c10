"""Band rows written behind the store transaction (SQLite): what waits is found, survives a
restart or a cut-short flush, and ends up in the index exactly as writing at once puts it."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from alerts.match import Matcher
from daemon.ingest import IngestResult, Pipeline, ingest_articles
from daemon.runtime import Runtime
from daemon.settings import load_settings
from storage import backlog as backlog_module
from storage.articles import NewArticle, create_story, insert_articles, prune_articles
from storage.backlog import BandBacklog, Indexed
from storage.checkpoint import BACKSTOP_PAGES
from storage.engine import create_engine, session_factory
from storage.lane import SqliteLane
from storage.migrate import upgrade
from storage.models import PendingBands, Source, Story, StorySketchBand
from storage.sketches import band_candidates, index_articles
from storage.sources import sync_sources
from storage.types import Article
from tests.support import toml_str
from tests.test_stories import article, kharkiv_rule

Sessions = async_sessionmaker[AsyncSession]


@dataclass
class Store:
    engine: AsyncEngine
    sessions: Sessions
    lane: SqliteLane
    slot: asyncio.Semaphore

    async def ingest(
        self, source: str, items: list[Article], bands: BandBacklog | None
    ) -> IngestResult:
        pipeline = Pipeline(Matcher([kharkiv_rule()]), bands=bands)
        async with self.sessions.begin() as session:
            sid = (await session.execute(select(Source.id).where(Source.name == source))).scalar()
            assert sid is not None
            return await ingest_articles(
                session, source_id=sid, articles=items, pipeline=pipeline, new_only=False
            )

    async def count(self, model: type[Any]) -> int:
        async with self.sessions() as session:
            found = await session.execute(select(func.count()).select_from(model))
            return int(found.scalar_one())

    async def bands(self) -> list[tuple[Any, ...]]:
        query = select(
            StorySketchBand.band_key,
            StorySketchBand.published,
            StorySketchBand.article_id,
            StorySketchBand.story_id,
        ).order_by(StorySketchBand.band_key, StorySketchBand.article_id)
        async with self.sessions() as session:
            return [tuple(row) for row in await session.execute(query)]


@contextlib.asynccontextmanager
async def open_store(path: Path) -> AsyncIterator[Store]:
    engine = create_engine(f"sqlite+aiosqlite:///{path}", background_checkpoints=True)
    lane = SqliteLane(str(path), BACKSTOP_PAGES)
    try:
        await upgrade(engine)
        sessions = session_factory(engine)
        async with sessions.begin() as session:
            await sync_sources(session, "feed", {name: None for name in ("a", "b", "c")})
        yield Store(engine, sessions, lane, asyncio.Semaphore(1))
    finally:
        await lane.close()
        await engine.dispose()


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    async with open_store(tmp_path / "deferred.db") as opened:
        yield opened


@pytest.fixture
async def reference(tmp_path: Path) -> AsyncIterator[Store]:
    """The same schema, written the direct way: what the deferred store must end up as."""
    async with open_store(tmp_path / "direct.db") as opened:
        yield opened


WIRE = ["kharkiv/base", "kharkiv/synd", "odesa/base"]


async def test_waiting_bands_are_found_and_a_flush_writes_what_writing_at_once_writes(
    store: Store, reference: Store
) -> None:
    backlog = BandBacklog(defer=True)
    await store.ingest("a", [article("kharkiv/base")], backlog)
    assert await store.count(StorySketchBand) == 0
    assert (await store.count(PendingBands), len(backlog)) == (1, 1)

    syndicated = await store.ingest("b", [article("kharkiv/synd")], backlog)
    assert syndicated.new == 1 and syndicated.alert_ids == [], "it joined the waiting story"
    await store.ingest("c", [article("odesa/base")], backlog)
    assert await store.count(Story) == 2

    assert await backlog.flush(store.lane, store.slot) == 3
    assert (await store.count(PendingBands), len(backlog)) == (0, 0)
    for source, name in zip("abc", WIRE, strict=True):
        await reference.ingest(source, [article(name)], None)
    assert await store.bands() == await reference.bands()
    assert len(await store.bands()) > 100

    again = await store.ingest("c", [article("kharkiv/synd2")], backlog)
    assert again.alert_ids == [] and await store.count(Story) == 2, "found in the index now"


async def test_a_rolled_back_group_leaves_nothing_waiting(store: Store) -> None:
    backlog = BandBacklog(defer=True)
    pipeline = Pipeline(Matcher([]), bands=backlog)
    with pytest.raises(RuntimeError, match="cut short"):
        async with store.sessions.begin() as session:
            sid = (await session.execute(select(Source.id).where(Source.name == "a"))).scalar()
            assert sid is not None
            await ingest_articles(
                session, source_id=sid, articles=[article("kharkiv/base")], pipeline=pipeline
            )
            assert len(backlog) == 0, "nothing is visible before the commit"
            raise RuntimeError("cut short")
    assert len(backlog) == 0
    # A story id from the rolled-back group would make this insert fail its foreign key.
    result = await store.ingest("b", [article("kharkiv/synd")], backlog)
    assert result.new == 1 and len(result.alert_ids) == 2
    assert (await store.count(Story), await store.count(PendingBands)) == (1, 1)


async def test_a_restart_reads_the_waiting_bands_back(store: Store, reference: Store) -> None:
    await store.ingest("a", [article("kharkiv/base")], BandBacklog(defer=True))
    restarted = BandBacklog(defer=True)  # the process that wrote it is gone
    async with store.sessions() as session:
        assert await restarted.load(session) == 1
    joined = await store.ingest("b", [article("kharkiv/synd")], restarted)
    assert joined.alert_ids == [] and await store.count(Story) == 1
    assert await restarted.flush(store.lane, store.slot) == 2
    for source, name in zip("ab", WIRE[:2], strict=True):
        await reference.ingest(source, [article(name)], None)
    assert await store.bands() == await reference.bands()


async def test_a_flush_cut_short_is_written_whole_by_the_next_one(
    store: Store, reference: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    backlog = BandBacklog(defer=True)
    for source, name in zip("abc", WIRE, strict=True):
        await store.ingest(source, [article(name)], backlog)
    write = backlog_module._write_range
    calls: list[int] = []

    def failing_third(first: int, stop: int, connection: Any) -> None:
        calls.append(first)
        if len(calls) == 3:
            raise OSError("disk full")
        write(first, stop, connection)

    monkeypatch.setattr(backlog_module, "ROWS_PER_RANGE", 40)
    monkeypatch.setattr(backlog_module, "_write_range", failing_third)
    with pytest.raises(OSError, match="disk full"):
        await backlog.flush(store.lane, store.slot)
    assert await store.count(StorySketchBand) == 80, "the first two ranges stay committed"
    assert (await store.count(PendingBands), len(backlog)) == (3, 3)

    monkeypatch.setattr(backlog_module, "_write_range", write)
    assert await backlog.flush(store.lane, store.slot) == 3
    for source, name in zip("abc", WIRE, strict=True):
        await reference.ingest(source, [article(name)], None)
    assert await store.bands() == await reference.bands()
    assert await store.count(PendingBands) == 0


async def test_an_updated_article_waits_with_its_new_keys_only(
    store: Store, reference: Store
) -> None:
    corrected = article("kharkiv/update", guid="kharkiv/base")
    for target, bands in ((store, BandBacklog(defer=True)), (reference, None)):
        await target.ingest("a", [article("kharkiv/base")], bands)
        if bands is not None:
            await bands.flush(target.lane, target.slot)
        updated = await target.ingest("a", [corrected], bands)
        assert updated.updated == 1
        if bands is not None:
            assert (await target.count(PendingBands), len(bands)) == (1, 1)
            assert await bands.flush(target.lane, target.slot) == 1
    assert await store.bands() == await reference.bands()


async def test_the_per_key_limit_counts_stored_and_waiting_articles_together(
    store: Store,
) -> None:
    backlog = BandBacklog(defer=True)
    start = datetime(2026, 3, 2, tzinfo=UTC)
    async with store.sessions.begin() as session:
        sid = (await session.execute(select(Source.id))).scalars().first()
        assert sid is not None
        story = await create_story(session, "Shared key")
        items = [
            NewArticle(sid, story, f"k{n}", None, None, b"s", Article(title=f"{n}"))
            for n in range(60)
        ]
        ids = await insert_articles(session, items)
    indexed = [
        Indexed(story, ids[(sid, f"k{n}")], [7, 1000 + n], start + timedelta(minutes=n), b"s")
        for n in range(60)
    ]
    # Every third article is in the index already, the rest wait.
    async with store.sessions.begin() as session:
        await index_articles(session, [a for n, a in enumerate(indexed) if not n % 3])
        await backlog.add(session, [a for n, a in enumerate(indexed) if n % 3])
    assert await store.count(StorySketchBand) == 40
    assert len(backlog) == 40

    async with store.sessions() as session:
        found = await band_candidates(session, [7], start, per_key=50, backlog=backlog)
    newest = {a.article_id for a in indexed[10:]}
    assert {row.article_id for row in found} == newest


async def test_the_daemon_runtime_flushes_in_the_background_and_on_close(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(backlog_module, "FLUSH_SECONDS", 0.5)
    monkeypatch.setattr(backlog_module, "CHECK_SECONDS", 0.1)
    database = tmp_path / "newswatch.db"
    path = tmp_path / "settings.toml"
    path.write_text(
        f"[daemon]\ndatabase = {toml_str(f'sqlite+aiosqlite:///{database}')}\n"
        '[[drops]]\nname = "a"\npath = "drops"\n',
        encoding="utf-8",
    )
    runtime = await Runtime.open(load_settings(path, env={}), defer_bands=True)
    assert runtime.bands is not None and runtime.lane is not None
    store = Store(runtime.engine, runtime.sessions, runtime.lane, runtime.write_slot)
    try:
        await store.ingest("a", [article("kharkiv/base")], runtime.bands)
        assert await store.count(PendingBands) == 1
        assert await eventually(lambda: len(runtime.bands or ()) == 0, within=10.0)
        assert await store.count(PendingBands) == 0
        assert await store.count(StorySketchBand) > 50
        await store.ingest("a", [article("odesa/base")], runtime.bands)
    finally:
        monkeypatch.setattr(backlog_module, "FLUSH_SECONDS", 3600.0)
        await runtime.close()
    async with open_store(database) as reopened:
        assert await reopened.count(PendingBands) == 0, "close wrote what was waiting"


async def eventually(check: Callable[[], bool], within: float) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not check():
        if loop.time() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


async def test_bands_another_process_wrote_leave_memory_at_the_next_flush(store: Store) -> None:
    daemon, command = BandBacklog(defer=True), BandBacklog(defer=True)
    await store.ingest("a", [article("kharkiv/base")], daemon)
    async with store.sessions() as session:
        await command.load(session)
    assert await command.flush(store.lane, store.slot) == 1  # as ``newswatch ingest`` closes
    assert len(daemon) == 1 and daemon.due(now=float("inf"))
    assert await daemon.flush(store.lane, store.slot) == 0
    assert len(daemon) == 0 and not daemon.due(now=float("inf"))


async def test_a_flush_is_due_by_the_oldest_article_still_waiting(store: Store) -> None:
    backlog = BandBacklog(defer=True)
    first = time.monotonic()
    await store.ingest("a", [article("kharkiv/base")], backlog)
    await asyncio.sleep(0.5)
    await store.ingest("c", [article("odesa/base")], backlog)
    assert not backlog.due(now=first + backlog_module.FLUSH_SECONDS - 1)
    assert backlog.due(now=first + backlog_module.FLUSH_SECONDS + 0.2)
    assert await backlog.flush(store.lane, store.slot, limit=1) == 1
    # What is left came half a second later, and is not due yet at the same moment.
    assert not backlog.due(now=first + backlog_module.FLUSH_SECONDS + 0.2)
    assert backlog.due(now=first + backlog_module.FLUSH_SECONDS + 1.0)


async def test_an_article_listed_twice_under_a_key_is_found_once_and_forgotten_whole(
    store: Store,
) -> None:
    backlog = BandBacklog(defer=True)
    await store.ingest("a", [article("kharkiv/base")], backlog)
    [entry] = backlog.waiting()
    async with store.sessions.begin() as session:
        doubled = entry._replace(keys=[*entry.keys, entry.keys[0]])
        await backlog.add(session, [doubled])
    since = entry.published - timedelta(days=1)
    assert [hit[2] for hit in backlog.hits([entry.keys[0]], since)] == [entry.article_id]
    assert await backlog.flush(store.lane, store.slot) == 1
    assert len(backlog) == 0 and backlog.hits(entry.keys, since) == []


async def test_articles_sharing_a_key_stay_found_as_each_is_written(store: Store) -> None:
    backlog = BandBacklog(defer=True)
    await store.ingest("a", [article("kharkiv/base")], backlog)
    await store.ingest("b", [article("kharkiv/synd")], backlog)
    first, second = backlog.waiting()
    shared = set(first.keys) & set(second.keys)
    assert shared, "the syndicated copy shares keys with the original"
    since = first.published - timedelta(days=7)
    assert {hit[2] for hit in backlog.hits(shared, since)} == {first.article_id, second.article_id}
    assert await backlog.flush(store.lane, store.slot, limit=1) == 1
    assert {hit[2] for hit in backlog.hits(shared, since)} == {second.article_id}
    assert await backlog.flush(store.lane, store.slot) == 1
    assert backlog.hits(shared, since) == []
    assert not any(backlog._single) and not any(backlog._shared)


async def test_the_key_index_stays_out_of_the_garbage_collectors_sight(store: Store) -> None:
    """A full collection walks a tracked dict whole, 700,000 keys for 10,000 waiting
    articles, which paused the event loop for up to 48 ms each time; it untracks a dict of
    plain values again, but the next shared key made it tracked until the next one."""
    backlog = BandBacklog(defer=True)
    await store.ingest("a", [article("kharkiv/base")], backlog)
    gc.collect()
    await store.ingest("b", [article("kharkiv/synd")], backlog)
    first, second = backlog.waiting()
    assert set(first.keys) & set(second.keys), "near-duplicates share keys"
    assert not any(gc.is_tracked(shard) for shard in backlog._single)


async def test_the_key_index_gives_its_peak_memory_back_once_everything_is_written() -> None:
    backlog = BandBacklog(defer=True)
    published = datetime(2026, 1, 1, tzinfo=UTC)
    for n in range(400):
        keys = [n * 1_000 + k for k in range(64)]
        backlog._put(Indexed(1, n + 1, keys, published, b""), backlog_module.pack_keys(keys))
    empty = sys.getsizeof({})
    assert sum(sys.getsizeof(shard) for shard in backlog._single) > 100 * empty
    await backlog._forget(range(1, 401))
    assert len(backlog) == 0
    assert all(sys.getsizeof(shard) == empty for shard in backlog._single + backlog._shared)


async def test_an_article_pruned_while_its_bands_are_flushed_leaves_none_behind(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Retention may delete articles between two of a flush's ranges; the band table has no
    foreign key that would refuse the ranges written after, so the flush removes them."""
    backlog = BandBacklog(defer=True)
    for source, name in zip("abc", WIRE, strict=True):
        await store.ingest(source, [article(name)], backlog)
    sessions = store.sessions

    class PruningSlot(asyncio.Semaphore):
        """The write slot, with retention taking its turn after the first range."""

        turns = 0

        async def acquire(self) -> Literal[True]:
            self.turns += 1
            if self.turns == 3:  # the read of pending_bands, the first range: then this
                async with sessions.begin() as session:
                    assert await prune_articles(session, datetime.now(UTC) + timedelta(1)) == 3
            return await super().acquire()

    monkeypatch.setattr(backlog_module, "ROWS_PER_RANGE", 40)
    slot = PruningSlot(1)
    assert await backlog.flush(store.lane, slot) == 3
    assert slot.turns > 4, "ranges were written after the prune"
    assert await store.count(StorySketchBand) == 0
    assert await store.count(PendingBands) == 0
