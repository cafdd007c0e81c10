"""Copying SQLite's write-ahead log into the database file, beside the work rather than in it.

Left to SQLite, a checkpoint runs inside whichever commit takes the log past its limit: after
a burst of stored articles, one poll-result write took 90 ms instead of 10, and the store
writer, the one serial stage of ingest, paid for every checkpoint in between. The daemon's
connections leave the log to ``Checkpointer``, which copies it from a connection of its own
on the driver's thread; a commit checkpoints only if the log outgrows ``BACKSTOP_PAGES``,
so a checkpointer that falls behind cannot let the log grow without end.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from storage.periodic import Periodic

log = logging.getLogger("newswatch.storage")
# Log pages a commit lets pass before checkpointing itself (4 KiB each: 400 MiB).
BACKSTOP_PAGES = 100_000
INTERVAL = 1.0


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """SQLite's answer to ``PRAGMA wal_checkpoint``: whether a writer or reader kept it from
    finishing, the pages in the log, and the pages now copied into the database file."""

    busy: bool
    log_pages: int
    copied_pages: int


class Checkpointer:
    def __init__(self, engine: AsyncEngine, interval: float = INTERVAL) -> None:
        self.engine = engine
        # commits are the backstop while rounds fail
        self._rounds = Periodic("checkpoint", lambda: self.checkpoint(), interval)

    def start(self) -> None:
        self._rounds.start()

    async def checkpoint(self) -> Checkpoint:
        """PASSIVE: copy what no reader still needs, without waiting for or blocking anyone."""
        async with self.engine.connect() as connection:
            result = await connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
            busy, log_pages, copied = tuple(result.one())
        return Checkpoint(bool(busy), int(log_pages), int(copied))

    async def close(self) -> None:
        """Stop, then copy what is left, so the files on disk are complete without the log."""
        if not await self._rounds.stop():
            return
        try:
            await self.checkpoint()
        except Exception as exc:  # closing goes on: the next start replays the log
            log.warning("last checkpoint failed (the next start replays the log): %r", exc)
