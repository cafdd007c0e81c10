"""A SQLite connection on a thread of its own, for the poller's claims and result writes.

Through SQLAlchemy's async layer, a transaction is about ten hand-offs between the event loop
and the driver's thread (begin, each statement, its rows, commit, the pool's reset), each a
future, a wake-up of the loop and a GIL hand-back. At thousands of feeds a round of 304s is a
dozen claims and result writes, and the loop, which is busy fetching the whole time, paid for
all those hand-offs. Here a whole transaction is one function run on the lane's thread: one
hand-off each way.

The lane's connection is one more writer on the file, with the daemon's own settings (WAL,
busy timeout, checkpoints left to the ``Checkpointer``); the poller still takes its in-process
write slot first, so it never waits on SQLite's busy handler behind the store writer.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, nullcontext
from typing import TypeVar

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.engine import BUSY_SECONDS, busy_seconds, sqlite_pragmas

T = TypeVar("T")


@asynccontextmanager
async def writing(
    sessions: async_sessionmaker[AsyncSession], slot: asyncio.Semaphore | None
) -> AsyncIterator[AsyncSession]:
    """A write transaction, taken in turn on the daemon's one write slot on SQLite (no slot:
    PostgreSQL, a one-off command).

    Writers that wait in SQLite's busy handler poll the lock at growing intervals, while
    writers queued on the slot take it the moment it is free: a delivered mark that waited
    in the handler could be passed over for a second and more by polls, drops and band
    flushes, and a kill then would send again what the receiver had already taken. On the
    slot every writer waits its turn, in order."""
    async with slot if slot is not None else nullcontext(), sessions.begin() as session:
        yield session


class SqliteLane:
    """Runs transactions on one connection, one at a time, in the order they were asked for."""

    def __init__(self, path: str, checkpoint_pages: int, busy: float = BUSY_SECONDS) -> None:
        self.path = path
        self.checkpoint_pages = checkpoint_pages
        self.busy = busy
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="newswatch-sqlite-lane")
        self._connection: sqlite3.Connection | None = None

    @classmethod
    def for_url(cls, url: str, checkpoint_pages: int) -> SqliteLane | None:
        """A lane for a SQLite file; None for PostgreSQL and in-memory databases, which a
        second connection could not share."""
        parsed = make_url(url)
        if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
            return None
        return cls(parsed.database, checkpoint_pages, busy_seconds(parsed))

    async def transaction(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """``work`` inside BEGIN IMMEDIATE … COMMIT (rolled back if it raises).

        The transaction takes the write lock first: a claim reads the due feeds and leases
        them, and nobody may lease one in between. A caller cancelled while its transaction
        runs does not stop it; what it did stays committed (a claim's leases are handed back
        by the poller's release, which runs on this lane after it).
        """
        return await asyncio.get_running_loop().run_in_executor(self._thread, self._run, work)

    def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        connection = self._connection
        if connection is None:
            connection = self._connection = self._connect()
        connection.execute("BEGIN IMMEDIATE")
        try:
            result = work(connection)
        except BaseException:
            connection.rollback()
            raise
        connection.commit()
        return result

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.path, timeout=self.busy, isolation_level=None)
        try:
            sqlite_pragmas(self.checkpoint_pages, connection, None, busy=self.busy)
        except sqlite3.Error:
            connection.close()
            raise
        return connection

    async def close(self) -> None:
        """Waits for queued transactions, then closes the connection and the thread."""
        await asyncio.get_running_loop().run_in_executor(self._thread, self._close)
        self._thread.shutdown(wait=False)

    def _close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
