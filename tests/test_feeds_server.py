"""A real feed server on 127.0.0.1 for the feed tests: scripted answers, every request seen.

It records, per ``Host`` header, how many requests were in flight at once and when each began,
so per-host politeness is checked on the wire, not inside the code under test.
"""

from __future__ import annotations

import asyncio
import gzip
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from email.utils import formatdate

from aiohttp import web

from tests.support import DATA, serve

FEEDS = DATA / "feeds"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
TYPES = {".xml": "application/rss+xml", ".rdf": "application/rdf+xml", ".json": "application/json"}


def feed_bytes(name: str) -> bytes:
    return (FEEDS / name).read_bytes()


def content_type(name: str) -> str:
    return TYPES.get("." + name.rsplit(".", 1)[-1], "application/xml")


@dataclass
class Seen:
    path: str
    host: str
    headers: dict[str, str]
    started: float


@dataclass
class FeedServer:
    routes: dict[str, Handler] = field(default_factory=dict)
    requests: list[Seen] = field(default_factory=list)
    active: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    peak: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    port: int = 0
    _runner: web.AppRunner | None = None

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def seen(self, path: str) -> list[Seen]:
        return [r for r in self.requests if r.path == path]

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        host = request.headers.get("Host", "").rsplit(":", 1)[0]
        self.requests.append(Seen(request.path, host, dict(request.headers), time.monotonic()))
        self.active[host] += 1
        self.peak[host] = max(self.peak[host], self.active[host])
        try:
            handler = self.routes.get(request.path)
            if handler is None:
                return web.Response(status=404, text="no such feed")
            return await handler(request)
        finally:
            self.active[host] -= 1

    async def start(self) -> FeedServer:
        self._runner, self.port = await serve(
            self._dispatch, handler_cancellation=True, shutdown_timeout=0.1
        )
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


def document(
    body: bytes,
    ctype: str = "application/rss+xml",
    *,
    etag: str | None = None,
    last_modified: float | None = None,
    headers: dict[str, str] | None = None,
) -> Handler:
    """A document served like a good server does: validators out, 304 when they match."""
    stamp = formatdate(last_modified, usegmt=True) if last_modified is not None else None

    async def handle(request: web.Request) -> web.Response:
        extra = dict(headers or {})
        if etag:
            extra["ETag"] = etag
        if stamp:
            extra["Last-Modified"] = stamp
        matched = (etag and request.headers.get("If-None-Match") == etag) or (
            stamp and request.headers.get("If-Modified-Since") == stamp
        )
        if matched:
            return web.Response(status=304, headers=extra)
        return web.Response(body=body, content_type=ctype, headers=extra)

    return handle


def answer(status: int, headers: dict[str, str] | None = None, text: str = "") -> Handler:
    async def handle(request: web.Request) -> web.Response:
        return web.Response(status=status, headers=headers, text=text)

    return handle


def in_turn(*handlers: Handler) -> Handler:
    """Each request gets the next handler; the last one keeps answering."""
    queue = list(handlers)

    async def handle(request: web.Request) -> web.StreamResponse:
        current = queue.pop(0) if len(queue) > 1 else queue[0]
        return await current(request)

    return handle


def silent() -> Handler:
    """Accepts the request and never answers."""

    async def handle(request: web.Request) -> web.Response:
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    return handle


def endless(chunk: bytes, pause: float = 0.0) -> Handler:
    """Streams the same chunk forever (fast: hits the size cap; slow: hits the total timeout)."""

    async def handle(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
        await response.prepare(request)
        await response.write(b"<?xml version='1.0'?><rss><channel>")
        while True:
            await response.write(chunk)
            await asyncio.sleep(pause)

    return handle


def gzip_bomb(decompressed: int) -> Handler:
    """A small gzip body that inflates to ``decompressed`` bytes of XML whitespace."""
    payload = gzip.compress(b"<rss>" + b" " * decompressed, compresslevel=9)

    async def handle(request: web.Request) -> web.Response:
        return web.Response(
            body=payload,
            headers={"Content-Encoding": "gzip", "Content-Type": "application/rss+xml"},
        )

    return handle
