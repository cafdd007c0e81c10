"""Parts for the fleet test: many local feeds on one server, a webhook receiver that notes
when each delivery arrived, and plain SQL looks at the shared PostgreSQL database.

Everything here is real (aiohttp servers on 127.0.0.1, asyncpg on the test database); the
feed texts are made up, distinct per entry, so every entry is a story of its own.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from xml.sax.saxutils import escape

import asyncpg
import psutil
from aiohttp import web

from tests.conftest import _dsn
from tests.support import serve

KEYWORD = "reservoir"
SYLLABLES = tuple(c + v for c in "bdfgklmnprstvz" for v in "aeiou")


def path_of(index: int) -> str:
    return f"/f/{index}.xml"


def feed_name(index: int) -> str:
    return f"Feed {index:03d}"


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))


def _words(rng: random.Random, count: int) -> list[str]:
    return [_word(rng) for _ in range(count)]


@dataclass(frozen=True)
class Entry:
    feed: int
    number: int
    matches: bool

    @property
    def guid(self) -> str:
        return f"fleet-{self.feed}-{self.number}"

    def title(self) -> str:
        rng = random.Random(f"title {self.feed} {self.number}")
        words = _words(rng, 8)
        if self.matches:
            words.insert(3, KEYWORD)
        return " ".join(words).capitalize()

    def text(self) -> str:
        rng = random.Random(f"text {self.feed} {self.number}")
        sentences = [" ".join(_words(rng, 14)).capitalize() + "." for _ in range(3)]
        if self.matches:
            sentences[0] = sentences[0][:-1] + f" near the {KEYWORD}."
        return " ".join(sentences)


def rss(index: int, entries: list[Entry], published: datetime) -> bytes:
    items = "".join(
        f"<item><title>{escape(e.title())}</title>"
        f"<link>http://news.example/{e.feed}/{e.number}</link>"
        f'<guid isPermaLink="false">{e.guid}</guid>'
        f"<pubDate>{format_datetime(published)}</pubDate>"
        f"<description>{escape(e.text())}</description></item>"
        for e in entries
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>{feed_name(index)}</title><link>http://news.example/{index}</link>"
        f"<description>Made-up news {index}</description>{items}</channel></rss>"
    ).encode()


@dataclass
class FleetFeeds:
    """One aiohttp server answering ``/f/<n>.xml`` from ``bodies``: every request is noted
    (monotonic arrival time) before it waits for ``gate`` and the path's ``delays``."""

    bodies: dict[str, bytes] = field(default_factory=dict)
    delays: dict[str, float] = field(default_factory=dict)
    hits: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    gate: asyncio.Event = field(default_factory=asyncio.Event)
    port: int = 0
    _runner: web.AppRunner | None = None

    def url(self, index: int) -> str:
        return f"http://127.0.0.1:{self.port}{path_of(index)}"

    def fetches(self, index: int, since: float = 0.0) -> list[float]:
        return [t for t in self.hits.get(path_of(index), []) if t >= since]

    async def _handle(self, request: web.Request) -> web.Response:
        self.hits[request.path].append(time.monotonic())
        body = self.bodies.get(request.path)
        if body is None:
            return web.Response(status=404, text="no such feed")
        await self.gate.wait()
        delay = self.delays.get(request.path, 0.0)
        if delay:
            await asyncio.sleep(delay)
        return web.Response(body=body, content_type="application/rss+xml")

    async def start(self) -> FleetFeeds:
        self._runner, self.port = await serve(
            self._handle, handler_cancellation=True, shutdown_timeout=0.1
        )
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


@dataclass(frozen=True)
class Delivery:
    uid: str  # the webhook-id header
    body_id: str  # the payload's "id"
    alert_id: int
    arrived: float  # monotonic, when the request came in (before any answer)


@dataclass
class Hook:
    """A webhook receiver that notes each delivery as it arrives, then answers 200 after
    ``delay`` (a slow receiver keeps alerts leased by their sender for that long)."""

    delay: float = 0.0
    deliveries: list[Delivery] = field(default_factory=list)
    port: int = 0
    _runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def uids(self) -> set[str]:
        return {d.uid for d in self.deliveries}

    async def _handle(self, request: web.Request) -> web.Response:
        payload: dict[str, Any] = json.loads(await request.read())
        self.deliveries.append(
            Delivery(
                request.headers["webhook-id"],
                str(payload["id"]),
                int(payload["alert_id"]),
                time.monotonic(),
            )
        )
        if self.delay:
            await asyncio.sleep(self.delay)
        return web.Response(text="ok")

    async def start(self) -> Hook:
        self._runner, self.port = await serve(self._handle, shutdown_timeout=0.1)
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


def owner_pid(owner: str) -> int:
    """The process id in a lease owner, ``host:pid:random`` (feeds and alerts alike)."""
    parts = owner.rsplit(":", 2)
    if len(parts) != 3 or not parts[1].isdigit():
        raise AssertionError(f"lease owner {owner!r} does not name its process (host:pid:id)")
    return int(parts[1])


@dataclass(frozen=True)
class Leases:
    """Live leases (``lease_until`` in the future) by owner: feed names and alert uids."""

    feeds: dict[str, set[str]]
    alerts: dict[str, set[str]]

    def by_pid(self) -> dict[int, tuple[set[str], set[str]]]:
        held: dict[int, tuple[set[str], set[str]]] = defaultdict(lambda: (set(), set()))
        for owner, names in self.feeds.items():
            held[owner_pid(owner)][0].update(names)
        for owner, uids in self.alerts.items():
            held[owner_pid(owner)][1].update(uids)
        return dict(held)


@dataclass(frozen=True)
class FeedRow:
    lease_owner: str | None
    last_success_at: datetime | None


class Db:
    """The test's own look at the daemons' database, in plain SQL."""

    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection

    @classmethod
    async def connect(cls, url: str) -> Db:
        return cls(await asyncpg.connect(_dsn(url)))

    async def close(self) -> None:
        await self.connection.close()

    async def now(self) -> datetime:
        value = await self.connection.fetchval("SELECT now()")
        assert isinstance(value, datetime)
        return value

    async def lease_owners(self) -> set[str]:
        rows = await self.connection.fetch(
            "SELECT DISTINCT lease_owner FROM sources WHERE lease_owner IS NOT NULL"
        )
        return {row[0] for row in rows}

    async def polled_since(self, since: datetime | None = None) -> dict[str, datetime]:
        """Feeds whose last success is after ``since`` (any success without it)."""
        rows = await self.connection.fetch(
            "SELECT name, last_success_at FROM sources WHERE kind = 'feed' "
            "AND last_success_at IS NOT NULL AND last_success_at > $1",
            since or datetime(1970, 1, 1, tzinfo=UTC),
        )
        return {row["name"]: row["last_success_at"] for row in rows}

    async def alerts(self) -> dict[str, dict[str, Any]]:
        rows = await self.connection.fetch(
            "SELECT id, uid, status, attempts, story_id, lease_owner FROM alerts"
        )
        return {row["uid"]: dict(row) for row in rows}

    async def leases(self) -> Leases:
        feeds: dict[str, set[str]] = defaultdict(set)
        alerts: dict[str, set[str]] = defaultdict(set)
        for row in await self.connection.fetch(
            "SELECT lease_owner, name FROM sources WHERE lease_until > now()"
        ):
            feeds[row[0]].add(row[1])
        for row in await self.connection.fetch(
            "SELECT lease_owner, uid FROM alerts WHERE status = 'pending' AND lease_until > now()"
        ):
            alerts[row[0]].add(row[1])
        return Leases(dict(feeds), dict(alerts))

    async def held_by(self, pid: int) -> tuple[dict[str, datetime], dict[str, datetime]]:
        """Feed names and pending alert uids whose lease (live or lapsed) names process
        ``pid``, each with its ``lease_until``."""
        pattern = f"%:{pid}:%"
        feeds = await self.connection.fetch(
            "SELECT name, lease_until FROM sources WHERE lease_owner LIKE $1", pattern
        )
        alerts = await self.connection.fetch(
            "SELECT uid, lease_until FROM alerts WHERE status = 'pending' AND lease_owner LIKE $1",
            pattern,
        )
        return {row[0]: row[1] for row in feeds}, {row[0]: row[1] for row in alerts}

    async def feed_states(self, names: list[str]) -> dict[str, FeedRow]:
        rows = await self.connection.fetch(
            "SELECT name, lease_owner, last_success_at FROM sources "
            "WHERE kind = 'feed' AND name = ANY($1)",
            names,
        )
        return {row[0]: FeedRow(row[1], row[2]) for row in rows}

    async def make_due(self, names: list[str]) -> datetime:
        """The named feeds due now; returns the database's time of it."""
        await self.connection.execute(
            "UPDATE sources SET next_poll_at = now() WHERE kind = 'feed' AND name = ANY($1)",
            names,
        )
        return await self.now()

    async def backends(self, ports: set[int]) -> int:
        """Server processes still serving client connections from these local ports."""
        value = await self.connection.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE client_port = ANY($1)", list(ports)
        )
        return int(value)

    async def any_lease(self) -> int:
        value = await self.connection.fetchval(
            "SELECT (SELECT count(*) FROM sources WHERE lease_owner IS NOT NULL)"
            " + (SELECT count(*) FROM alerts WHERE lease_owner IS NOT NULL)"
        )
        return int(value)


def database_ports(pid: int, server_port: int = 5432) -> set[int]:
    """The local ports of a process's connections to the database server."""
    return {
        conn.laddr.port
        for conn in psutil.Process(pid).net_connections(kind="tcp")
        if conn.raddr and conn.raddr.port == server_port
    }
