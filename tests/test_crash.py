"""Crashes and replicas: ``newswatch run`` as real processes over one outbox.

A daemon killed with SIGKILL mid-delivery loses nothing: after a restart every alert reaches
the receiver, and any alert sent twice carries the same webhook-id and body both times. Two
daemons on one PostgreSQL database deliver 500 alerts exactly once between them.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections import defaultdict
from pathlib import Path

from tests.support import DaemonProcess, toml_str
from tests.test_delivery_kit import SECRET, ScriptedReceiver, open_outbox


def write_settings(path: Path, database_url: str, hook_url: str, lease: str = "2s") -> Path:
    path.write_text(
        f"""
[daemon]
database = {toml_str(database_url)}
delivery_interval = "0.2s"
shutdown_timeout = "1s"

[delivery]
retry_schedule = ["0.2s", "0.2s", "0.2s", "0.2s", "0.2s"]
lease = {toml_str(lease)}
concurrency = 8
batch_size = 20

[channels.desk]
type = "webhook"
url = {toml_str(hook_url)}
secret = {toml_str(SECRET)}
""",
        encoding="utf-8",
    )
    return path


async def add_alerts(url: str, count: int) -> dict[str, int]:
    async for box in open_outbox(url):
        await box.add(count, "desk")
        return {row.uid: row.id for row in await box.alerts()}
    raise AssertionError("unreachable")


async def wait_delivered(url: str, count: int, within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    async for box in open_outbox(url):
        while True:
            statuses = [row.status for row in await box.alerts()]
            if statuses.count("delivered") == count:
                return
            assert time.monotonic() < deadline, f"not all delivered: {statuses}"
            await asyncio.sleep(0.2)


async def test_sigkill_mid_delivery_loses_nothing(tmp_path: Path, database_url: str) -> None:
    receiver = ScriptedReceiver(delay=0.6)
    await receiver.start()
    uids = await add_alerts(database_url, 30)
    settings = write_settings(tmp_path / "settings.toml", database_url, receiver.url)
    try:
        first = await DaemonProcess(settings).start()
        await receiver.wait_for(3)
        assert await first.stop(signal.SIGKILL) == -signal.SIGKILL
        killed_at = len(receiver.requests)
        assert killed_at < 30, "the kill must come while deliveries are still in flight"

        receiver.delay = 0.05
        second = await DaemonProcess(settings).start()
        try:
            await wait_delivered(database_url, 30)
        finally:
            assert await second.stop(signal.SIGTERM) == 0, second.log()
    finally:
        await receiver.stop()
    bodies: dict[str, set[bytes]] = defaultdict(set)
    for request in receiver.requests:
        bodies[request.headers["webhook-id"]].add(request.body)
    assert set(bodies) == set(uids), "every alert reached the receiver, nothing else did"
    assert all(len(b) == 1 for b in bodies.values()), "a repeat must be the same message"
    print(f"{len(receiver.requests)} requests for 30 alerts ({killed_at} before the kill)")


async def test_two_daemons_deliver_500_alerts_exactly_once(
    tmp_path: Path, postgres_url: str
) -> None:
    receiver = ScriptedReceiver(delay=0.01)
    await receiver.start()
    uids = await add_alerts(postgres_url, 500)
    settings = [
        write_settings(tmp_path / f"settings-{n}.toml", postgres_url, receiver.url, lease="2m")
        for n in (1, 2)
    ]
    try:
        daemons = await asyncio.gather(*(DaemonProcess(s).start() for s in settings))
        try:
            await wait_delivered(postgres_url, 500)
        finally:
            codes = await asyncio.gather(*(d.stop(signal.SIGTERM) for d in daemons))
    finally:
        await receiver.stop()
    assert codes == [0, 0]
    ids = [request.headers["webhook-id"] for request in receiver.requests]
    assert len(ids) == 500 and set(ids) == set(uids)
    shares = [sum("delivered alert_id" in line for line in d.lines) for d in daemons]
    assert sum(shares) == 500, shares
    print(f"deliveries per daemon: {shares}")
