"""Background upkeep: one piece of work repeated on a timer, whose failures are logged and
retried at the next round, never ending the task; its owner runs it a last time on close."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger("newswatch.storage")


class Periodic:
    def __init__(
        self,
        name: str,
        work: Callable[[], Awaitable[object]],
        interval: float,
        due: Callable[[], bool] = lambda: True,
    ) -> None:
        self.name = name
        self.work = work
        self.interval = interval
        self.due = due
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"newswatch-{self.name}")

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            if not self.due():
                continue
            try:
                await self.work()
            except Exception as exc:  # the next round tries again
                log.warning("%s failed, retrying in %gs: %r", self.name, self.interval, exc)

    async def stop(self) -> bool:
        """Cancel the task; whether it was running (and so owes a last round)."""
        if self._task is None:
            return False
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
        return True
