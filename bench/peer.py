"""First ingest against the peer a Python user would pick, in one run on the same feeds.

A separate server process (``bench/poll.py``'s) serves N local RSS feeds of M distinct entries
each over several loopback hosts. In the same run, with the same concurrency and no per-host
delay:

- floor: a bare aiohttp fetch of every feed, then feedparser over the bodies on one core;
- peer: ``reader`` (lemon24/reader, the bench extra) adding every feed and running its first
  ``update_feeds``, in a process of its own;
- newswatch: ``newswatch run`` from start-up until all N x M entries are stored, with one
  keyword rule and a file channel, story grouping on.

Each line is printed with its ratio to the floor; the target is newswatch <= 0.5x reader.

    .venv/bin/python bench/peer.py [--feeds 500] [--items 50] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import feedparser

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from poll import _free_port as free_port  # noqa: E402  (the same server, the same ports)

HOSTS = 16


def urls(port: int, feeds: int) -> list[str]:
    return [f"http://127.0.0.{i % HOSTS + 1}:{port}/feed/{i}" for i in range(feeds)]


async def bare_fetch(targets: list[str], concurrency: int) -> list[bytes]:
    gate = asyncio.Semaphore(concurrency)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one(url: str) -> bytes:
            async with gate, session.get(url) as response:
                return await response.read()

        return await asyncio.gather(*(one(u) for u in targets))


def floor(targets: list[str], concurrency: int) -> tuple[float, float, int]:
    started = time.perf_counter()
    bodies = asyncio.run(bare_fetch(targets, concurrency))
    fetched = time.perf_counter() - started
    started = time.perf_counter()
    entries = sum(len(feedparser.parse(b).entries) for b in bodies)
    return fetched, time.perf_counter() - started, entries


PEER = """
import sys, time
from reader import make_reader
reader = make_reader(sys.argv[1])
for url in sys.argv[3:]:
    reader.add_feed(url)
started = time.perf_counter()
reader.update_feeds(workers=int(sys.argv[2]))
seconds = time.perf_counter() - started
print(seconds, reader.get_entry_counts().total)
"""


def peer(targets: list[str], concurrency: int, folder: Path) -> tuple[float, int]:
    done = subprocess.run(
        [sys.executable, "-c", PEER, str(folder / "reader.sqlite"), str(concurrency), *targets],
        capture_output=True, text=True,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"reader failed:\n{done.stderr[-2000:]}")
    seconds, entries = done.stdout.split()
    return float(seconds), int(entries)


def newswatch(targets: list[str], concurrency: int, folder: Path, expected: int) -> float:
    feeds = "".join(f'\n[[feeds]]\nname = "f{i}"\nurl = "{u}"\n' for i, u in enumerate(targets))
    database = folder / "newswatch.db"
    settings = folder / "settings.toml"
    settings.write_text(
        f"""
[daemon]
database = "sqlite+aiosqlite:///{database}"
log_level = "WARNING"

[polling]
concurrency = {concurrency}
per_host_delay = "0s"
tick = "0.5s"

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
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "daemon", "--settings", str(settings), "run"],
        cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    try:
        while True:
            time.sleep(0.25)
            if proc.poll() is not None:
                raise SystemExit(f"newswatch exited with {proc.returncode}")
            if stored(database) >= expected:
                return time.perf_counter() - started
            if time.perf_counter() - started > 600:
                raise SystemExit(f"newswatch stored {stored(database)} of {expected} in 600 s")
    finally:
        proc.terminate()
        proc.wait(30)


def stored(database: Path) -> int:
    if not database.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=1) as db:
            return int(db.execute("SELECT count(*) FROM articles").fetchone()[0])
    except sqlite3.Error:
        return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=500)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "poll.py"), "--serve", str(port),
         "--hosts", str(HOSTS), "--items", str(args.items)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert server.stdout is not None and server.stdout.readline().strip() == "ready"
        targets = urls(port, args.feeds)
        fetched, parsed, entries = floor(targets, args.concurrency)
        base = fetched + parsed
        print(f"{args.feeds} feeds x {args.items} entries = {entries} entries")
        print(f"floor: bare fetch {fetched:.1f} s + feedparser {parsed:.1f} s = {base:.1f} s")
        with tempfile.TemporaryDirectory() as tmp:
            seconds, read = peer(targets, args.concurrency, Path(tmp))
            print(f"peer: reader, first update     {seconds:6.1f} s  {seconds / base:5.2f}x floor"
                  f"  ({read} entries)")  # fmt: skip
        with tempfile.TemporaryDirectory() as tmp:
            ours = newswatch(targets, args.concurrency, Path(tmp), entries)
        print(f"newswatch run, all stored      {ours:6.1f} s  {ours / base:5.2f}x floor")
        print(f"newswatch / reader: {ours / seconds:.2f}x (target <= 0.5x)")
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
