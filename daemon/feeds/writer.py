"""Group commit: polls that bring new entries are stored together, a transaction per group.

A transaction costs a few statements and a commit whatever its size, and SQLite has a single
writer. Feeds finishing while a transaction is under way wait for the next one and share it,
so the cost per feed falls as load rises instead of the queue growing. A group that fails is
retried feed by feed, so one feed's fault never costs another feed its articles.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from daemon.ingest import IngestResult, Pipeline, ingest_many
from daemon.prepared import Entry, Prepared
from storage import feeds as store

log = logging.getLogger("newswatch.feeds")
STORE_ATTEMPTS = 4
# A transaction's cost is mostly fixed (lookups, the commit writing every index page it
# touched), so the writer waits a moment for more feeds before starting one; an entry is
# stored at most that much later. The size (counted by _weight) is capped to keep each step
# short for the loop.
GROUP_ITEMS = 300
GATHER_SECONDS = 0.1


@dataclass(slots=True)
class _Submission:
    name: str
    source_id: int
    items: Sequence[Entry]
    state: Callable[[int], Mapping[str, Any]]  # the feed's new state, given its new entries
    done: asyncio.Future[IngestResult]
    weight: int  # its share of a group, see _weight


class StoreWriter:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        pipeline: Callable[[], Pipeline],
        *,
        owner: str,
        slots: asyncio.Semaphore,
        rand: Callable[[], float] = random.random,
        ready_at: int | None = None,
    ) -> None:
        """``ready_at``: a group is also complete once this many feeds wait in it. A caller
        that lets only so many feeds parse or wait here at once knows a group of small feeds
        can never reach GROUP_ITEMS: without it, each such group would wait out
        GATHER_SECONDS while parsing stood still."""
        self.sessions = sessions
        self.pipeline = pipeline
        self.owner = owner
        self.slots = slots
        self.rand = rand
        self.ready_at = ready_at
        self._queue: list[_Submission] = []
        self._full = asyncio.Event()  # a whole group is waiting
        self._task: asyncio.Task[None] | None = None

    async def store(
        self,
        name: str,
        source_id: int,
        items: Sequence[Entry],
        state: Callable[[int], Mapping[str, Any]],
    ) -> IngestResult:
        """Store a feed's entries and its new state in the next group; cancelling the caller
        withdraws the feed unless its group is already being written."""
        done: asyncio.Future[IngestResult] = asyncio.get_running_loop().create_future()
        self._queue.append(_Submission(name, source_id, items, state, done, _weight(items)))
        if self._ready():
            self._full.set()
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="newswatch-store")
        return await done

    async def drain(self) -> None:
        """Wait for the group being written (shutdown must not cut a transaction short)."""
        if self._task is not None:
            await asyncio.shield(self._task)

    async def _run(self) -> None:
        while self._queue:
            if not self._ready():
                self._full.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._full.wait(), GATHER_SECONDS)
            group = self._next_group()
            if group:
                await self._settle(group)

    def _queued(self) -> int:
        return sum(submission.weight for submission in self._queue)

    def _ready(self) -> bool:
        """A whole group waits: by its size, or by how many feeds could be waiting at all."""
        ready_at = self.ready_at
        return self._queued() >= GROUP_ITEMS or (
            ready_at is not None and len(self._queue) >= ready_at
        )

    def _next_group(self) -> list[_Submission]:
        group: list[_Submission] = []
        size = 0
        while self._queue and (not group or size + self._queue[0].weight <= GROUP_ITEMS):
            submission = self._queue.pop(0)
            if not submission.done.cancelled():
                group.append(submission)
                size += submission.weight
        return group

    async def _settle(self, group: list[_Submission]) -> None:
        try:
            results = await self._write(group)
        except Exception as exc:
            if len(group) == 1:
                _fail(group[0], exc)
                return
            log.warning("group store failed, storing its %d feeds one by one: %r", len(group), exc)
            for submission in group:
                await self._settle([submission])
            return
        for submission, result in zip(group, results, strict=True):
            if not submission.done.done():
                submission.done.set_result(result)

    async def _write(self, group: list[_Submission]) -> list[IngestResult]:
        """One transaction for the group, retried when the database aborts it for a race
        (a deadlock between replicas) rather than for a fault."""
        for attempt in range(1, STORE_ATTEMPTS + 1):
            try:
                async with self.slots, self.sessions.begin() as session:
                    results = await ingest_many(
                        session,
                        [(s.source_id, s.items) for s in group],
                        pipeline=self.pipeline(),
                        new_only=True,
                    )
                    states = [s.state(r.new) for s, r in zip(group, results, strict=True)]
                    await store.record_results(session, self.owner, states)
                return results
            except DBAPIError as exc:
                if attempt == STORE_ATTEMPTS or not store.is_transient(exc):
                    raise
                names = ", ".join(s.name for s in group)
                log.info("store retried sources=%s attempt=%d: %s", names, attempt, exc.orig)
                await asyncio.sleep(0.05 * attempt * (1 + self.rand()))
        raise AssertionError("unreachable")


def _weight(items: Sequence[Entry]) -> int:
    """A feed's share of a group: its state row plus the entries that look new (the parser
    sketched them). Entries it listed before cost one shared key lookup; the new ones cost
    the writes, and the writes set how long a transaction holds the database."""
    return 1 + sum(isinstance(item, Prepared) for item in items)


def _fail(submission: _Submission, exc: Exception) -> None:
    if not submission.done.done():
        submission.done.set_exception(exc)
