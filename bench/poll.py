"""Poll cycle cost against a bare aiohttp fetch loop over the same feeds, in the same run.

A separate server process serves N RSS feeds spread over several loopback hosts
(127.0.0.1, 127.0.0.2, …). Each "bump" publishes 5 new items in every feed and changes its
ETag. Two cycles are measured, each beside its floor:

- 200: every feed has new items. Floor: a bare loop GETting every feed (no parsing, no
  storage). The daemon cycle also parses and stores. Target: limited by parsing with both
  cores in use, that is every parser worker had a document for at least 90% of the cycle
  (fetching and storing never left one waiting) and the cores were at least 90% busy. The
  parse stage alone, on the same bodies, is timed afterwards: the cycle against it, and
  parsing's share of the cycle's CPU, show what the daemon's own work costs beside it.
- 304: nothing changed. Floor: a bare loop sending If-None-Match. Target: within 1.5x.
  One 304 cycle lasts a few hundred milliseconds, so a single pair moves with whatever else
  the machine does (on a shared 2-core machine, from 1.0x to 2.7x); ``--repeat-304`` more
  pairs (15 by default), bare and daemon alternating, give a median.

Throughout, a 10 ms ticker measures the worst event-loop lag (target < 100 ms), and the
resident memory of the daemon process and its parser workers is sampled: RSS, and PSS, which
counts the pages the forked workers share with their fork server once instead of in each.
The daemon runs inside the bench process, so its figure includes the bench's own share.

    .venv/bin/python bench/poll.py [--feeds 2000] [--hosts 50] [--items 20]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import psutil
from aiohttp import web

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from daemon.feeds.parsing import ParsePool, guid_digest, worker_count  # noqa: E402
from daemon.feeds.refresh import PARSE_AHEAD  # noqa: E402
from daemon.runtime import Runtime, settle_heap  # noqa: E402
from daemon.settings import load_settings  # noqa: E402
from storage.feeds import make_all_due  # noqa: E402

NEW_PER_BUMP = 5
# The 200 cycle counts as limited by parsing when every parser had a document this share of
# it, with this share of the cores busy.
PARSERS_FULL_TARGET = 0.9
CORES_BUSY_TARGET = 0.9
# Items are written from a few thousand made-up words, so distinct reports share words the
# way real ones do (common words often, rare ones seldom) without being near-copies.
SYLLABLES = ["ka", "to", "ri", "men", "sa", "lo", "ver", "un", "da", "pe", "shi", "gor", "al"]
VOCABULARY = [a + b + c for a in SYLLABLES for b in SYLLABLES for c in SYLLABLES]


def words(seed: int, count: int) -> str:
    """``count`` words drawn Zipf-like from the vocabulary: item ``seed``'s own text."""
    state, out = seed * 2654435761 % 2**32 or 1, []
    for _ in range(count):
        state = state * 1103515245 + 12345 & 0x7FFFFFFF
        rank = int(len(VOCABULARY) ** ((state % 10_000) / 10_000))
        out.append(VOCABULARY[(rank - 1 + seed * (rank > 40)) % len(VOCABULARY)])
    return " ".join(out)


# ---------------------------------------------------------------- the server process


def listed(version: int, items: int) -> range:
    """Numbers of the items a feed lists at ``version``, newest first."""
    newest = version * NEW_PER_BUMP + items
    return range(newest, newest - items, -1)


def feed_body(index: int, version: int, items: int) -> bytes:
    parts = [
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>",
        f"<title>Bench feed {index}</title><link>http://bench.example/{index}</link>",
    ]
    for n in listed(version, items):
        text = f"Report {n} from town {index}: {words(index * 100_003 + n, 60)}"
        more = words(n * 31 + index * 17, 50)
        minute = n % 60
        parts.append(
            f"<item><title>Item {n} of feed {index}: {words(n * 7_919 + index, 6)}</title>"
            f"<link>http://bench.example/{index}/{n}</link><guid>b-{index}-{n}</guid>"
            f"<pubDate>Mon, 02 Mar 2026 {n % 24:02d}:{minute:02d}:00 +0000</pubDate>"
            f"<description>&lt;p&gt;{text}.&lt;/p&gt;&lt;p&gt;{more}.&lt;/p&gt;"
            "</description></item>"
        )
    parts.append("</channel></rss>")
    return "".join(parts).encode()


def serve(port: int, hosts: int, items: int) -> None:
    version = 0
    cache: dict[tuple[int, int], bytes] = {}

    async def handle_feed(request: web.Request) -> web.Response:
        index = int(request.match_info["index"])
        etag = f'"{index}-{version}"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        key = (index, version)
        if key not in cache:
            cache[key] = feed_body(index, version, items)
        return web.Response(
            body=cache[key], headers={"ETag": etag, "Content-Type": "application/rss+xml"}
        )

    async def bump(request: web.Request) -> web.Response:
        nonlocal version
        version += 1
        cache.clear()
        return web.Response(text=str(version))

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/feed/{index}", handle_feed)
        app.router.add_post("/_bump", bump)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        for host in range(1, hosts + 1):
            await web.TCPSite(runner, f"127.0.0.{host}", port, backlog=1024).start()
        print("ready", flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())


# ---------------------------------------------------------------- measuring


@dataclass
class Monitor:
    """Worst loop lag, and peak memory (this process plus its parser workers) sampled in a
    thread: walking the process tree takes long enough to distort the lag it sits beside."""

    lag: float = 0.0
    rss_self: int = 0
    rss_total: int = 0
    pss_total: int = 0  # shared pages (the fork server's imports in every worker) counted once
    _task: asyncio.Task[None] | None = field(default=None, repr=False)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        stop = threading.Event()
        sampler = threading.Thread(target=self._sample, args=(stop,), daemon=True)
        sampler.start()
        try:
            while True:
                before = loop.time()
                await asyncio.sleep(0.01)
                self.lag = max(self.lag, loop.time() - before - 0.01)
        finally:
            stop.set()

    def _sample(self, stop: threading.Event) -> None:
        me = psutil.Process()
        rounds = 0
        while not stop.wait(0.2):
            own = me.memory_info().rss
            children = daemon_children(me)
            kids = sum(_rss(child) for child in children)
            self.rss_self = max(self.rss_self, own)
            self.rss_total = max(self.rss_total, own + kids)
            rounds += 1
            if rounds % 5 == 0:  # reading smaps costs more than the RSS counters
                pss = sum(_pss(process) for process in [me, *children])
                self.pss_total = max(self.pss_total, pss)

    @contextlib.asynccontextmanager
    async def watching(self) -> AsyncIterator[Monitor]:
        self.lag = 0.0
        self._task = asyncio.create_task(self._run())
        try:
            yield self
        finally:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


# The feed server runs in a child process of the bench; its CPU and memory are not the daemon's.
SERVER_PID: int | None = None


def daemon_children(me: psutil.Process) -> list[psutil.Process]:
    """The parser workers and their fork server: every descendant but the feed server's."""
    return [child for child in me.children(recursive=True) if child.pid != SERVER_PID]


def _pss(process: psutil.Process) -> int:
    try:
        return int(process.memory_full_info().pss)
    except (psutil.Error, AttributeError):
        return 0


def _rss(process: psutil.Process) -> int:
    try:
        return int(process.memory_info().rss)
    except psutil.Error:
        return 0


def cpu_seconds() -> float:
    """CPU time of this process and its descendants but the feed server, live or ended:
    parser workers are children of the fork server, and their time moves into its
    reaped-children total when they end (counting live processes alone made a phase's figure
    negative)."""
    me = psutil.Process()
    total = float(sum(me.cpu_times()[:4]))  # user, system, and of reaped children both
    for child in daemon_children(me):
        with contextlib.suppress(psutil.Error):
            total += sum(child.cpu_times()[:4])
    return total


@dataclass
class Phase:
    seconds: float
    lag: float
    cores: float
    own_cpu: float  # CPU seconds of this process alone: the daemon without its parsers
    parsers_full: float | None = None  # share of a daemon cycle every parser had work

    @property
    def cpu(self) -> float:
        return self.cores * self.seconds


async def measure(monitor: Monitor, work: Callable[[], Awaitable[Any]]) -> Phase:
    cpu, own = cpu_seconds(), time.process_time()
    async with monitor.watching():
        started = time.perf_counter()
        await work()
        elapsed = time.perf_counter() - started
    cores = (cpu_seconds() - cpu) / elapsed
    return Phase(elapsed, monitor.lag, cores, time.process_time() - own)


async def parse_stage(
    monitor: Monitor, bodies: list[bytes], processes: int, seen: list[bytes] | None = None
) -> Phase:
    """The parse stage alone, fed as the poller feeds it (0 processes: one thread); ``seen``: per
    body, the digests of the entries its feed listed at the previous poll. Workers are
    started before and stopped after the timing, so their CPU time is still counted."""
    pool = ParsePool(processes)
    hints = seen or [b""] * len(bodies)
    ahead = asyncio.Semaphore(PARSE_AHEAD)  # as many feeds in the pool as the poller lets in

    async def one(body: bytes, hint: bytes) -> None:
        async with ahead:
            await pool.feed(body, "bench", None, hint)

    try:
        await pool.warm_up()
        jobs = zip(bodies, hints, strict=True)
        return await measure(
            monitor, lambda: asyncio.gather(*(one(body, hint) for body, hint in jobs))
        )
    finally:
        pool.close()


def listed_before(index: int, version: int, items: int) -> bytes:
    """Digests of the entries feed ``index`` listed in ``version - 1`` (what the poller
    remembers from its last poll)."""
    guids = (f"b-{index}-{n}" for n in listed(version - 1, items))
    return b"".join(guid_digest(guid) for guid in guids)


async def fetch_bodies(urls: list[str]) -> list[bytes]:
    async with aiohttp.ClientSession() as session:

        async def one(url: str) -> bytes:
            async with session.get(url) as response:
                return await response.read()

        return list(await asyncio.gather(*(one(u) for u in urls)))


async def bare_fetch(urls: list[str], concurrency: int, etags: dict[str, str] | None) -> int:
    """The floor: GET every URL with the same concurrency, read the body, nothing else."""
    slots = asyncio.Semaphore(concurrency)
    statuses: list[int] = []
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one(url: str) -> None:
            headers = {"If-None-Match": etags[url]} if etags else {}
            async with slots, session.get(url, headers=headers) as response:
                await response.read()
                statuses.append(response.status)

        await asyncio.gather(*(one(u) for u in urls))
    return sum(1 for s in statuses if s == (304 if etags else 200))


# ---------------------------------------------------------------- the run


def write_settings(folder: Path, urls: list[str], args: argparse.Namespace) -> Path:
    feeds = "".join(f'\n[[feeds]]\nname = "bench-{i}"\nurl = "{u}"\n' for i, u in enumerate(urls))
    path = folder / "settings.toml"
    path.write_text(
        f"""
[daemon]
database = "{args.database or f"sqlite+aiosqlite:///{folder / 'bench.db'}"}"
log_level = "WARNING"

[polling]
concurrency = {args.concurrency}
per_host_concurrency = {args.per_host}
per_host_delay = "0s"
batch_size = 500
parse_processes = {args.processes}

[[rules]]
name = "bench"
keywords = ["earthquake"]
channels = ["log"]

[channels.log]
type = "file"
path = "alerts.jsonl"
{feeds}""",
        encoding="utf-8",
    )
    return path


async def run(args: argparse.Namespace, port: int) -> None:
    urls = [f"http://127.0.0.{1 + i % args.hosts}:{port}/feed/{i}" for i in range(args.feeds)]
    etags: dict[str, str] = {}
    bump_url = f"http://127.0.0.1:{port}/_bump"
    monitor = Monitor()
    with tempfile.TemporaryDirectory() as folder:
        settings = load_settings(write_settings(Path(folder), urls, args))
        runtime = await Runtime.open(settings, defer_bands=True)
        settle_heap()  # as the daemon does once started
        dispatcher = runtime.dispatcher()
        await dispatcher.warm_up()

        async def all_due() -> None:
            # Outside the timings: a running daemon's feeds fall due by the clock.
            async with runtime.sessions.begin() as session:
                await make_all_due(session)

        async def tick() -> None:
            result = await dispatcher.tick()
            assert result.polled == len(urls) and not result.failed, result
            # The cycle's articles are done once their bands are in the lookup index, which
            # the daemon writes in bulk shortly after (storage.backlog): that is timed too.
            await runtime.flush_bands()

        async def cycle() -> Phase:
            full = dispatcher.parser.full_seconds()
            phase = await measure(monitor, tick)
            phase.parsers_full = (dispatcher.parser.full_seconds() - full) / phase.seconds
            return phase

        async def bump() -> int:
            async with aiohttp.ClientSession() as session, session.post(bump_url) as response:
                version = int(await response.text())
            etags.update({u: f'"{i}-{version}"' for i, u in enumerate(urls)})
            return version

        try:
            await all_due()
            first = await cycle()
            version = await bump()
            bare200 = await measure(monitor, lambda: bare_fetch(urls, args.concurrency, None))
            await all_due()
            daemon200 = await cycle()
            bare304 = await measure(monitor, lambda: bare_fetch(urls, args.concurrency, etags))
            await all_due()
            daemon304 = await cycle()
            pairs = []
            for _ in range(args.repeat_304):
                bare = await measure(monitor, lambda: bare_fetch(urls, args.concurrency, etags))
                await all_due()
                pairs.append((bare.seconds, (await cycle()).seconds))
        finally:
            await dispatcher.close()
            await runtime.close()
    report(args, first, bare200, daemon200, bare304, daemon304, monitor)
    if pairs:
        bare_s, daemon_s = (
            statistics.median(b for b, _ in pairs),
            statistics.median(d for _, d in pairs),
        )
        ratios = sorted(d / b for b, d in pairs)
        print(
            f"304 cycle repeated {len(pairs)} more times: median bare {bare_s * 1000:.0f} ms, "
            f"daemon {daemon_s * 1000:.0f} ms, {daemon_s / bare_s:.2f}x "
            f"(pair ratios {ratios[0]:.2f}-{ratios[-1]:.2f})"
        )
    bodies = await fetch_bodies(urls)
    workers = worker_count(args.processes)
    pooled = await parse_stage(monitor, bodies, workers)
    threaded = await parse_stage(monitor, bodies, 0)
    print(
        f"parse stage alone, {len(bodies)} feeds: {pooled.seconds:.2f} s on {workers} worker "
        f"processes ({pooled.cores:.2f} cores busy, loop lag {pooled.lag * 1000:.1f} ms) vs "
        f"{threaded.seconds:.2f} s in one thread ({threaded.cores:.2f} cores, loop lag "
        f"{threaded.lag * 1000:.1f} ms): {threaded.seconds / pooled.seconds:.2f}x"
    )
    seen = [listed_before(i, version, args.items) for i in range(len(bodies))]
    hinted = await parse_stage(monitor, bodies, workers, seen)
    print(
        f"parse stage as the 200 cycle runs it (entries listed before not sketched): "
        f"{hinted.seconds:.2f} s ({hinted.cores:.2f} cores); 200 cycle / that: "
        f"{daemon200.seconds / hinted.seconds:.2f}x (1.0 only if the daemon's own work were free)"
    )
    verdict_200(daemon200, hinted)


def verdict_200(cycle: Phase, parse: Phase) -> None:
    """Whether the 200 cycle is limited by parsing with both cores in use: every parser had
    a document for nearly all of it (fetching and storing never made parsing wait), and the
    cores were busy. The daemon's own work then shares the cores with parsing, which is
    what sets the cycle against the parse stage alone."""
    full = cycle.parsers_full or 0.0
    cores = os.cpu_count() or 1
    limited = full >= PARSERS_FULL_TARGET and cycle.cores >= CORES_BUSY_TARGET * cores
    print(
        f"200 cycle: every parser had work {full:.0%} of it (target >= "
        f"{PARSERS_FULL_TARGET:.0%}), {cycle.cores:.2f} of {cores} cores busy (target >= "
        f"{CORES_BUSY_TARGET * cores:.1f}): "
        f"{'limited by parsing' if limited else 'NOT limited by parsing'}"
    )
    workers = cycle.cpu - cycle.own_cpu
    print(
        f"200 cycle CPU: {cycle.cpu:.1f} s, of which parser workers {workers:.1f} s "
        f"({workers / cycle.cpu:.0%}; the parse stage alone: {parse.cpu:.1f} s) and the "
        f"daemon process {cycle.own_cpu:.1f} s ({cycle.own_cpu / cycle.cpu:.0%})"
    )


def report(args: argparse.Namespace, first: Phase, *phases: Phase | Monitor) -> None:
    bare200, daemon200, bare304, daemon304, monitor = phases
    assert isinstance(monitor, Monitor)
    rows = [
        ("first poll (all new)", None, first),
        ("200 with new items", bare200, daemon200),
        ("304 not modified", bare304, daemon304),
    ]
    print(
        f"feeds={args.feeds} hosts={args.hosts} items/feed={args.items} "
        f"concurrency={args.concurrency} per_host={args.per_host} "
        f"parse_processes={args.processes} cores={os.cpu_count()} "
        f"database={(args.database or 'sqlite').split(':')[0]}"
    )
    print(
        f"{'cycle':22} {'bare s':>8} {'daemon s':>9} {'ratio':>6} {'lag ms':>7} {'cores':>6} "
        f"{'parsers full':>12}"
    )
    for name, bare, daemon in rows:
        assert isinstance(daemon, Phase)
        bare_s = f"{bare.seconds:8.2f}" if isinstance(bare, Phase) else f"{'-':>8}"
        ratio = f"{daemon.seconds / bare.seconds:6.2f}" if isinstance(bare, Phase) else f"{'-':>6}"
        print(
            f"{name:22} {bare_s} {daemon.seconds:9.2f} {ratio} "
            f"{daemon.lag * 1000:7.1f} {daemon.cores:6.2f} {daemon.parsers_full or 0:12.0%}"
        )
    worst = max(p.lag for p in (first, *phases[:4]) if isinstance(p, Phase))
    print(f"worst event-loop lag: {worst * 1000:.1f} ms (target < 100 ms)")
    print(
        f"peak RSS: daemon {monitor.rss_self / 1e6:.0f} MB, "
        f"with parser workers {monitor.rss_total / 1e6:.0f} MB; peak PSS of all of them "
        f"{monitor.pss_total / 1e6:.0f} MB (pages they share counted once; target <= 400 MB)"
    )
    assert isinstance(bare304, Phase) and isinstance(daemon304, Phase)
    print(f"304 cycle / bare 304 loop: {daemon304.seconds / bare304.seconds:.2f}x (target <= 1.5x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--feeds", type=int, default=2000)
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--per-host", type=int, default=4)
    parser.add_argument("--processes", type=int, default=-1, help="parser workers (-1: cores)")
    parser.add_argument(
        "--repeat-304", type=int, default=15, help="further 304 pairs for a median (0: none)"
    )
    parser.add_argument("--database", help="SQLAlchemy URL of an EMPTY database (default: SQLite)")
    parser.add_argument("--serve", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.hosts, args.items)
        return
    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--serve",
            str(port),
            "--hosts",
            str(args.hosts),
            "--items",
            str(args.items),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    global SERVER_PID
    SERVER_PID = server.pid
    try:
        assert server.stdout is not None and server.stdout.readline().strip() == "ready"
        asyncio.run(run(args, port))
    finally:
        server.terminate()
        server.wait(10)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


if __name__ == "__main__":
    main()
