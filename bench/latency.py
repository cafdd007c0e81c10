"""Alert latency as users feel it: from a file landing in a drop folder, or an item appearing
on a feed, to the webhook receiving its alert.

A real ``newswatch run`` in a subprocess with the settings' defaults for scanning, watching
and delivery; a local aiohttp receiver; a local feed server. Files are written the way
scrapers write them (a temporary name, then a rename) one at a time, each a different story,
and each alert is matched to its file by its title.

    .venv/bin/python bench/latency.py [--files 200] [--items 20] [--feed-interval 10]

Targets: drops p95 < 1 s; feeds p95 < the feed's interval + 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import signal
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

from aiohttp import web

ROOT = Path(__file__).resolve().parents[1]

WORDS = str.split("""river bridge council harvest winter market school station tower village
engineer doctor station railway convoy storm flood bakery garden orchard highway factory museum
teacher pilot ferry harbour clinic library stadium tunnel mayor farmer courier lantern
signal archive theatre quarry mill vineyard meadow canal pier depot workshop""")


def story(n: int, rng: random.Random) -> tuple[str, str]:
    """A headline and a body of random sentences: every file a story of its own."""
    title = f"Army report {n}: " + " ".join(rng.choice(WORDS) for _ in range(6))
    sentences = []
    for _ in range(8):
        words = [rng.choice(WORDS) for _ in range(14)]
        sentences.append(" ".join(words).capitalize() + ".")
    body = " ".join(sentences[:4]) + "\n\n" + " ".join(sentences[4:]) + " The army said so."
    return title, body


class Receiver:
    def __init__(self) -> None:
        self.arrivals: dict[str, float] = {}
        self.changed = asyncio.Event()

    async def handle(self, request: web.Request) -> web.Response:
        payload = await request.json()
        self.arrivals.setdefault(payload["article"]["title"], time.monotonic())
        self.changed.set()
        return web.Response(text="ok")


class Feed:
    """One RSS document whose items appear while the bench runs."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str, str, datetime]] = []

    async def handle(self, request: web.Request) -> web.Response:
        entries = "".join(
            f"<item><title>{t}</title><guid>{guid}</guid><description>{b}</description>"
            f"<pubDate>{format_datetime(when)}</pubDate></item>"
            for guid, t, b, when in self.items
        )
        xml = (
            '<?xml version="1.0"?><rss version="2.0"><channel><title>Local</title>'
            f"{entries}</channel></rss>"
        )
        return web.Response(body=xml.encode(), content_type="application/rss+xml")


def write_settings(folder: Path, port: int, feed_interval: float) -> Path:
    path = folder / "settings.toml"
    path.write_text(
        f"""
[daemon]
database = "sqlite+aiosqlite:///{folder / "newswatch.db"}"
log_level = "INFO"

[polling]
per_host_delay = "0s"

[[drops]]
name = "inbox"
path = "{folder / "drops"}"

[[feeds]]
url = "http://127.0.0.1:{port}/feed.xml"
name = "local"
interval = "{feed_interval}s"

[[rules]]
name = "Army"
keywords = ["army"]
channels = ["hook"]

[channels.hook]
type = "webhook"
url = "http://127.0.0.1:{port}/hook"
""",
        encoding="utf-8",
    )
    (folder / "drops").mkdir()
    return path


async def wait_for(receiver: Receiver, titles: list[str], within: float) -> None:
    deadline = time.monotonic() + within
    while not all(t in receiver.arrivals for t in titles):
        receiver.changed.clear()
        left = deadline - time.monotonic()
        if left <= 0:
            missing = [t for t in titles if t not in receiver.arrivals]
            raise SystemExit(f"{len(missing)} alerts never arrived, first: {missing[0]!r}")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(receiver.changed.wait(), left)


def report(name: str, latencies: list[float], target: float) -> None:
    ordered = sorted(latencies)
    p50 = statistics.median(ordered)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    verdict = "meets" if p95 < target else "misses"
    print(
        f"{name:6} n={len(ordered):4}  p50 {p50 * 1000:7.0f} ms  p95 {p95 * 1000:7.0f} ms"
        f"  max {ordered[-1] * 1000:7.0f} ms  ({verdict} p95 < {target:.1f} s)"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--feed-interval", type=float, default=10.0)
    parser.add_argument("--gap", type=float, default=0.3, help="seconds between two files")
    args = parser.parse_args()
    rng = random.Random(7)
    receiver, feed = Receiver(), Feed()
    app = web.Application()
    app.router.add_post("/hook", receiver.handle)
    app.router.add_get("/feed.xml", feed.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        settings = write_settings(folder, port, args.feed_interval)
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        log = (folder / "daemon.log").open("wb")
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "daemon", "--settings", str(settings), "run",
            cwd=folder, env=env, stdout=log, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        try:
            await asyncio.sleep(8)  # start-up: gazetteer, workers, first poll of the feed
            landed: dict[str, float] = {}
            for n in range(args.files):
                title, body = story(n, rng)
                target = folder / "drops" / f"{n:04}.txt"
                partial = target.with_name(target.name + ".part")
                partial.write_text(f"{title}\n\n{body}\n", encoding="utf-8")
                partial.rename(target)
                landed[title] = time.monotonic()
                await asyncio.sleep(args.gap)
            await wait_for(receiver, list(landed), 120)
            report("drops", [receiver.arrivals[t] - s for t, s in landed.items()], 1.0)

            appeared: dict[str, float] = {}
            for n in range(args.items):
                title, body = story(100_000 + n, rng)
                feed.items.insert(0, (f"item-{n}", title, body, datetime.now(UTC)))
                appeared[title] = time.monotonic()
                await asyncio.sleep(rng.uniform(0.3, 1.5) * args.feed_interval)
            await wait_for(receiver, list(appeared), 3 * args.feed_interval + 30)
            report(
                "feeds",
                [receiver.arrivals[t] - s for t, s in appeared.items()],
                args.feed_interval + 1.0,
            )
        except SystemExit:
            kept = Path(tempfile.gettempdir()) / "newswatch-latency-daemon.log"
            kept.write_bytes((folder / "daemon.log").read_bytes())
            print(f"the daemon's log is in {kept}")
            raise
        finally:
            proc.send_signal(signal.SIGTERM)
            await proc.wait()
            log.close()
            await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(main())
