"""The poll dispatcher: each tick claims due feeds in batches and polls them concurrently.

The scheduler only says *when* to tick; a tick runs until no claimed feed is left, topping up
its work from the database as polls finish so fetches never wait for a whole batch. Results
without articles (304s, unchanged bodies, errors: the vast majority) are written together in
one statement per batch; a poll with articles writes them and its state in one transaction.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from daemon.feeds.fetch import Fetcher, Limits
from daemon.feeds.parsing import ParsePool, worker_count
from daemon.feeds.refresh import Job, Polled, Refresher
from daemon.ingest import Pipeline
from daemon.settings import FeedSettings, Settings
from storage import feeds as store
from storage.lane import SqliteLane
from storage.leases import new_owner
from storage.models import utcnow

log = logging.getLogger("newswatch.feeds")
# Pending state writes are flushed at this many, or after FLUSH_SECONDS.
FLUSH_COUNT, FLUSH_SECONDS = 200, 0.5


@dataclass(slots=True)
class TickResult:
    polled: int = 0
    new: int = 0
    failed: int = 0
    alert_ids: list[int] = field(default_factory=list)


class FeedDispatcher:
    """Owns the fetcher and the parser pool; ``close`` hands back leases and stops both."""

    def __init__(
        self,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        pipeline: Callable[[], Pipeline],
        *,
        stopping: asyncio.Event | None = None,
        clock: Callable[[], datetime] = utcnow,
        feeds: Mapping[str, FeedSettings] | None = None,
        lane: SqliteLane | None = None,
        write_slot: asyncio.Semaphore | None = None,
    ) -> None:
        polling = settings.polling
        self.polling = polling
        self.sessions = sessions
        self.lane = lane
        self.stopping = stopping or asyncio.Event()
        self.clock = clock
        self.owner = new_owner()
        self.feeds = dict(feeds) if feeds is not None else {f.key: f for f in settings.feeds}
        self.fetcher = Fetcher(Limits.from_settings(polling))
        self.parser = ParsePool(worker_count(polling.parse_processes))
        sqlite = settings.database_url.startswith("sqlite")
        store_slots = write_slot or asyncio.Semaphore(1 if sqlite else 8)
        # SQLite has one writer: a claim waiting here is let in the moment a result write or
        # store group ends, where SQLite's busy handler would sleep and poll (up to 100 ms).
        self._claim_slot = store_slots if sqlite else asyncio.Semaphore(1)
        self.refresher = Refresher(
            fetcher=self.fetcher,
            parser=self.parser,
            sessions=sessions,
            pipeline=pipeline,
            polling=polling,
            default_interval=settings.daemon.poll_interval,
            owner=self.owner,
            store_slots=store_slots,
            clock=clock,
        )
        self._pending: list[dict[str, Any]] = []
        self._flushed_at = time.monotonic()
        self._flushing: asyncio.Task[None] | None = None

    async def tick(self) -> TickResult:
        """Poll every due feed; cancellation hands the unfinished ones back at once."""
        result = TickResult()
        running: set[asyncio.Task[Any]] = set()
        started, parsed, full = time.perf_counter(), self.parser.parsed, self.parser.full_seconds()
        try:
            await self._run(running, result)
        finally:
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
            await self.refresher.writer.drain()
            if self._flushing is not None:
                await asyncio.shield(self._flushing)
            await asyncio.shield(self._flush())
            if running:
                await asyncio.shield(self.release())
        if result.polled:
            elapsed = time.perf_counter() - started
            log.info(
                "poll round feeds=%d new=%d failed=%d alerts=%d parsed=%d seconds=%.1f "
                "parsers_full=%.0f%%",
                result.polled,
                result.new,
                result.failed,
                len(result.alert_ids),
                self.parser.parsed - parsed,
                elapsed,
                100 * (self.parser.full_seconds() - full) / elapsed if elapsed else 0,
            )
        return result

    async def _run(self, running: set[asyncio.Task[Any]], result: TickResult) -> None:
        """Polls run as tasks in ``running``, and so does the claim of the next feeds: it is
        started while half a batch is still in flight, so fetching never waits for it.

        Finished tasks arrive through a queue: waiting on the whole set each time a poll
        ends (``asyncio.wait``) would cost time in proportion to the polls in flight.
        """
        batch = self.polling.batch_size
        finished: asyncio.Queue[asyncio.Task[Any]] = asyncio.Queue()

        def start(work: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
            task = asyncio.create_task(work)
            task.add_done_callback(finished.put_nowait)
            running.add(task)
            return task

        exhausted = False
        claim: asyncio.Task[Any] | None = None
        # The first claim is only enough to fill every fetch slot twice: fetching starts as
        # soon as those are leased, while the rest of the batch is claimed beside it.
        first = min(batch, 2 * self.polling.concurrency)
        while True:
            polls = len(running) - (claim is not None)
            if not (exhausted or claim or self.stopping.is_set()) and polls <= batch // 2:
                claim = start(self._claim(first or batch - polls))
                first = 0
            if not running:
                return
            done = [await finished.get()]
            while not finished.empty():
                done.append(finished.get_nowait())
            for task in done:
                running.discard(task)
                if task is claim:
                    more, jobs = claim.result()
                    exhausted, claim = not more, None
                    for job in jobs:
                        start(self._poll(job))
                else:
                    self._collect(task.result(), result)
            if len(self._pending) >= FLUSH_COUNT or self._flush_due():
                self._flush_soon()

    async def _claim(self, limit: int) -> tuple[bool, list[Job]]:
        """Whether more feeds may be due, and the jobs of those claimed."""
        claim = partial(
            store.claim_on if self.lane else store.claim_due,
            owner=self.owner,
            lease_seconds=self.polling.lease,
            limit=limit,
            now=self.clock(),
        )
        async with self._claim_slot:
            states = await self._transaction(claim)
        jobs = []
        for state in states:
            feed = self.feeds.get(state.name)
            if feed is None:  # another replica's settings have it: its lease lapses for them
                log.debug("skipped feed unknown to these settings source=%s", state.name)
                continue
            jobs.append(Job(state, feed))
        return len(states) == limit, jobs

    async def _poll(self, job: Job) -> Polled:
        try:
            return await self.refresher.refresh(job)
        except Exception as exc:  # a bug in one poll must not end the round
            log.exception("poll crashed source=%s", job.state.name)
            return self.refresher.failed(job, "crashed", repr(exc))

    def _collect(self, polled: Polled, result: TickResult) -> None:
        result.polled += 1
        result.new += polled.new
        result.failed += polled.failed
        result.alert_ids.extend(polled.alert_ids)
        if polled.values is not None:
            self._pending.append(polled.values)

    def _flush_soon(self) -> None:
        """Write pending results beside the polling, one write at a time: waiting for the
        database here would hold up the claims and fetches of the whole round."""
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.create_task(self._flush(), name="newswatch-poll-flush")

    def _flush_due(self) -> bool:
        return bool(self._pending) and time.monotonic() - self._flushed_at >= FLUSH_SECONDS

    async def _flush(self) -> None:
        pending, self._pending = self._pending, []
        self._flushed_at = time.monotonic()
        if not pending:
            return
        record = partial(
            store.record_on if self.lane else store.record_results,
            owner=self.owner,
            results=pending,
        )
        try:
            async with self.refresher.store_slots:
                await self._transaction(record)
        except BaseException:
            # Kept for the next flush: the feeds stay leased (and renewed) meanwhile, and a
            # result given up would leave them leased, never polled, while the daemon lives.
            self._pending[:0] = pending
            raise

    async def _transaction(self, work: Callable[[Any], Any]) -> Any:
        """``work(db)`` in one transaction: on the SQLite lane (``db`` its connection) if there
        is one, else in a session (``db`` the session, and ``work`` a coroutine function)."""
        if self.lane is not None:
            return await self.lane.transaction(work)
        async with self.sessions.begin() as session:
            return await work(session)

    async def next_due(self) -> datetime | None:
        async with self.sessions() as session:
            return await store.next_due(session)

    async def warm_up(self) -> None:
        await self.parser.warm_up()

    async def renew(self) -> None:
        """Keep the leases of feeds claimed and not yet recorded (see ``storage.leases``)."""
        now = self.clock()
        until = now + timedelta(seconds=self.polling.lease)
        await self._transaction(
            partial(
                store.renew_on if self.lane else store.renew, owner=self.owner, now=now, until=until
            )
        )

    async def release(self) -> None:
        """On the lane, after any claim still running there: its leases are handed back too."""
        await self._transaction(
            partial(store.release_on if self.lane else store.release, owner=self.owner)
        )

    async def close(self) -> None:
        try:
            await self.release()
        finally:
            await self.fetcher.close()
            self.parser.close()
