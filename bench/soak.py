"""A soak: the real daemon for minutes against changing feeds, drops and flaky receivers.

It runs against local feeds that change, a drop folder and webhook receivers that
misbehave, then gives an exact account of what came out.

``newswatch run`` runs as a subprocess on short intervals. Local aiohttp servers on
127.0.0.1 serve 1,000 feeds (by default) that gain entries as it runs: new reports, copies
of a report in other feeds (one story, one alert per rule and channel), corrections of an
entry already served (same GUID). A share of the feeds fail at random with 500s, timeouts,
garbage bodies and connection resets (before the answer and in the middle of a body); a few
never answer. Text dumps land in a drop folder, written at once under a temporary name and
renamed, or slowly in pieces, some of them copies of feed reports and some binary junk for
the quarantine. The webhook receivers answer 500, 503 with Retry-After, reset the connection
or answer slowly (some past the channel's timeout), so the daemon has to retry.

The texts are made-up words around sentences the rules look for; with the region rule on, no
made-up word is a place the gazetteer knows, so the expected alerts follow from the texts
alone. At the end the publishers stop, the daemon drains (until every entry is stored and
the outbox is empty, or ``--drain`` seconds), stops, and the database and the receivers are
read:

- every published entry and drop file stored exactly once (the ``articles`` table);
- every alert that should exist (per rule, report and channel) delivered at least once, and
  under one ``webhook-id``; no (rule, story, channel) sent under two ids; no alert for a
  report that matches no rule; nothing left pending or dead in the outbox;
- the resident memory of the daemon and its child processes, its open descriptors (start,
  middle, end of the publishing, and drained) and what ``/metrics`` says of the process.

The soak fails (exit 1) on any loss, any duplicate, any unexpected or stuck alert, or
resident memory growing more than 10% from the middle to the end.

    .venv/bin/python bench/soak.py [--seconds 300] [--feeds 1000] [--database URL]

``--database`` takes the URL of an empty database (PostgreSQL:
``postgresql+asyncpg://postgres@127.0.0.1:5432/soak``); the default is an SQLite file in a
temporary folder. The region rule needs the gazetteer cache (``data/cache``, built on first
use in about a minute, before the soak starts).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any, Protocol
from xml.sax.saxutils import escape

import aiohttp
from aiohttp import web
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_CACHE = ROOT / "data" / "cache"
GROWTH_LIMIT = 0.10
SAMPLE_EVERY = 5.0

# ---------------------------------------------------------------- texts

CONSONANTS = "bdfgklmnprstvz"
VOWELS = "aeiou"
SYLLABLES = tuple(c + v for c in CONSONANTS for v in VOWELS)

# Places inside the region rule's region, and places outside it, in the spellings a Kyiv
# newsroom writes in English.
TOWNS_INSIDE = ("Kupiansk", "Izium", "Chuhuiv", "Lozova", "Balakliia", "Kharkiv")
TOWNS_OUTSIDE = ("Lviv", "Rivne", "Poltava", "Uzhhorod", "Vinnytsia", "Chernihiv")

# Each topic's sentence; {w} is a made-up word, {n} a number, {town} a place.
TOPICS: dict[str, str] = {
    "reservoir": "The reservoir above {W} held {n} million cubic metres, the {w} water board said.",
    "grain": "Grain exports through the port of {W} rose by {n} percent, {w} traders said.",
    "rumour": "Grain exports through {W} could halt, according to a rumour among {w} traders.",
    "convoy_in": "A convoy of {n} trucks reached {town} overnight, the {w} {w} office said.",
    "convoy_out": "A convoy of {n} trucks reached {town} overnight, the {w} {w} office said.",
}
# How often a report is about each topic (the rest are about nothing a rule wants).
TOPIC_SHARES = {
    "reservoir": 0.14,
    "grain": 0.10,
    "rumour": 0.05,
    "convoy_in": 0.08,
    "convoy_out": 0.07,
}


@dataclass(frozen=True)
class RuleSpec:
    name: str
    toml: str
    channels: tuple[str, ...]
    topic: str
    regions: bool = False

    def fires(self, topics: frozenset[str]) -> bool:
        if self.topic == "grain":
            return "grain" in topics and "rumour" not in topics
        return self.topic in topics


RULES = (
    RuleSpec("Reservoirs", 'keywords = ["reservoir"]', ("hook-a", "log"), "reservoir"),
    RuleSpec("Grain exports", "query = '\"grain export*\" AND NOT rumour*'", ("hook-b",), "grain"),
    RuleSpec(
        "Convoys in Kharkiv Oblast",
        'query = "convoy"\nregions = ["Kharkiv Oblast"]',
        ("hook-a", "hook-b"),
        "convoy_in",
        regions=True,
    ),
)


class PlaceNames(Protocol):
    def lookup(self, name: str) -> list[Any]: ...


class Words:
    """Made-up words from consonant-vowel syllables: no keyword of a rule can be spelled
    this way, and with a gazetteer given none is a place name either, so a report matches
    exactly the rules its topic sentences are written for."""

    def __init__(self, seed: int, size: int = 4000, places: PlaceNames | None = None) -> None:
        rng = random.Random(seed)
        chosen: dict[str, None] = {}
        while len(chosen) < size:
            word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))
            if word in chosen or (places is not None and places.lookup(word)):
                continue
            chosen[word] = None
        self.words = list(chosen)

    def pick(self, rng: random.Random, count: int) -> list[str]:
        return rng.choices(self.words, k=count)

    def sentence(self, rng: random.Random, count: int) -> str:
        return " ".join(self.pick(rng, count)).capitalize() + "."


@dataclass(frozen=True)
class Report:
    """One news event: every copy of it, in any feed or file, is one story."""

    number: int
    title: str
    paragraphs: tuple[str, ...]
    topics: frozenset[str]

    def rules(self, rules: Iterable[RuleSpec]) -> list[RuleSpec]:
        return [rule for rule in rules if rule.fires(self.topics)]


class Newsroom:
    """Writes reports: a title and three paragraphs of made-up words, with a topic's
    sentence in the middle of the second paragraph (never among the opening sentences, which
    grouping compares)."""

    def __init__(self, words: Words, seed: int) -> None:
        self.words = words
        self.rng = random.Random(seed)
        self.reports: list[Report] = []
        self._titles: set[str] = set()

    def _topics(self) -> frozenset[str]:
        rng, found = self.rng, set()
        roll = rng.random()
        for topic, share in TOPIC_SHARES.items():
            if roll < share:
                found.add(topic)
                break
            roll -= share
        if found and rng.random() < 0.15:
            found.add(rng.choice(["reservoir", "convoy_in", "convoy_out"]))
        return frozenset(found)

    def _topic_sentence(self, topic: str) -> str:
        rng = self.rng
        town = rng.choice(TOWNS_INSIDE if topic == "convoy_in" else TOWNS_OUTSIDE)
        sentence = TOPICS[topic]
        while "{w}" in sentence:
            sentence = sentence.replace("{w}", rng.choice(self.words.words), 1)
        return sentence.format(
            W=rng.choice(self.words.words).capitalize(), n=rng.randint(2, 90), town=town
        )

    def _title(self, topics: frozenset[str]) -> str:
        while True:
            words = self.words.pick(self.rng, self.rng.randint(6, 9))
            if "reservoir" in topics and self.rng.random() < 0.3:
                words.insert(self.rng.randint(1, len(words) - 1), "reservoir")
            title = " ".join(words).capitalize()
            if title not in self._titles:
                self._titles.add(title)
                return title

    def report(self) -> Report:
        rng, words = self.rng, self.words
        topics = self._topics()
        opening = " ".join(words.sentence(rng, rng.randint(10, 16)) for _ in range(3))
        middle = [words.sentence(rng, rng.randint(8, 14)) for _ in range(3)]
        for topic in sorted(topics):
            middle.insert(rng.randint(1, len(middle)), self._topic_sentence(topic))
        closing = " ".join(words.sentence(rng, rng.randint(9, 15)) for _ in range(2))
        report = Report(
            len(self.reports), self._title(topics), (opening, " ".join(middle), closing), topics
        )
        self.reports.append(report)
        return report

    def correction(self, seed: str) -> str:
        rng = random.Random(seed)
        return "Correction: " + self.words.sentence(rng, rng.randint(8, 12))


def text_dump(report: Report, when: datetime, author: str) -> bytes:
    """The report as a page's select-all-and-copy gives it: navigation, a section, the
    headline, a byline with the time, share buttons, the paragraphs, a comments marker."""
    lines = [
        "Home | World | Business | Regions | Opinion",
        "Regional desk",
        report.title,
        f"By {author} | {when.day} {when:%B %Y, %H:%M} UTC",
        "Share",
        "",
    ]
    for paragraph in report.paragraphs:
        lines += [paragraph, ""]
    lines += ["Read more", "Comments (0)", ""]
    return "\n".join(lines).encode()


def normal_title(title: str | None) -> str:
    return " ".join((title or "").split()).casefold()


# ---------------------------------------------------------------- small server parts


async def serve(
    handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
) -> tuple[web.AppRunner, int]:
    """An aiohttp server on 127.0.0.1 answering every path with ``handler``. Handlers are
    cancelled when their client goes away, as a timed-out request leaves them asleep."""
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app, access_log=None, handler_cancellation=True, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
    await site.start()
    return runner, runner.addresses[0][1]


def reset(request: web.BaseRequest) -> None:
    """Drop the connection with a TCP reset, as a crashed proxy does."""
    transport = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


async def hang() -> web.Response:
    """After ``reset``: the server cancels the handler once it sees the connection gone."""
    await asyncio.sleep(3600)
    return web.Response(status=500)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def pause(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), max(seconds, 0.0))


# ---------------------------------------------------------------- feeds


@dataclass
class Item:
    feed: int
    number: int
    report: Report
    published: datetime
    corrections: list[str] = field(default_factory=list)

    @property
    def guid(self) -> str:
        return f"soak-{self.feed}-{self.number}"

    @property
    def link(self) -> str:
        return f"http://news.example/soak/{self.feed}/{self.number}"

    def xml(self) -> str:
        paragraphs = [*self.report.paragraphs, *self.corrections]
        html = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
        return (
            f"<item><title>{escape(self.report.title)}</title><link>{self.link}</link>"
            f'<guid isPermaLink="false">{self.guid}</guid>'
            f"<pubDate>{format_datetime(self.published)}</pubDate>"
            f"<description>{escape(html)}</description></item>"
        )


def feed_name(index: int) -> str:
    return f"soak-{index:04d}"


@dataclass
class Feed:
    index: int
    failure: float  # the share of requests answered with a fault
    items: list[Item] = field(default_factory=list)
    version: int = 0
    _body: bytes | None = None

    @property
    def live(self) -> bool:
        return self.failure < 1.0

    @property
    def etag(self) -> str:
        return f'"{self.index}-{self.version}"'

    def changed(self) -> None:
        self.version += 1
        self._body = None

    def body(self) -> bytes:
        if self._body is None:
            items = "".join(item.xml() for item in reversed(self.items))
            self._body = (
                '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
                f"<title>Soak feed {self.index}</title>"
                f"<link>http://news.example/soak/{self.index}</link>"
                f"<description>Made-up news {self.index}</description>{items}"
                "</channel></rss>"
            ).encode()
        return self._body


FEED_FAULTS = {
    "500": 0.30,
    "timeout": 0.15,
    "garbage": 0.25,
    "reset": 0.15,
    "reset_mid_body": 0.15,
}


class FeedFarm:
    """Feeds spread over several local servers, each answering ``/f/<n>.xml`` (with ETags
    and 304s) or with one of ``FEED_FAULTS`` as often as the feed's ``failure`` says."""

    def __init__(self, feeds: list[Feed], servers: int, seed: int) -> None:
        self.feeds = feeds
        self.servers = servers
        self.rng = random.Random(seed)
        self.ports: list[int] = []
        self.answers: Counter[str] = Counter()
        self._runners: list[web.AppRunner] = []

    def url(self, index: int) -> str:
        return f"http://127.0.0.1:{self.ports[index % len(self.ports)]}/f/{index}.xml"

    async def start(self) -> FeedFarm:
        for _ in range(self.servers):
            runner, port = await serve(self._handle)
            self._runners.append(runner)
            self.ports.append(port)
        return self

    async def stop(self) -> None:
        for runner in self._runners:
            await runner.cleanup()
        self._runners.clear()

    def _fault(self, feed: Feed) -> str | None:
        if self.rng.random() >= feed.failure:
            return None
        kinds = list(FEED_FAULTS)
        return self.rng.choices(kinds, weights=[FEED_FAULTS[k] for k in kinds])[0]

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        match = re.fullmatch(r"/f/(\d+)\.xml", request.path)
        if match is None or int(match.group(1)) >= len(self.feeds):
            return web.Response(status=404)
        feed = self.feeds[int(match.group(1))]
        fault = self._fault(feed)
        if fault is None:
            if request.headers.get("If-None-Match") == feed.etag:
                self.answers["304"] += 1
                return web.Response(status=304, headers={"ETag": feed.etag})
            self.answers["200"] += 1
            return web.Response(
                body=feed.body(),
                headers={"ETag": feed.etag, "Content-Type": "application/rss+xml"},
            )
        self.answers[fault] += 1
        return await self._misbehave(fault, feed, request)

    async def _misbehave(self, fault: str, feed: Feed, request: web.Request) -> web.StreamResponse:
        if fault == "500":
            return web.Response(status=500, text="upstream exploded")
        if fault == "timeout":
            return await hang()
        if fault == "garbage":
            return web.Response(body=self._garbage(), content_type="application/rss+xml")
        if fault == "reset":
            reset(request)
            return await hang()
        body = feed.body()
        response = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
        response.content_length = len(body)
        await response.prepare(request)
        await response.write(body[: len(body) // 2])
        await asyncio.sleep(0.05)
        reset(request)
        return await hang()

    def _garbage(self) -> bytes:
        """Bodies that are no feed, and none that a lenient parser could read entries from
        (a feed cut after some entries would be read in part)."""
        kind = self.rng.randrange(4)
        if kind == 0:
            return self.rng.randbytes(2048)
        if kind == 1:
            return b"<html><body><h1>Down for maintenance</h1><p>Back soon.</p></body></html>"
        if kind == 2:
            return b'{"error": "quota exceeded", "retry": true}'
        return b'<?xml version="1.0"?><rss version="2.0"><channel><title>Soak'


# ---------------------------------------------------------------- webhooks


@dataclass(frozen=True)
class Delivery:
    uid: str  # the webhook-id header
    body_id: str
    rule: str
    story_id: int
    title: str
    channel: str


HOOK_FAULTS = {"500": 0.14, "503": 0.05, "reset": 0.08, "slow": 0.15}


class Hook:
    """A webhook receiver for one channel. Every request is answered with a fault as
    ``HOOK_FAULTS`` say or with 200; only a 200 that was written counts as delivered (a
    slow answer the daemon gave up on is cancelled with its connection)."""

    def __init__(self, channel: str, seed: int, slow: tuple[float, float] = (0.5, 3.5)) -> None:
        self.channel = channel
        self.rng = random.Random(seed)
        self.slow = slow
        self.port = 0
        self.requests = 0
        self.answers: Counter[str] = Counter()
        self.accepted: list[Delivery] = []
        self.mismatched: list[str] = []  # webhook-id headers that differ from the body's id
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook/{self.channel}"

    async def start(self) -> Hook:
        self._runner, self.port = await serve(self._handle)
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def _fault(self) -> str | None:
        roll = self.rng.random()
        for kind, share in HOOK_FAULTS.items():
            if roll < share:
                return kind
            roll -= share
        return None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        payload: dict[str, Any] = json.loads(await request.read())
        self.requests += 1
        fault = self._fault()
        self.answers[fault or "200"] += 1
        if fault == "500":
            return web.Response(status=500, text="receiver broke")
        if fault == "503":
            return web.Response(status=503, text="busy", headers={"Retry-After": "1"})
        if fault == "reset":
            reset(request)
            return await hang()
        if fault == "slow":
            await asyncio.sleep(self.rng.uniform(*self.slow))
        uid = request.headers.get("webhook-id", "")
        if uid != str(payload.get("id")):
            self.mismatched.append(uid)
        self.accepted.append(delivery(uid, payload, self.channel))
        return web.Response(text="ok")


def delivery(uid: str, payload: dict[str, Any], channel: str) -> Delivery:
    article = payload.get("article") or {}
    return Delivery(
        uid,
        str(payload.get("id")),
        str(payload.get("rule")),
        int(payload.get("story_id") or 0),
        str(article.get("title") or ""),
        channel,
    )


def file_deliveries(path: Path, channel: str) -> list[Delivery]:
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [delivery(str(p.get("id")), p, channel) for p in map(json.loads, lines) if p]


# ---------------------------------------------------------------- publishing


@dataclass(frozen=True)
class DropRecord:
    name: str
    report: Report | None  # None: junk for the quarantine
    way: str  # "atomic", "slow" or "junk"


@dataclass
class Publisher:
    """What goes out while the daemon runs, and the ledger of all of it."""

    newsroom: Newsroom
    feeds: list[Feed]
    drops: Path
    rng: random.Random
    items_per_second: float
    drop_every: float
    dropped: list[DropRecord] = field(default_factory=list)
    published: Counter[str] = field(default_factory=Counter)

    @property
    def live(self) -> list[Feed]:
        return [feed for feed in self.feeds if feed.live]

    def items(self) -> list[Item]:
        return [item for feed in self.feeds for item in feed.items]

    def reports_out(self) -> list[Report]:
        """Every report published in a feed or a readable drop file."""
        seen = {item.report.number: item.report for item in self.items()}
        seen.update({d.report.number: d.report for d in self.dropped if d.report is not None})
        return list(seen.values())

    def add(self, feed: Feed, report: Report) -> None:
        feed.items.append(Item(feed.index, len(feed.items), report, datetime.now(UTC)))
        feed.changed()

    def seed_feeds(self) -> None:
        for feed in self.live:
            self.add(feed, self.newsroom.report())
        self.published["new"] += len(self.live)

    def step(self) -> None:
        """One change: mostly a new report, sometimes a copy of a recent one in another
        feed, sometimes a correction of an entry already out."""
        rng, live = self.rng, self.live
        roll = rng.random()
        recent = self.newsroom.reports[-60:]
        if roll < 0.10 and recent:
            report = rng.choice(recent)
            having = {i.feed for i in self.items() if i.report is report}
            others = [f for f in live if f.index not in having]
            if others:
                self.add(rng.choice(others), report)
                self.published["copy"] += 1
                return
        if roll < 0.15:
            feed = rng.choice(live)
            item = rng.choice(feed.items)
            item.corrections.append(
                self.newsroom.correction(f"{item.guid} {len(item.corrections)}")
            )
            feed.changed()
            self.published["correction"] += 1
            return
        self.add(rng.choice(live), self.newsroom.report())
        self.published["new"] += 1

    async def run_feeds(self, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        due = loop.time()
        while not stop.is_set():
            self.step()
            due += self.rng.expovariate(self.items_per_second)
            await pause(stop, due - loop.time())

    async def run_drops(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self.drop_one()
            await pause(stop, self.rng.uniform(0.5, 1.5) * self.drop_every)

    async def drop_one(self) -> None:
        rng = self.rng
        name = f"dump-{len(self.dropped):05d}.txt"
        if rng.random() < 0.08:
            data = b"\x00\x01\x7fELF" + rng.randbytes(1500)
            self.dropped.append(DropRecord(name, None, "junk"))
            await asyncio.to_thread(write_atomically, self.drops / name, data)
            return
        dropped = {d.report.number for d in self.dropped if d.report is not None}
        in_feeds = [i.report for i in self.items()[-200:] if i.report.number not in dropped]
        if rng.random() < 0.25 and in_feeds:
            report = rng.choice(in_feeds)
        else:
            report = self.newsroom.report()
        data = text_dump(report, datetime.now(UTC), "Marta Soakova")
        way = "slow" if rng.random() < 0.5 else "atomic"
        self.dropped.append(DropRecord(name, report, way))
        if way == "atomic":
            await asyncio.to_thread(write_atomically, self.drops / name, data)
        else:
            pieces = rng.randint(3, 8)
            await asyncio.to_thread(write_slowly, self.drops / name, data, pieces, 0.1)


def write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.part")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def write_slowly(path: Path, data: bytes, pieces: int, gap: float) -> None:
    """In ``pieces`` writes ``gap`` seconds apart: well under the drop's ``watch_settle``,
    as a writer that streams a file in place must be."""
    step = -(-len(data) // pieces)
    with path.open("wb") as handle:
        for start in range(0, len(data), step):
            handle.write(data[start : start + step])
            handle.flush()
            time.sleep(gap)


# ---------------------------------------------------------------- the daemon


def settings_text(
    config: SoakConfig, workdir: Path, database: str, farm: FeedFarm, hooks: dict[str, Hook]
) -> str:
    rules = [rule for rule in RULES if config.regions or not rule.regions]
    rule_tables = "".join(
        f"\n[[rules]]\nname = {json.dumps(r.name)}\n{r.toml}\nchannels = {json.dumps(r.channels)}\n"
        for r in rules
    )
    hook_tables = "".join(
        f'\n[channels.{name}]\ntype = "webhook"\nurl = {json.dumps(hook.url)}\ntimeout = "2s"\n'
        for name, hook in hooks.items()
    )
    feeds = "".join(
        f"\n[[feeds]]\nname = {json.dumps(feed_name(f.index))}\n"
        f"url = {json.dumps(farm.url(f.index))}\n"
        + ('interval = "4s"\n' if f.index % 2 == 0 else "")
        for f in farm.feeds
    )
    retries = json.dumps(["500ms"] + ["1s"] * 10 + ["2s"] * 30)
    return f"""
[daemon]
database = {json.dumps(database)}
data_dir = {json.dumps(str(workdir / "data"))}
poll_interval = "4s"
scan_interval = "2s"
delivery_interval = "500ms"
shutdown_timeout = "5s"
log_level = "INFO"
http = "127.0.0.1:{config.http_port}"

[polling]
tick = "1s"
concurrency = 32
per_host_concurrency = 32
per_host_delay = "0s"
connect_timeout = "2s"
read_timeout = "2s"
total_timeout = "5s"
min_interval = "2s"
max_interval = "6s"
error_backoff = "1s"
error_backoff_cap = "5s"
broken_after = "20s"

[delivery]
retry_schedule = {retries}
batch_size = 50
concurrency = 8

[[drops]]
name = "desk"
path = {json.dumps(str(workdir / "drops"))}
timezone = "UTC"
settle = "1s"
watch_settle = "1s"

[channels.log]
type = "file"
path = {json.dumps(str(workdir / "alerts.jsonl"))}
{hook_tables}{rule_tables}{feeds}"""


PACKAGES = ("daemon", "alerts", "storage")


def snapshot(into: Path) -> str:
    """Copy the daemon's packages as they are now, so that the run uses one version of the
    code throughout: its parser workers are started from the files on disk, and a checkout
    edited during a soak would hand them modules their parent does not know. Returns what
    was copied: the commit and the files changed since."""
    for package in PACKAGES:
        shutil.copytree(ROOT / package, into / package)
    git = ["git", "-C", str(ROOT)]
    try:
        head = subprocess.run(
            [*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        changed = subprocess.run(
            [*git, "status", "--porcelain", "--", *PACKAGES],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):
        return "code of unknown version"
    if not changed:
        return f"code of {head}"
    return f"code of {head} with {len(changed)} files changed since: " + ", ".join(
        line[3:] for line in changed
    )


class Daemon:
    """``python -m daemon --settings F run`` from a copy of the code (``snapshot``), its
    log in a file; ready once its ``/readyz`` says so."""

    def __init__(self, settings: Path, log: Path, base: str, code: Path) -> None:
        self.settings = settings
        self.log = log
        self.base = base
        self.code = code
        self.proc: asyncio.subprocess.Process | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    async def start(self, session: aiohttp.ClientSession, within: float) -> None:
        with self.log.open("ab") as out:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "daemon",
                "--settings",
                str(self.settings),
                "run",
                stdout=out,
                stderr=asyncio.subprocess.STDOUT,
                cwd=str(self.code),
            )
        # Its "started" line first: while it migrates, /readyz can take seconds to answer
        # that the database did not answer in time.
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if self.proc.returncode is not None:
                raise SoakError(f"the daemon exited with {self.proc.returncode}:\n{self.tail()}")
            if self.started():
                with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                    async with session.get(f"{self.base}/readyz") as response:
                        if response.status == 200:
                            return
            await asyncio.sleep(0.1)
        raise SoakError(f"the daemon was not ready within {within:.0f}s:\n{self.tail()}")

    def started(self) -> bool:
        try:
            with self.log.open(errors="replace") as handle:
                return any(" newswatch.daemon started " in line for line in handle)
        except OSError:
            return False

    async def stop(self, within: float = 30.0) -> int | None:
        if self.proc is None:
            return None
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return await asyncio.wait_for(self.proc.wait(), within)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()
            return None

    def tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def errors(self) -> list[str]:
        """ERROR lines of the log but the ones the never-answering feeds are meant to cause."""
        try:
            with self.log.open(errors="replace") as handle:
                return [
                    line.rstrip()
                    for line in handle
                    if " ERROR " in line and " feed broken " not in line
                ]
        except OSError:
            return []


class SoakError(Exception):
    """The soak could not run (the daemon would not start, a database was not empty)."""


# ---------------------------------------------------------------- watching it


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = defaultdict(list)
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree[ppid].append(int(entry))
    return tree


def descendants(pid: int) -> list[int]:
    tree, found, todo = _children(), [], [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def memory(pid: int) -> dict[str, int]:
    """VmRSS and its anonymous and file-backed parts, in bytes: SQLite maps its database
    file, so file-backed pages grow with the database, while a leak shows as anonymous."""
    found = {"VmRSS": 0, "RssAnon": 0, "RssFile": 0}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in found:
                found[key] = int(value.split()[0]) * 1024
    except OSError:
        pass
    return found


def fd_count(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return 0


@dataclass(frozen=True)
class Sample:
    label: str
    at: float  # seconds since the daemon was ready
    rss_daemon: int
    rss_children: int
    anon_daemon: int
    file_daemon: int
    children: int
    fds: int
    metrics: dict[str, float]

    @property
    def rss_total(self) -> int:
        return self.rss_daemon + self.rss_children


METRICS = (
    "newswatch_outbox_pending",
    "process_open_fds",
    "process_resident_memory_bytes",
    "newswatch_event_loop_lag_max_seconds",
    "newswatch_parser_workers",
)


def read_metrics(page: str) -> dict[str, float]:
    found: dict[str, float] = {}
    for line in page.splitlines():
        name, _, value = line.partition(" ")
        if name in METRICS:
            with contextlib.suppress(ValueError):
                found[name] = float(value)
    names = {line.split("{")[0].split()[0] for line in page.splitlines() if line[:1] not in "#"}
    found["tasks_gauge"] = float(any("task" in name for name in names))
    return found


async def sample(
    label: str, daemon: Daemon, session: aiohttp.ClientSession, since: float
) -> Sample:
    pid = daemon.pid
    kids = await asyncio.to_thread(descendants, pid)
    metrics: dict[str, float] = {}
    with contextlib.suppress(aiohttp.ClientError, TimeoutError):
        async with session.get(f"{daemon.base}/metrics") as response:
            metrics = read_metrics(await response.text())
    own = memory(pid)
    return Sample(
        label,
        time.monotonic() - since,
        own["VmRSS"],
        sum(memory(k)["VmRSS"] for k in kids),
        own["RssAnon"],
        own["RssFile"],
        len(kids),
        fd_count(pid),
        metrics,
    )


# ---------------------------------------------------------------- reading the outcome


@dataclass
class Stored:
    """The daemon's database after the run, read with plain SQL."""

    articles: list[tuple[str, str, str | None, str, int]]  # kind, source, url, title, story
    alerts: list[tuple[str, str, int, str, str, int, str]]  # uid rule story channel status n title
    drop_files: Counter[str]
    merged: dict[int, int]
    feeds: dict[str, tuple[Any, Any, str | None]]  # name: last poll, next poll, last status

    def story(self, story_id: int) -> int:
        seen = set()
        while story_id in self.merged and story_id not in seen:
            seen.add(story_id)
            story_id = self.merged[story_id]
        return story_id


def _json(value: Any) -> dict[str, Any]:
    return json.loads(value) if isinstance(value, str | bytes) else dict(value or {})


async def read_database(url: str) -> Stored:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            articles = await conn.execute(
                text(
                    "SELECT s.kind, s.name, a.url, a.title, a.story_id FROM articles a "
                    "JOIN sources s ON s.id = a.source_id"
                )
            )
            alerts = await conn.execute(
                text("SELECT uid, rule, story_id, channel, status, attempts, payload FROM alerts")
            )
            files = await conn.execute(
                text("SELECT status, count(*) FROM drop_files GROUP BY status")
            )
            merged = await conn.execute(
                text("SELECT id, merged_into FROM stories WHERE merged_into IS NOT NULL")
            )
            feeds = await conn.execute(
                text(
                    "SELECT name, last_poll_at, next_poll_at, last_status FROM sources "
                    "WHERE kind = 'feed'"
                )
            )
            return Stored(
                [(r[0], r[1], r[2], r[3], int(r[4])) for r in articles],
                [
                    (r[0], r[1], int(r[2]), r[3], r[4], int(r[5]), _article_title(r[6]))
                    for r in alerts
                ],
                Counter({str(r[0]): int(r[1]) for r in files}),
                {int(r[0]): int(r[1]) for r in merged},
                {str(r[0]): (r[1], r[2], r[3]) for r in feeds},
            )
    finally:
        await engine.dispose()


def _article_title(payload: Any) -> str:
    return str((_json(payload).get("article") or {}).get("title") or "")


async def stored_articles(url: str) -> int:
    """Articles already in the database before the daemon starts (0 without the table)."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return int(await conn.scalar(text("SELECT count(*) FROM articles")) or 0)
    except Exception:  # no such table: a database the daemon has not migrated yet
        return 0
    finally:
        await engine.dispose()


async def progress(url: str) -> tuple[int, int, int]:
    """Articles stored, drop files recorded, alerts not delivered yet."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            articles = await conn.scalar(text("SELECT count(*) FROM articles"))
            files = await conn.scalar(text("SELECT count(*) FROM drop_files"))
            waiting = await conn.scalar(
                text("SELECT count(*) FROM alerts WHERE status <> 'delivered'")
            )
            return int(articles or 0), int(files or 0), int(waiting or 0)
    finally:
        await engine.dispose()


# ---------------------------------------------------------------- the account


@dataclass
class SoakResult:
    database: str
    seconds: float
    feeds: int
    published: Counter[str]
    items: int
    drop_files: int
    junk_files: int
    ingested: int = 0
    missing_articles: int = 0
    doubled_articles: int = 0
    unknown_articles: int = 0
    expected_alerts: int = 0
    alerted: int = 0
    delivered: int = 0
    lost_alerts: int = 0
    duplicate_ids: int = 0
    unexpected_alerts: int = 0
    stuck_alerts: int = 0
    phantom_alerts: int = 0
    repeats: int = 0
    split_reports: int = 0
    stories: int = 0
    quarantined: int = 0
    samples: list[Sample] = field(default_factory=list)
    answers: dict[str, Counter[str]] = field(default_factory=dict)
    drained_in: float | None = None
    ready_in: float = 0.0
    code: str = ""
    exit_code: int | None = None
    log_errors: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def lost(self) -> int:
        return self.missing_articles + self.lost_alerts

    @property
    def duplicates(self) -> int:
        return self.doubled_articles + self.duplicate_ids

    def at(self, label: str) -> Sample | None:
        return next((s for s in self.samples if s.label == label), None)

    @property
    def growth(self) -> float | None:
        """Resident memory of the daemon and its children, middle to end of publishing."""
        middle, end = self.at("middle"), self.at("end")
        if middle is None or end is None or not middle.rss_total:
            return None
        return end.rss_total / middle.rss_total - 1

    @property
    def failures(self) -> list[str]:
        checks = [
            (self.lost, "lost"),
            (self.duplicates, "duplicates"),
            (self.unexpected_alerts, "unexpected alerts"),
            (self.stuck_alerts, "alerts still pending or dead"),
            (self.phantom_alerts, "alerts marked delivered that no receiver accepted"),
            (self.unknown_articles, "articles nobody published"),
        ]
        found = [f"{n} {what}" for n, what in checks if n]
        growth = self.growth
        if growth is None or growth > GROWTH_LIMIT:
            shown = "unknown" if growth is None else f"{growth:+.1%}"
            found.append(f"memory growth middle to end {shown} (limit +{GROWTH_LIMIT:.0%})")
        if self.exit_code != 0:
            found.append(f"daemon exit code {self.exit_code}")
        return found

    def summary(self) -> str:
        return "\n".join(summary_lines(self))


def summary_lines(r: SoakResult) -> list[str]:
    mb = 1024 * 1024

    def figures(pick: Callable[[Sample], float], unit: str = "") -> str:
        shown = []
        for label in ("start", "middle", "end", "drained"):
            s = r.at(label)
            shown.append(f"{label} {pick(s):.0f}{unit}" if s else f"{label} -")
        return ", ".join(shown)

    growth = r.growth
    lines = [
        f"soak on {r.database}: {r.seconds:.0f}s of publishing, {r.feeds} feeds; drained in "
        + (f"{r.drained_in:.1f}s" if r.drained_in is not None else "NOT drained"),
        f"published: {r.items} feed entries ({r.published['new']} new reports, "
        f"{r.published['copy']} copies in other feeds, {r.published['correction']} corrections), "
        f"{r.drop_files} drop files ({r.junk_files} junk), {r.quarantined} quarantined",
        f"daemon: {r.code}",
        f"ingested: {r.ingested} articles ({r.missing_articles} missing, {r.doubled_articles} "
        f"stored twice, {r.unknown_articles} unknown); {r.stories} stories, "
        f"{r.split_reports} reports split over two stories",
        f"alerted: {r.alerted} alerts in the outbox for {r.expected_alerts} expected "
        f"(rule, report, channel); {r.stuck_alerts} pending or dead at the end",
        f"delivered: {r.delivered} distinct ids accepted ({r.repeats} ids accepted again); "
        f"lost {r.lost_alerts}, under two ids {r.duplicate_ids}, unexpected "
        f"{r.unexpected_alerts}, marked delivered but never accepted {r.phantom_alerts}",
        f"LOST {r.lost}  DUPLICATES {r.duplicates}",
        "RSS daemon+children (MB): " + figures(lambda s: s.rss_total / mb),
        "RSS daemon alone (MB): " + figures(lambda s: s.rss_daemon / mb),
        "  of it anonymous (MB): " + figures(lambda s: s.anon_daemon / mb),
        "  of it file-backed (MB): " + figures(lambda s: s.file_daemon / mb),
        "open fds (daemon): " + figures(lambda s: s.fds),
        f"most seen (a sample every {SAMPLE_EVERY:g}s): RSS "
        f"{max(s.rss_total for s in r.samples) / mb:.0f} MB, fds {max(s.fds for s in r.samples)}"
        if r.samples
        else "no samples",
        "memory growth middle to end: "
        + ("unknown" if growth is None else f"{growth:+.1%}")
        + f" (limit +{GROWTH_LIMIT:.0%})",
        "asyncio tasks: not exposed (/metrics has no tasks gauge)"
        if not any(s.metrics.get("tasks_gauge") for s in r.samples)
        else "asyncio tasks: see /metrics",
    ]
    for name, counts in r.answers.items():
        lines.append(f"{name} answers: " + ", ".join(f"{k} {v}" for k, v in counts.most_common()))
    lines.append(
        f"daemon: ready in {r.ready_in:.1f}s, exit code {r.exit_code}, {r.log_errors} ERROR "
        'lines in its log besides the never-answering feeds\' "feed broken"'
    )
    lines += [f"  {p}" for p in r.problems[:20]]
    failures = r.failures
    lines.append("SOAK FAILED: " + "; ".join(failures) if failures else "SOAK PASSED")
    return lines


def account(
    result: SoakResult,
    publisher: Publisher,
    stored: Stored,
    deliveries: list[Delivery],
    rules: list[RuleSpec],
) -> None:
    """Fill ``result`` from what was published, what the database holds and what the
    receivers accepted."""
    check_articles(result, publisher, stored)
    reports = {normal_title(r.title): r for r in publisher.reports_out()}
    expected = {
        (rule.name, report.number, channel)
        for report in reports.values()
        for rule in report.rules(rules)
        for channel in rule.channels
    }
    result.expected_alerts = len(expected)
    result.alerted = len(stored.alerts)
    by_key: dict[tuple[str, int, str], set[str]] = defaultdict(set)
    by_story: dict[tuple[str, int, str], set[str]] = defaultdict(set)
    ids: Counter[str] = Counter()
    for d in deliveries:
        ids[d.uid] += 1
        report = reports.get(normal_title(d.title))
        by_key[(d.rule, report.number if report else -1, d.channel)].add(d.uid)
        by_story[(d.rule, stored.story(d.story_id), d.channel)].add(d.uid)
    result.delivered = len(ids)
    result.repeats = sum(1 for n in ids.values() if n > 1)
    lost = expected - set(by_key)
    result.lost_alerts = len(lost)
    result.problems += [f"alert never delivered: {k}" for k in sorted(lost)[:5]]
    twice = {k: v for k, v in by_key.items() if len(v) > 1}
    twice_story = {k: v for k, v in by_story.items() if len(v) > 1}
    result.duplicate_ids = len(set(twice) | {k for k in twice_story})
    result.problems += [f"sent under two ids: {k} {sorted(v)}" for k, v in list(twice.items())[:5]]
    result.problems += [
        f"story sent under two ids: {k} {sorted(v)}" for k, v in list(twice_story.items())[:5]
    ]
    unexpected = set(by_key) - expected
    result.unexpected_alerts = len(unexpected)
    result.problems += [f"unexpected alert: {k}" for k in sorted(unexpected)[:5]]
    stuck = [a for a in stored.alerts if a[4] != "delivered"]
    result.stuck_alerts = len(stuck)
    result.problems += [f"not delivered: {a[:6]}" for a in stuck[:5]]
    phantom = [a for a in stored.alerts if a[4] == "delivered" and a[0] not in ids]
    result.phantom_alerts = len(phantom)
    result.problems += [f"delivered, never accepted: {a[:6]}" for a in phantom[:5]]


def stalled(missing: list[tuple[str, str]], stored: Stored) -> list[str]:
    """Where the feeds with entries never stored stood in the database at the end: a feed
    due long before the end and never polled again was dropped by the scheduler, not
    failing."""
    names = sorted({source for source, _ in missing if source in stored.feeds})
    if not names:
        return []
    polls = [stored.feeds[name] for name in names]
    last = sorted(str(p[0])[:19] for p in polls if p[0] is not None)
    shown = "; ".join(
        f"{name} last polled {str(stored.feeds[name][0])[:19]} ({stored.feeds[name][2]}), "
        f"next due {str(stored.feeds[name][1])[:19]}"
        for name in names[:3]
    )
    span = f"{last[0]} to {last[-1]}" if last else "never"
    return [f"{len(names)} feeds with entries never stored, last polled {span}: {shown}"]


def reports_by_number(publisher: Publisher) -> dict[int, Report]:
    return {r.number: r for r in publisher.reports_out()}


def check_articles(result: SoakResult, publisher: Publisher, stored: Stored) -> None:
    wanted: Counter[tuple[str, str]] = Counter()
    for item in publisher.items():
        wanted[(feed_name(item.feed), item.link)] = 0
    for record in publisher.dropped:
        if record.report is not None:
            wanted[("desk", normal_title(record.report.title))] = 0
    unknown = []
    stories: dict[int, set[int]] = defaultdict(set)
    copies: dict[int, list[str]] = defaultdict(list)
    reports = {normal_title(r.title): r for r in publisher.reports_out()}
    for kind, source, url, title, story in stored.articles:
        key = (source, url or "") if kind == "feed" else (source, normal_title(title))
        if key in wanted:
            wanted[key] += 1
        else:
            unknown.append(key)
        report = reports.get(normal_title(title))
        if report is not None:
            stories[report.number].add(stored.story(story))
            copies[report.number].append(f"{source}: story {stored.story(story)}")
    result.ingested = len(stored.articles)
    missing = [k for k, n in wanted.items() if n == 0]
    doubled = [k for k, n in wanted.items() if n > 1]
    result.missing_articles, result.doubled_articles = len(missing), len(doubled)
    result.unknown_articles = len(unknown)
    result.problems += [f"never stored: {k}" for k in missing[:5]]
    result.problems += stalled(missing, stored)
    result.problems += [f"stored {wanted[k]} times: {k}" for k in doubled[:5]]
    result.problems += [f"stored, never published: {k}" for k in unknown[:5]]
    split = [number for number, s in stories.items() if len(s) > 1]
    result.split_reports = len(split)
    result.problems += [
        f"one report in {len(stories[n])} stories: report {n} "
        f"{reports_by_number(publisher)[n].title!r} ({'; '.join(copies[n])})"
        for n in split[:5]
    ]
    result.stories = len({s for group in stories.values() for s in group})
    result.quarantined = stored.drop_files.get("quarantined", 0)


# ---------------------------------------------------------------- the run


@dataclass
class SoakConfig:
    seconds: float = 300.0
    feeds: int = 1000
    database: str | None = None  # an empty database; None: SQLite in ``workdir``
    workdir: Path | None = None  # None: a temporary folder, removed afterwards
    regions: bool = True
    cache: Path = DEFAULT_CACHE  # the gazetteer cache, for the region rule
    items_per_second: float = 12.0
    drop_every: float = 1.5
    drain: float = 60.0
    servers: int = 4
    flaky_share: float = 0.2
    dead_share: float = 0.03
    seed: int = 0
    http_port: int = 0
    report: Callable[[str], None] | None = None  # progress lines


def make_feeds(config: SoakConfig, rng: random.Random) -> list[Feed]:
    feeds = []
    for index in range(config.feeds):
        roll = rng.random()
        if roll < config.dead_share:
            failure = 1.0
        elif roll < config.dead_share + config.flaky_share:
            failure = 0.3
        else:
            failure = 0.02
        feeds.append(Feed(index, failure))
    return feeds


def vocabulary(config: SoakConfig) -> Words:
    if not config.regions:
        return Words(config.seed)
    from alerts.regions import Gazetteer

    return Words(config.seed, places=Gazetteer.load(config.cache))


async def run_soak(config: SoakConfig) -> SoakResult:
    """Run one soak as ``config`` says and account for it; raises SoakError when the daemon
    could not be started at all."""
    if config.workdir is None:
        with tempfile.TemporaryDirectory(prefix="newswatch-soak-") as folder:
            return await _run(config, Path(folder))
    config.workdir.mkdir(parents=True, exist_ok=True)
    return await _run(config, config.workdir)


async def _run(config: SoakConfig, workdir: Path) -> SoakResult:
    say = config.report or (lambda line: None)
    rng = random.Random(config.seed)
    config.http_port = config.http_port or free_port()
    database = config.database or f"sqlite+aiosqlite:///{workdir / 'soak.db'}"
    (workdir / "drops").mkdir(exist_ok=True)
    (workdir / "data").mkdir(exist_ok=True)
    if config.regions:
        words = await asyncio.to_thread(vocabulary, config)
        cache = workdir / "data" / "cache"
        if not cache.exists():
            cache.symlink_to(config.cache.resolve(), target_is_directory=True)
    else:
        words = vocabulary(config)
    feeds = make_feeds(config, rng)
    publisher = Publisher(
        Newsroom(words, config.seed + 1),
        feeds,
        workdir / "drops",
        random.Random(config.seed + 2),
        config.items_per_second,
        config.drop_every,
    )
    publisher.seed_feeds()
    rules = [rule for rule in RULES if config.regions or not rule.regions]
    async with parts(config, feeds) as (farm, hooks):
        settings = workdir / "settings.toml"
        settings.write_text(settings_text(config, workdir, database, farm, hooks), "utf-8")
        code = workdir / "code"
        version = await asyncio.to_thread(snapshot, code)
        base = f"http://127.0.0.1:{config.http_port}"
        daemon = Daemon(settings, workdir / "daemon.log", base, code)
        timeout = aiohttp.ClientTimeout(total=10)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            try:
                result = await _soak(config, publisher, daemon, session, database, say)
            finally:
                exit_code = await daemon.stop()
        result.exit_code = exit_code
        result.code = version
        result.answers = {"feeds": farm.answers, **{h: hooks[h].answers for h in hooks}}
    deliveries = [d for hook in hooks.values() for d in hook.accepted]
    deliveries += file_deliveries(workdir / "alerts.jsonl", "log")
    stored = await read_database(database)
    account(result, publisher, stored, deliveries, rules)
    mismatched = [uid for hook in hooks.values() for uid in hook.mismatched]
    result.duplicate_ids += len(mismatched)
    result.problems += [f"webhook-id differs from the body's id: {u}" for u in mismatched[:5]]
    errors = daemon.errors()
    result.log_errors = len(errors)
    result.problems += [f"daemon log: {line[:300]}" for line in errors[:5]]
    return result


@contextlib.asynccontextmanager
async def parts(
    config: SoakConfig, feeds: list[Feed]
) -> AsyncIterator[tuple[FeedFarm, dict[str, Hook]]]:
    farm = await FeedFarm(feeds, config.servers, config.seed + 3).start()
    hooks: dict[str, Hook] = {}
    try:
        for n, name in enumerate(("hook-a", "hook-b")):
            hooks[name] = await Hook(name, config.seed + 10 + n).start()
        yield farm, hooks
    finally:
        for hook in hooks.values():
            await hook.stop()
        await farm.stop()


async def _soak(
    config: SoakConfig,
    publisher: Publisher,
    daemon: Daemon,
    session: aiohttp.ClientSession,
    database: str,
    say: Callable[[str], None],
) -> SoakResult:
    if await stored_articles(database):
        raise SoakError(f"the database is not empty: {database}")
    launched = time.monotonic()
    await daemon.start(session, within=180.0)
    ready = time.monotonic()
    result = SoakResult(
        database.split(":", 1)[0].split("+")[0],
        config.seconds,
        config.feeds,
        publisher.published,
        0,
        0,
        0,
    )
    result.ready_in = ready - launched
    result.samples.append(await sample("start", daemon, session, ready))
    stop = asyncio.Event()
    workers = [
        asyncio.create_task(publisher.run_feeds(stop)),
        asyncio.create_task(publisher.run_drops(stop)),
    ]
    try:
        await watch(config, daemon, session, ready, result, say)
    finally:
        stop.set()
        await asyncio.gather(*workers)
    result.samples.append(await sample("end", daemon, session, ready))
    result.items = len(publisher.items())
    result.drop_files = len(publisher.dropped)
    result.junk_files = sum(1 for d in publisher.dropped if d.report is None)
    result.drained_in = await drain(config, publisher, database, say)
    result.samples.append(await sample("drained", daemon, session, ready))
    return result


async def watch(
    config: SoakConfig,
    daemon: Daemon,
    session: aiohttp.ClientSession,
    ready: float,
    result: SoakResult,
    say: Callable[[str], None],
) -> None:
    """Sit through the publishing, sampling the daemon every few seconds (the middle one
    kept) and reporting every half minute."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    middle_taken = False
    sampled = told = 0.0
    while (elapsed := loop.time() - started) < config.seconds:
        if daemon.proc is not None and daemon.proc.returncode is not None:
            raise SoakError(f"the daemon exited with {daemon.proc.returncode}:\n{daemon.tail()}")
        if not middle_taken and elapsed >= config.seconds / 2:
            result.samples.append(await sample("middle", daemon, session, ready))
            middle_taken = True
        if elapsed - sampled >= SAMPLE_EVERY:
            sampled = elapsed
            now = await sample("t", daemon, session, ready)
            result.samples.append(now)
            if elapsed - told >= 30:
                told = elapsed
                pending = now.metrics.get("newswatch_outbox_pending", float("nan"))
                say(
                    f"t={elapsed:.0f}s rss={now.rss_total / 2**20:.0f}MB fds={now.fds} "
                    f"outbox_pending={pending:.0f}"
                )
        await asyncio.sleep(min(1.0, config.seconds - elapsed))


async def drain(
    config: SoakConfig, publisher: Publisher, database: str, say: Callable[[str], None]
) -> float | None:
    """Seconds until every entry and readable file is stored and nothing waits in the
    outbox (seen twice in a row), or None if that did not happen within ``config.drain``."""
    wanted = len(publisher.items()) + sum(1 for d in publisher.dropped if d.report is not None)
    files = len(publisher.dropped)
    started = time.monotonic()
    streak = 0
    while (elapsed := time.monotonic() - started) < config.drain:
        articles, recorded, waiting = await progress(database)
        streak = streak + 1 if articles >= wanted and recorded >= files and not waiting else 0
        if streak >= 2:
            return elapsed
        await asyncio.sleep(1.0)
    articles, recorded, waiting = await progress(database)
    say(
        f"not drained within {config.drain:.0f}s: articles {articles}/{wanted}, "
        f"drop files {recorded}/{files}, alerts waiting {waiting}"
    )
    return None


# ---------------------------------------------------------------- command line


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=300.0)
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--database", help="SQLAlchemy URL of an EMPTY database")
    parser.add_argument("--items-per-second", type=float, default=12.0)
    parser.add_argument("--drop-every", type=float, default=1.5, help="seconds between files")
    parser.add_argument("--drain", type=float, default=60.0)
    parser.add_argument("--no-regions", action="store_true", help="leave out the region rule")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="gazetteer cache")
    parser.add_argument("--workdir", type=Path, help="keep settings, log and SQLite file here")
    parser.add_argument("--seed", type=int, default=random.randrange(1 << 30))
    args = parser.parse_args()
    config = SoakConfig(
        seconds=args.seconds,
        feeds=args.feeds,
        database=args.database,
        workdir=args.workdir,
        regions=not args.no_regions,
        cache=args.cache,
        items_per_second=args.items_per_second,
        drop_every=args.drop_every,
        drain=args.drain,
        seed=args.seed,
        report=lambda line: print(line, flush=True),
    )
    print(f"seed {config.seed}", flush=True)
    try:
        result = asyncio.run(run_soak(config))
    except SoakError as exc:
        print(f"SOAK FAILED: {exc}", flush=True)
        sys.exit(1)
    print(result.summary(), flush=True)
    sys.exit(1 if result.failures else 0)


if __name__ == "__main__":
    main()
