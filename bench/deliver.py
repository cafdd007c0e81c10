"""Webhook delivery throughput, and what the outbox costs per alert over bare POSTs.

A receiver in a separate process answers 200 at once. In the same run, with the same
concurrency and the same signed bodies:

- floor: a bare aiohttp loop POSTing N bodies (no database, no signing bookkeeping);
- outbox: N alerts enqueued in a fresh database, then ``DeliveryWorker.run_once`` claims them
  with leases, signs, POSTs and marks each one delivered.

It prints alerts delivered per second for both and the outbox's overhead per alert
(outbox time minus floor time, divided by N). Defaults to SQLite; pass a PostgreSQL URL with
``--database`` to measure that instead.

    .venv/bin/python bench/deliver.py [--alerts 2000] [--concurrency 8] [--database URL]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from alerts.channels.webhook import WebhookChannel, WebhookSettings  # noqa: E402
from alerts.outbox import DeliveryWorker  # noqa: E402
from storage import outbox  # noqa: E402
from storage.articles import create_story  # noqa: E402
from storage.engine import create_engine, session_factory  # noqa: E402
from storage.migrate import upgrade  # noqa: E402

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def serve(port: int) -> None:
    async def ok(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/hook", ok)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def payload(n: int, story_id: int) -> dict[str, object]:
    return {
        "version": 1,
        "type": "alert",
        "rule": "Grid outages",
        "story_id": story_id,
        "matched": ["power cut"],
        "excerpt": f"…a scheduled **power cut** affects district {n} from 14:00 until 18:00…",
        "article": {
            "title": f"Scheduled power cuts extended to district {n}",
            "url": f"https://news.example.org/grid/{n}",
            "author": "Taras Melnyk",
            "authors": ["Taras Melnyk"],
            "published": "2026-03-02T10:00:00+00:00",
            "source": "bench",
            "language": "en",
            "tags": ["energy"],
        },
    }


async def wait_port(port: int) -> None:
    for _ in range(200):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.05)
            continue
        writer.close()
        await writer.wait_closed()
        return
    raise RuntimeError("receiver did not start")


async def floor(url: str, count: int, concurrency: int) -> float:
    bodies = [json.dumps({"id": f"msg_{n}", **payload(n, n)}).encode() for n in range(count)]
    limit = asyncio.Semaphore(concurrency)
    async with aiohttp.ClientSession() as session:

        async def post(body: bytes) -> None:
            async with limit, session.post(url, data=body) as response:
                await response.read()
                assert response.status == 200

        started = time.perf_counter()
        await asyncio.gather(*(post(b) for b in bodies))
        return time.perf_counter() - started


async def through_outbox(database: str, url: str, count: int, concurrency: int) -> float:
    engine = create_engine(database)
    await upgrade(engine)
    sessions = session_factory(engine)
    async with sessions.begin() as session:
        for n in range(count):
            story_id = await create_story(session, f"story {n}")
            alert = outbox.NewAlert("Grid outages", story_id, None, "hook", payload(n, story_id))
            await outbox.enqueue(session, [alert])
    channel = WebhookChannel("hook", WebhookSettings(type="webhook", url=url, secret=SECRET))
    worker = DeliveryWorker(sessions, {"hook": channel}, schedule=(5.0,), concurrency=concurrency)
    try:
        started = time.perf_counter()
        sent = await worker.run_once()
        elapsed = time.perf_counter() - started
        async with sessions() as session:
            counts = await outbox.counts_by_status(session)
    finally:
        await worker.close()
        await engine.dispose()
    assert sent == count and not counts.get("pending") and not counts.get("dead"), counts
    return elapsed


async def main(count: int, concurrency: int, database: str | None) -> None:
    port = free_port()
    server = subprocess.Popen([sys.executable, __file__, "--serve", str(port)])  # noqa: ASYNC220
    try:
        await wait_port(port)
        url = f"http://127.0.0.1:{port}/hook"
        with tempfile.TemporaryDirectory() as tmp:
            db = database or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
            await floor(url, 50, concurrency)  # warm up connections and the receiver
            bare = await floor(url, count, concurrency)
            boxed = await through_outbox(db, url, count, concurrency)
    finally:
        server.terminate()
        server.wait()
    backend = db.split(":", 1)[0]
    print(f"{count} alerts, concurrency {concurrency}, outbox on {backend}")
    print(f"bare aiohttp POSTs (floor): {count / bare:8.0f} alerts/s")
    print(f"outbox delivery:            {count / boxed:8.0f} alerts/s  ({boxed / bare:.2f}x floor)")
    print(f"outbox overhead per alert:  {(boxed - bare) / count * 1000:8.2f} ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--alerts", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--database", help="SQLAlchemy URL (default: a temporary SQLite file)")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
    else:
        asyncio.run(main(args.alerts, args.concurrency, args.database))
