"""``newswatch run`` as a subprocess polls a local feed and alerts through a webhook."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

from tests.support import DaemonProcess, Receiver, toml_str
from tests.test_feeds_server import FeedServer, document, feed_bytes


async def polled(server: FeedServer, path: str, times: int) -> None:
    deadline = time.monotonic() + 20.0
    while len(server.seen(path)) < times:
        assert time.monotonic() < deadline, f"{path} polled {len(server.seen(path))} times"
        await asyncio.sleep(0.1)


def lakeside(tmp_path: Path, database: str, feed_url: str, *, tick: str, channel: str) -> Path:
    """Settings for one local feed polled every second and a ferry rule sending to ``desk``."""
    settings = tmp_path / "settings.toml"
    settings.write_text(
        f"""
[daemon]
database = {toml_str(database)}
delivery_interval = "0.5s"

[polling]
tick = {toml_str(tick)}
per_host_delay = "0s"
parse_processes = 1

[[feeds]]
name = "Lakeside Courier"
url = {toml_str(feed_url)}
interval = "1s"

[[rules]]
name = "Ferries"
keywords = ["ferry"]
channels = ["desk"]

[channels.desk]
{channel}
""",
        encoding="utf-8",
    )
    return settings


async def test_daemon_polls_a_feed_and_alerts_once(
    tmp_path: Path, database_url: str, receiver: Receiver, server: FeedServer
) -> None:
    server.routes["/rss"] = document(feed_bytes("rss2.xml"), etag='"lake-1"')
    settings = lakeside(
        tmp_path,
        database_url,
        server.url("/rss"),
        tick="0.3s",
        channel=f'type = "webhook"\nurl = {toml_str(receiver.url)}',
    )
    daemon = await DaemonProcess(settings).start()
    try:
        [request] = await receiver.wait_for(1)
        payload = request.json()
        assert payload["rule"] == "Ferries"
        assert payload["article"]["title"].startswith("Ferry service to Pine Island")
        assert payload["article"]["source"] == "Lakeside Courier"
        await polled(server, "/rss", 3)
        assert server.seen("/rss")[-1].headers.get("If-None-Match") == '"lake-1"'
        assert len(receiver.requests) == 1
    finally:
        code = await daemon.stop(signal.SIGTERM)
    assert code == 0, daemon.log()
    assert " feeds=1 " in daemon.log()


async def test_a_feed_is_polled_when_it_falls_due_not_at_the_next_tick(
    tmp_path: Path, server: FeedServer
) -> None:
    """Ticks a minute apart: only waking for the feed's own due time polls it every second."""
    server.routes["/rss"] = document(feed_bytes("rss2.xml"), etag='"lake-1"')
    database = f"sqlite+aiosqlite:///{tmp_path / 'newswatch.db'}"
    settings = lakeside(
        tmp_path,
        database,
        server.url("/rss"),
        tick="60s",
        channel='type = "file"\npath = "alerts.jsonl"',
    )
    daemon = await DaemonProcess(settings).start()
    try:
        await polled(server, "/rss", 4)
    finally:
        code = await daemon.stop(signal.SIGTERM)
    assert code == 0, daemon.log()
