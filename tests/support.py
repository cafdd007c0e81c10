"""Real local parts for tests: a webhook receiver, databases, a daemon subprocess."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
DATA = Path(__file__).resolve().parent / "data"


def rss_document(channel: str) -> bytes:
    """A minimal RSS 2.0 document around ``channel`` (its items and channel elements)."""
    head = '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
    return (head + channel + "</channel></rss>").encode()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


async def serve(
    handler: Callable[[web.Request], Awaitable[web.StreamResponse]], port: int = 0, **options: Any
) -> tuple[web.AppRunner, int]:
    """A real aiohttp server on 127.0.0.1 answering every path with ``handler``; returns its
    runner (to clean up) and its port (``0``: any free one)."""
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app, access_log=None, **options)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, runner.addresses[0][1]


@dataclass
class Receiver:
    """An aiohttp server on 127.0.0.1 that records every request.

    ``statuses`` are answered in order (then 200); ``delay`` slows every answer.
    """

    port: int = 0
    statuses: list[int] = field(default_factory=list)
    delay: float = 0.0
    requests: list[Received] = field(default_factory=list)
    _runner: web.AppRunner | None = None
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        if self.delay:
            await asyncio.sleep(self.delay)
        self.requests.append(Received(request.path, dict(request.headers), body))
        self._changed.set()
        status = self.statuses.pop(0) if self.statuses else 200
        return web.Response(status=status, text="ok" if status < 400 else "nope")

    async def start(self) -> Receiver:
        self._runner, self.port = await serve(self._handle, self.port)
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def wait_for(self, count: int, within: float = 20.0) -> list[Received]:
        deadline = time.monotonic() + within
        while len(self.requests) < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"expected {count} requests, got {len(self.requests)}")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                continue
        return self.requests


def started(line: str) -> bool:
    """The daemon's "started …" line, in text or JSON logs."""
    return " started " in line or '"message": "started ' in line


class DaemonProcess:
    """``newswatch run`` as a real subprocess, its log lines collected as they come.

    ``ready`` says which line means the daemon is up (default: its "started" line);
    ``options`` follow ``run`` on the command line.
    """

    def __init__(
        self,
        settings: Path,
        env: dict[str, str] | None = None,
        ready: Callable[[str], bool] = started,
        options: tuple[str, ...] = (),
    ) -> None:
        self.settings = settings
        self.options = options
        self.env = {**os.environ, **(env or {})}
        self.ready = ready
        self.lines: list[str] = []
        self.proc: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()

    async def start(self) -> DaemonProcess:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "daemon",
            "--settings",
            str(self.settings),
            "run",
            *self.options,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env=self.env,
            cwd=str(ROOT),
        )
        self._reader = asyncio.create_task(self._read())
        await self.wait_log(self.ready)
        return self

    async def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        async for raw in self.proc.stdout:
            self.lines.append(raw.decode(errors="replace").rstrip())
            self._changed.set()

    async def wait_log(self, predicate: Callable[[str], bool], within: float = 20.0) -> str:
        deadline = time.monotonic() + within
        seen = 0
        while True:
            for line in self.lines[seen:]:
                if predicate(line):
                    return line
            seen = len(self.lines)
            if self.proc is not None and self.proc.returncode is not None:
                raise AssertionError("daemon exited:\n" + "\n".join(self.lines))
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError("log line not seen; log:\n" + "\n".join(self.lines))
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(remaining, 0.5))

    async def stop(self, sig: int = signal.SIGTERM, within: float = 15.0) -> int:
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.send_signal(sig)
        code = await asyncio.wait_for(self.proc.wait(), within)
        if self._reader is not None:
            await self._reader
        return code

    def log(self) -> str:
        return "\n".join(self.lines)


def toml_str(value: str) -> str:
    return json.dumps(value)
