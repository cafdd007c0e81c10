"""Ops alerts: a running daemon tells ``[daemon] ops_channels`` about its own troubles."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path
from typing import Any

from daemon import ops
from daemon.runtime import Runtime
from daemon.settings import load_settings
from storage import channels as channel_state
from storage.models import OpsAlert
from tests.support import DaemonProcess, Received, Receiver, free_port, toml_str
from tests.test_admin import REPORT
from tests.test_feeds_server import FeedServer, document, feed_bytes


def ops_settings(
    tmp_path: Path, database: str, ops_hook: str, desk_hook: str, feed_url: str, **daemon: str
) -> Path:
    (tmp_path / "inbox").mkdir(exist_ok=True)
    extra = "".join(f"{key} = {toml_str(value)}\n" for key, value in daemon.items())
    settings = tmp_path / "settings.toml"
    settings.write_text(
        f"""
[daemon]
database = {toml_str(database)}
scan_interval = "0.3s"
delivery_interval = "0.3s"
ops_channels = ["pager"]
ops_interval = "0.3s"
ops_outbox_age = "1s"
{extra}
[polling]
tick = "0.3s"
per_host_delay = "0s"
parse_processes = 0
error_backoff = "0.3s"
error_backoff_cap = "0.5s"
broken_after = "1s"

[[drops]]
name = "inbox"
path = "inbox"
settle = "0.1s"

[[feeds]]
name = "Harbour Notices"
url = {toml_str(feed_url)}
interval = "1s"
min_interval = "1s"

[[rules]]
name = "Ferries"
keywords = ["ferry"]
channels = ["desk"]

[channels.desk]
type = "webhook"
url = {toml_str(desk_hook)}

[channels.pager]
type = "webhook"
url = {toml_str(ops_hook)}
""",
        encoding="utf-8",
    )
    return settings


def kinds(requests: list[Received]) -> Counter[str]:
    return Counter(r.json()["ops"]["kind"] for r in requests)


async def wait_kinds(hook: Receiver, wanted: set[str], within: float = 20.0) -> None:
    deadline = time.monotonic() + within
    while not wanted <= set(kinds(hook.requests)):
        assert time.monotonic() < deadline, f"ops alerts seen: {kinds(hook.requests)}"
        await asyncio.sleep(0.1)


async def test_each_trouble_is_told_once_then_at_most_every_repeat_until_it_clears(
    tmp_path: Path, server: FeedServer
) -> None:
    pager = await Receiver().start()
    desk = await Receiver(statuses=[410]).start()
    database = f"sqlite+aiosqlite:///{tmp_path / 'nw.db'}"
    # The feed's server is down at first: the feed counts as broken after a second.
    settings = ops_settings(
        tmp_path, database, pager.url, desk.url, server.url("/harbour"), ops_repeat="4s"
    )
    daemon = await DaemonProcess(settings).start()
    try:
        (tmp_path / "inbox" / "ferry.txt").write_text(REPORT, encoding="utf-8")
        (tmp_path / "inbox" / "scan.bin").write_bytes(bytes(range(256)) * 64)
        wanted = {"feed-broken", "channel-disabled", "drop-quarantined", "outbox-stuck"}
        await wait_kinds(pager, wanted)
        first = {r.json()["ops"]["key"]: r.json() for r in pager.requests}
        assert set(first) == {
            "feed-broken:Harbour Notices",
            "channel-disabled:desk",
            "drop-quarantined:inbox",
            "outbox-stuck",
        }
        broken = first["feed-broken:Harbour Notices"]
        assert broken["type"] == "ops" and broken["article"]["source"] == "newswatch"
        assert broken["article"]["title"] == "Feed broken: Harbour Notices"
        assert "has failed every poll since" in broken["excerpt"]
        assert "scan.bin" in first["drop-quarantined:inbox"]["excerpt"]
        assert "HTTP 410" in first["channel-disabled:desk"]["excerpt"]
        assert "1 alert(s) are waiting" in first["outbox-stuck"]["excerpt"]
        assert all(r.headers["webhook-id"] == r.json()["id"] for r in pager.requests)

        # The feed comes back: its trouble clears and is not told again.
        server.routes["/harbour"] = document(feed_bytes("rss2.xml"))
        await daemon.wait_log(lambda line: "ops trouble cleared key=feed-broken" in line)
        told = len(pager.requests)
        assert kinds(pager.requests) == Counter(dict.fromkeys(wanted, 1))  # within 4 s: once

        # A quarantine is news while files keep failing: with none in the last repeat
        # interval it clears. The lasting troubles are told again once that interval passed.
        await daemon.wait_log(lambda line: "ops trouble cleared key=drop-quarantined" in line)
        deadline = time.monotonic() + 15
        while len(pager.requests) < told + 2:
            assert time.monotonic() < deadline, kinds(pager.requests)
            await asyncio.sleep(0.1)
        again = kinds(pager.requests[told : told + 2])
        assert again == Counter({"channel-disabled": 1, "outbox-stuck": 1})
        second = {r.json()["ops"]["key"]: r.json() for r in pager.requests[told:]}
        assert all(second[key]["ops"]["notice"] == 2 for key in second)
        assert all(second[key]["id"] != first[key]["id"] for key in second)
    finally:
        await daemon.stop()
        await pager.stop()
        await desk.stop()


async def test_replicas_tell_a_trouble_once_and_a_failed_send_is_tried_again(
    tmp_path: Path, database_url: str
) -> None:
    pager = await Receiver(statuses=[500]).start()
    settings_file = ops_settings(
        tmp_path, database_url, pager.url, f"http://127.0.0.1:{free_port()}/", "http://127.0.0.1:9/"
    )
    settings = load_settings(settings_file)
    first, second = await Runtime.open(settings), await Runtime.open(settings)
    try:
        async with first.sessions.begin() as session:
            await channel_state.disable(session, "desk", "receiver is gone (HTTP 410)")
        # The pager answers 500 once: nothing counts as told, the next check sends again.
        assert await ops.check(first) == 0
        assert await _sent(first) == 0
        results = await asyncio.gather(ops.check(first), ops.check(second))
        assert sorted(results) == [0, 1]
        assert [r.json()["ops"]["kind"] for r in pager.requests[1:]] == ["channel-disabled"]
        assert await ops.check(second) == 0 and await ops.check(first) == 0
        assert await _sent(first) == 1

        async with first.sessions.begin() as session:
            await channel_state.enable(session, "desk")
        assert await ops.check(second) == 0
        async with first.sessions() as session:
            row = await session.get(OpsAlert, "channel-disabled:desk")
            assert row is not None and row.cleared_at is not None
        # It comes back: a new trouble, told at once.
        async with first.sessions.begin() as session:
            await channel_state.disable(session, "desk", "receiver is gone again")
        assert await ops.check(first) == 1
        last: dict[str, Any] = pager.requests[-1].json()
        assert last["ops"]["notice"] == 1 and "gone again" in last["excerpt"]
    finally:
        await first.close()
        await second.close()
        await pager.stop()


async def _sent(runtime: Runtime) -> int:
    async with runtime.sessions() as session:
        row = await session.get(OpsAlert, "channel-disabled:desk")
        return row.sent_count if row is not None else 0
