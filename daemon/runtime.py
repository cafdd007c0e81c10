"""What every command that touches the database needs, built once from the settings."""

from __future__ import annotations

import asyncio
import gc
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from alerts.channels import Channel, build_channel, build_flows
from alerts.match import Matcher
from alerts.outbox import DeliveryWorker
from alerts.regions import Gazetteer
from daemon import metrics
from daemon.dedup import DedupSettings, StoryDecider
from daemon.drops import DropScanner
from daemon.feeds.poll import FeedDispatcher
from daemon.ingest import Pipeline
from daemon.rulecheck import build_matcher, gazetteer_for
from daemon.settings import DropSettings, Settings
from storage.articles import prune_articles
from storage.backlog import BandBacklog
from storage.checkpoint import BACKSTOP_PAGES, Checkpointer
from storage.engine import create_engine, session_factory
from storage.feeds import sync_feeds
from storage.lane import SqliteLane
from storage.migrate import upgrade
from storage.sources import sync_sources

log = logging.getLogger("newswatch.daemon")
# Net new objects between collections of the youngest generation (see settle_heap); at a
# few hundred bytes each, the garbage that can wait for one is a few megabytes.
YOUNG_OBJECTS = 20_000


def settle_heap() -> None:
    """Take what start-up built (modules, the gazetteer, compiled rules) out of the garbage
    collector's sight. A full collection walks every live object: over that heap it paused
    the event loop for 80-100 ms each time, longer than a fetch may wait. Run again after a
    settings reload, whose compiled rules (10,000 rules: 260,000 objects) would bring the
    pauses back. What is built later is still collected as usual; frozen objects that fall
    out of use (the rules a reload replaced) are freed by their reference counts.

    The youngest generation is collected every YOUNG_OBJECTS new objects instead of every
    700: a round of 2,000 304s made a hundred collections of objects its reference counts
    would free a moment later anyway, a tenth of the round's time on the event loop."""
    gc.collect()
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_OBJECTS, middle, oldest)


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    pipeline: Pipeline
    worker: DeliveryWorker
    drop_ids: dict[str, int]
    feed_ids: dict[str, int] = field(default_factory=dict)
    gazetteer: Gazetteer | None = None
    checkpointer: Checkpointer | None = None
    lane: SqliteLane | None = None  # the poller's claims and results, on SQLite
    bands: BandBacklog | None = None  # new articles' bands waiting to be written, on SQLite
    # SQLite has one writer: store groups, claims, band flushes, drops and delivery marks take
    # turns here instead of meeting in SQLite's busy handler (``storage.lane.writing``).
    write_slot: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(1))

    @classmethod
    async def open(cls, settings: Settings, *, defer_bands: bool = False) -> Runtime:
        """Compile rules, connect, migrate the schema to the newest version, mirror sources.

        ``defer_bands`` (a long-running process on a SQLite file): new articles' band rows
        are written in bulk by a background flush (``storage.backlog``), which ``close``
        finishes. Without it bands are written at once, and lookups still see what a running
        daemon has not flushed yet.
        """
        gazetteer = await asyncio.to_thread(gazetteer_for, settings)
        matcher = await asyncio.to_thread(build_matcher, settings, gazetteer)
        engine = create_engine(settings.database_url, background_checkpoints=True)
        lane = SqliteLane.for_url(settings.database_url, BACKSTOP_PAGES)
        bands = BandBacklog(defer=defer_bands) if lane is not None else None
        write_slot = asyncio.Semaphore(1)
        try:
            await upgrade(engine)
            sessions = session_factory(engine)
            drop_ids, feed_ids = await _sync(sessions, settings)
            if bands is not None:
                async with sessions() as session:
                    await bands.load(session)
        except BaseException:
            await engine.dispose()
            raise
        worker = DeliveryWorker(
            sessions,
            _channels(settings),
            schedule=settings.delivery.retry_schedule,
            batch_size=settings.delivery.batch_size,
            concurrency=settings.delivery.concurrency,
            lease_seconds=settings.delivery.lease,
            flows=build_flows(settings.channels),
            on_attempt=metrics.delivery_attempted,
            write_slot=write_slot if lane is not None else None,
        )
        pipeline = Pipeline(matcher, story_decider(settings), bands)
        checkpointer = None
        if engine.dialect.name == "sqlite":
            checkpointer = Checkpointer(engine)
            checkpointer.start()
        runtime = cls(
            settings,
            engine,
            sessions,
            pipeline,
            worker,
            drop_ids,
            feed_ids,
            gazetteer,
            checkpointer,
            lane,
            bands,
            write_slot,
        )
        if lane is not None and bands is not None:
            bands.start(lane, runtime.write_slot)
        return runtime

    async def prepare(self, settings: Settings) -> Matcher:
        """Compile the rules of new settings (loading the gazetteer only if now needed);
        raises SettingsError and changes nothing when they are wrong."""
        if self.gazetteer is None:
            self.gazetteer = await asyncio.to_thread(gazetteer_for, settings)
        return await asyncio.to_thread(build_matcher, settings, self.gazetteer)

    async def apply(self, settings: Settings, matcher: Matcher) -> None:
        """Switch to validated new settings: rules, sources and channels, without a restart.

        Work already running finishes with the objects it started with; the next article is
        matched by the new rules.
        """
        self.drop_ids, self.feed_ids = await _sync(self.sessions, settings)
        if settings.channels != self.settings.channels:
            old = self.worker.channels
            self.worker.channels = _channels(settings)
            self.worker.flows = build_flows(settings.channels)
            await asyncio.gather(*(c.close() for c in old.values()))
        self.settings = settings
        self.pipeline = Pipeline(matcher, story_decider(settings), self.bands)

    async def flush_bands(self) -> int:
        """Write every waiting article's bands now (see ``storage.backlog``)."""
        if self.bands is None or self.lane is None:
            return 0
        return await self.bands.drain(self.lane, self.write_slot)

    @property
    def turns(self) -> asyncio.Semaphore | None:
        """The write slot for writers that take it only on SQLite (``storage.lane.writing``);
        on PostgreSQL they write side by side."""
        return self.write_slot if self.lane is not None else None

    @property
    def matcher(self) -> Matcher:
        return self.pipeline.matcher

    async def prune(self) -> int:
        """Drop articles past ``[dedup] retention`` with their sketches; stories and alerts stay."""
        before = datetime.now(UTC) - timedelta(seconds=self.settings.dedup.retention)
        async with self.sessions.begin() as session:
            removed = await prune_articles(session, before)
        if removed:
            log.info("retention removed=%d before=%s", removed, before.isoformat())
        return removed

    def scanner(
        self, drop: DropSettings, source_id: int | None = None, *, quarantine: bool = True
    ) -> DropScanner:
        """A scanner for one drop; without ``quarantine`` bad files are reported, not moved."""
        root = self.settings.resolve(drop.path)
        folder = self.settings.resolve(drop.quarantine) if drop.quarantine else root / ".quarantine"
        return DropScanner(
            drop,
            root=root,
            quarantine=folder if quarantine else None,
            source_id=source_id if source_id is not None else self.drop_ids[drop.name],
            sessions=self.sessions,
            pipeline=lambda: self.pipeline,
            write_slot=self.turns,
        )

    def dispatcher(self, stopping: asyncio.Event | None = None) -> FeedDispatcher:
        """The feed poller for the enabled ``[[feeds]]``; ``close`` it when done."""
        return FeedDispatcher(
            self.settings,
            self.sessions,
            lambda: self.pipeline,
            stopping=stopping,
            lane=self.lane,
            write_slot=self.turns,
        )

    async def close(self) -> None:
        await self.worker.close()
        if self.lane is not None:
            if self.bands is not None:
                await self.bands.close(self.lane, self.write_slot)
            await self.lane.close()
        if self.checkpointer is not None:
            await self.checkpointer.close()
        await self.engine.dispose()


def story_decider(settings: Settings) -> StoryDecider:
    """Story grouping as ``[dedup]`` configures it."""
    cfg = settings.dedup
    return StoryDecider(
        DedupSettings(
            threshold=cfg.threshold,
            window=timedelta(seconds=cfg.window),
            retention=timedelta(seconds=cfg.retention),
            title_containment=cfg.title_containment,
            lead_sentences=cfg.lead_sentences,
            lead_containment=cfg.lead_containment,
        )
    )


async def _sync(
    sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> tuple[dict[str, int], dict[str, int]]:
    """Mirror drops and feeds into storage: ids of the wanted ones; the rest are disabled."""
    async with sessions.begin() as session:
        wanted = {d.name: str(settings.resolve(d.path)) for d in settings.drops}
        drop_ids = await sync_sources(session, "drop", wanted)
        feeds = {f.key: f.url for f in settings.feeds if f.enabled}
        feed_ids = await sync_feeds(session, feeds)
    return drop_ids, feed_ids


def _channels(settings: Settings) -> dict[str, Channel]:
    return {
        name: build_channel(name, cfg, settings.base_dir) for name, cfg in settings.channels.items()
    }
