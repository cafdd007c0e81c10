"""Filesystem notifications for drop folders, so a file is read within a moment of landing.

The periodic scan stays: it finds what notifications miss (a folder on a network mount, a
watcher that could not start, files that arrived while the daemon was down). A notified file
is read once it has stopped growing: unchanged for ``watch_settle`` seconds; a writer still
at work sends more notifications, and the file is looked at again after each.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from pathlib import Path

from watchfiles import Change, awatch

from daemon.drops import DropScanner, ScanResult

log = logging.getLogger("newswatch.drops")


class DropWatcher:
    """One task per watched drop folder; ``stop`` ends it (settings reload, shutdown)."""

    def __init__(
        self,
        scanner: DropScanner,
        on_result: Callable[[ScanResult], None],
        settle: float,
    ) -> None:
        self.scanner = scanner
        self.on_result = on_result
        self.settle = settle
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"watch:{self.scanner.settings.name}")

    async def stop(self, grace: float = 5.0) -> None:
        """Let a file being read finish (up to ``grace`` seconds), then end the watch."""
        self._stop.set()
        if self._task is not None:
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(self._task, grace)

    async def _run(self) -> None:
        root = self.scanner.root
        name = self.scanner.settings.name
        if not root.is_dir():
            log.warning("drop folder missing, not watched source=%s path=%s", name, root)
            return
        try:
            async for changes in awatch(
                root,
                watch_filter=self._wanted,
                step=20,
                debounce=500,
                stop_event=self._stop,
                recursive=True,
                ignore_permission_denied=True,
            ):
                if changes:
                    await self._take()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the periodic scan carries on without notifications
            log.warning("drop folder notifications stopped source=%s: %s", name, exc)

    def _wanted(self, change: Change, path: str) -> bool:
        return change != Change.deleted and self.scanner.reads(Path(path))

    async def _take(self) -> None:
        """Wait until the files have been still for ``settle``, then read what is ready; a
        file still growing sends more notifications and is looked at again."""
        await asyncio.sleep(self.settle)
        try:
            result = await self.scanner.scan(settle=self.settle)
        except Exception:
            log.exception("notified scan failed source=%s", self.scanner.settings.name)
            return
        self.on_result(result)
