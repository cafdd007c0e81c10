"""The admin HTTP server of a real ``newswatch run``: health, readiness, metrics, the API."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.engine import make_url

from tests.conftest import PG_ADMIN_URL, _dsn
from tests.support import DaemonProcess, Receiver, free_port, toml_str
from tests.test_feeds_server import FeedServer, document, feed_bytes

TOKEN = "admin-token-5f1c2e"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
REPORT = """Ferry returns to the northern crossing

The Lakeside ferry returned to the northern crossing on Tuesday after repairs to its hull,
the harbour office said. Crossings run every forty minutes until the end of the season.
"""


def admin_settings(
    tmp_path: Path, database: str, port: int, hook: str, feed_url: str | None = None
) -> Path:
    feed = (
        f"""
[[feeds]]
name = "Lakeside Courier"
url = {toml_str(feed_url)}
interval = "1h"
"""
        if feed_url
        else ""
    )
    (tmp_path / "inbox").mkdir(exist_ok=True)
    settings = tmp_path / "settings.toml"
    settings.write_text(
        f"""
[daemon]
database = {toml_str(database)}
http = "127.0.0.1:{port}"
http_token = "${{ADMIN_TOKEN}}"
scan_interval = "0.3s"
delivery_interval = "0.3s"

[polling]
tick = "0.5s"
per_host_delay = "0s"
parse_processes = 1

[[drops]]
name = "inbox"
path = "inbox"
settle = "0.1s"
{feed}
[[rules]]
name = "Ferries"
keywords = ["ferry"]
channels = ["desk"]

[channels.desk]
type = "webhook"
url = {toml_str(hook)}
""",
        encoding="utf-8",
    )
    return settings


@dataclass
class Admin:
    base: str
    http: aiohttp.ClientSession

    async def get(self, path: str, *, auth: bool = True) -> tuple[int, Any]:
        async with self.http.get(self.base + path, headers=AUTH if auth else {}) as resp:
            body = await resp.text()
            kind = resp.headers.get("Content-Type", "")
            return resp.status, (await resp.json() if "json" in kind else body)

    async def metrics(self) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        status, text = await self.get("/metrics")
        assert status == 200
        return {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
        }


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 20.0) -> None:
    deadline = time.monotonic() + within
    while not await check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.2)


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def start(settings: Path) -> DaemonProcess:
    return await DaemonProcess(settings, env={"ADMIN_TOKEN": TOKEN}).start()


def value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_every_endpoint_answers_and_counters_move_with_the_work(
    tmp_path: Path,
    database_url: str,
    receiver: Receiver,
    server: FeedServer,
    http: aiohttp.ClientSession,
) -> None:
    server.routes["/rss"] = document(feed_bytes("rss2.xml"), etag='"lake-1"')
    port = free_port()
    settings = admin_settings(tmp_path, database_url, port, receiver.url, server.url("/rss"))
    daemon = await start(settings)
    admin = Admin(f"http://127.0.0.1:{port}", http)
    try:
        assert await admin.get("/healthz", auth=False) == (
            200,
            {"status": "ok", "pid": daemon.proc.pid},
        )  # type: ignore[union-attr]
        await eventually(lambda: _has_feed_poll(admin))
        before = await admin.metrics()
        assert value(before, "newswatch_polls_total", outcome="ok") >= 1
        assert value(before, "newswatch_fetch_seconds_count") >= 1
        assert value(before, "newswatch_fetched_bytes_total") == len(feed_bytes("rss2.xml"))
        delivered_before = len(receiver.requests)

        (tmp_path / "inbox" / "ferry.txt").write_text(REPORT, encoding="utf-8")
        await receiver.wait_for(delivered_before + 1)
        await eventually(lambda: _delivered_in_metrics(admin, before))
        after = await admin.metrics()
        assert value(after, "newswatch_articles_total", source="inbox", kind="drop") == 1
        assert value(after, "newswatch_matches_total", rule="Ferries") > value(
            before, "newswatch_matches_total", rule="Ferries"
        )
        assert value(after, "newswatch_stories_total") > value(before, "newswatch_stories_total")
        assert value(after, "newswatch_drop_files", status="ingested") == 1
        assert value(after, "newswatch_alerts", channel="desk", status="delivered") >= 1
        assert value(after, "newswatch_outbox_oldest_pending_seconds") == 0
        assert value(after, "newswatch_delivery_seconds_count", channel="desk") >= 1
        assert value(after, "newswatch_delivery_attempts_count") >= 1
        assert value(after, "newswatch_feeds", state="ok") == 1
        assert value(after, "newswatch_parser_workers") == 1
        assert ("newswatch_event_loop_lag_seconds", ()) in after

        status, feeds = await admin.get("/api/feeds")
        assert status == 200 and [f["name"] for f in feeds] == ["Lakeside Courier"]
        assert feeds[0]["state"] == "ok" and feeds[0]["last_success_at"]
        status, drops = await admin.get("/api/drops")
        assert status == 200 and drops[0]["name"] == "inbox"
        assert drops[0]["files"] == {"ingested": 1}
        status, rules = await admin.get("/api/rules")
        assert status == 200 and rules[0]["name"] == "Ferries" and rules[0]["channels"] == ["desk"]
        status, articles = await admin.get("/api/articles?limit=1")
        assert status == 200 and len(articles) == 1
        assert articles[0]["title"] == "Ferry returns to the northern crossing"
        assert articles[0]["source"] == "inbox"
        status, stories = await admin.get("/api/stories?limit=100")
        assert status == 200 and any(s["id"] == articles[0]["story_id"] for s in stories)
        status, alerts = await admin.get("/api/alerts?status=delivered&limit=100")
        assert status == 200 and alerts
        assert {a["uid"] for a in alerts} == {r.json()["id"] for r in receiver.requests}
        assert all(a["status"] == "delivered" for a in alerts)
        drop_alert = next(a for a in alerts if a["article_id"] == articles[0]["id"])
        assert drop_alert["evidence"] and drop_alert["evidence"][0]["term"] == "ferry"
        assert (await admin.get("/api/alerts?status=pending"))[1] == []

        status, page = await admin.get("/")
        assert status == 200 and "Lakeside Courier" in page and "<svg" in page

        assert (await admin.get("/api/alerts?limit=0"))[0] == 400
        status, error = await admin.get("/api/alerts?limit=ten")
        assert status == 400 and "limit" in error["error"]
        status, error = await admin.get("/api/alerts?status=lost")
        assert status == 400 and "pending, delivered, dead" in error["error"]
    finally:
        assert await daemon.stop() == 0


async def _has_feed_poll(admin: Admin) -> bool:
    samples = await admin.metrics()
    return value(samples, "newswatch_polls_total", outcome="ok") >= 1


async def _delivered_in_metrics(admin: Admin, before: dict[Any, float]) -> bool:
    """The attempt counter moves when the receiver answers; the outbox row is settled a
    moment later, in the round's one transaction, and only then does the gauge read 0."""
    samples = await admin.metrics()
    key = ("newswatch_deliveries_total", (("channel", "desk"), ("result", "delivered")))
    settled = value(samples, "newswatch_outbox_pending") == 0
    return samples.get(key, 0) > before.get(key, 0) and settled


async def test_the_token_is_asked_for_everywhere_but_healthz(
    tmp_path: Path, receiver: Receiver, http: aiohttp.ClientSession
) -> None:
    port = free_port()
    database = f"sqlite+aiosqlite:///{tmp_path / 'nw.db'}"
    daemon = await start(admin_settings(tmp_path, database, port, receiver.url))
    base = f"http://127.0.0.1:{port}"
    try:
        paths = ["/readyz", "/metrics", "/", "/api/feeds", "/api/drops", "/api/rules"]
        paths += ["/api/articles", "/api/stories", "/api/alerts"]
        for path in paths:
            for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
                async with http.get(base + path, headers=headers) as resp:
                    assert resp.status == 401, (path, headers)
                    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
            async with http.get(base + path, headers=AUTH) as resp:
                assert resp.status == 200, path
        async with http.post(base + "/alerts/1/retry", data={"form_key": "x"}) as resp:
            assert resp.status == 401
        async with http.get(base + "/healthz") as resp:
            assert resp.status == 200

        # A browser logs in once with ?token=; the cookie then stands for the header.
        # (A jar keeps cookies of an IP address only when told it may.)
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
            async with browser.get(f"{base}/?token=wrong", allow_redirects=False) as resp:
                assert resp.status == 401
            async with browser.get(f"{base}/?token={TOKEN}", allow_redirects=False) as resp:
                assert resp.status == 303 and resp.headers["Location"] == "/"
                cookie = resp.headers["Set-Cookie"]
                assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
            async with browser.get(f"{base}/api/rules") as resp:
                assert resp.status == 200
            # A form without the page's key is refused even with the cookie.
            async with browser.post(f"{base}/alerts/1/retry", data={"form_key": "x"}) as resp:
                assert resp.status == 403
    finally:
        assert await daemon.stop() == 0


async def test_readyz_turns_503_when_the_sqlite_file_goes_away(
    tmp_path: Path, receiver: Receiver, http: aiohttp.ClientSession
) -> None:
    port = free_port()
    db = tmp_path / "nw.db"
    daemon = await start(admin_settings(tmp_path, f"sqlite+aiosqlite:///{db}", port, receiver.url))
    admin = Admin(f"http://127.0.0.1:{port}", http)
    try:
        assert await admin.get("/readyz") == (200, {"status": "ready"})
        await asyncio.to_thread(remove, tmp_path, "nw.db*")
        status, body = await admin.get("/readyz")
        assert status == 503
        assert body["status"] == "not ready"
        assert any(str(db) in p and "database unreachable" in p for p in body["problems"])
        assert (await admin.get("/healthz", auth=False))[0] == 200
    finally:
        await daemon.stop()


@pytest.mark.postgres
async def test_readyz_turns_503_when_postgres_goes_away_and_ready_again_after(
    tmp_path: Path, postgres_url: str, receiver: Receiver, http: aiohttp.ClientSession
) -> None:
    port = free_port()
    daemon = await start(admin_settings(tmp_path, postgres_url, port, receiver.url))
    admin = Admin(f"http://127.0.0.1:{port}", http)
    name = make_url(postgres_url).database
    spare = f"{name}_away"
    server = await asyncpg.connect(_dsn(PG_ADMIN_URL))
    try:
        assert await admin.get("/readyz") == (200, {"status": "ready"})
        await take_away(server, name, spare)
        status, body = await admin.get("/readyz")
        assert status == 503
        assert any("database unreachable" in p and name in p for p in body["problems"]), body
        assert (await admin.get("/healthz", auth=False))[0] == 200

        await server.execute(f'ALTER DATABASE "{spare}" RENAME TO "{name}"')
        await eventually(lambda: _ready(admin), within=10)
        assert daemon.proc is not None and daemon.proc.returncode is None
    finally:
        if await server.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", spare):
            await server.execute(f'ALTER DATABASE "{spare}" RENAME TO "{name}"')
        await server.close()
        await daemon.stop()


async def take_away(server: asyncpg.Connection, name: str, spare: str) -> None:
    """Rename the database under the daemon, whose pool reconnects between our steps."""
    for _ in range(50):
        await server.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name
        )
        try:
            await server.execute(f'ALTER DATABASE "{name}" RENAME TO "{spare}"')
            return
        except asyncpg.ObjectInUseError:
            await asyncio.sleep(0.05)
    raise AssertionError(f"could not take {name} away")


def remove(folder: Path, pattern: str) -> None:
    for path in folder.glob(pattern):
        path.unlink()


async def _ready(admin: Admin) -> bool:
    return (await admin.get("/readyz"))[0] == 200


async def test_readyz_names_a_settings_file_the_daemon_rejected(
    tmp_path: Path, receiver: Receiver, http: aiohttp.ClientSession
) -> None:
    port = free_port()
    database = f"sqlite+aiosqlite:///{tmp_path / 'nw.db'}"
    settings = admin_settings(tmp_path, database, port, receiver.url)
    daemon = await start(settings)
    admin = Admin(f"http://127.0.0.1:{port}", http)
    good = settings.read_text(encoding="utf-8")
    try:
        settings.write_text(good.replace('keywords = ["ferry"]', "keywords = 7"), "utf-8")
        await daemon.wait_log(lambda line: "settings rejected" in line)
        status, body = await admin.get("/readyz")
        assert status == 503
        assert any("settings file rejected" in p and "keywords" in p for p in body["problems"])
        settings.write_text(good + "\n", "utf-8")
        await daemon.wait_log(lambda line: "settings reloaded" in line)
        assert await admin.get("/readyz") == (200, {"status": "ready"})
    finally:
        await daemon.stop()


async def test_a_taken_port_is_a_clear_error(tmp_path: Path, receiver: Receiver) -> None:
    held = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = held.sockets[0].getsockname()[1]
    database = f"sqlite+aiosqlite:///{tmp_path / 'nw.db'}"
    settings = admin_settings(tmp_path, database, port, receiver.url)
    try:
        daemon = DaemonProcess(settings, env={"ADMIN_TOKEN": TOKEN})
        with pytest.raises(AssertionError, match="daemon exited"):
            await daemon.start()
        assert daemon.proc is not None and await daemon.proc.wait() == 2
        assert f"[daemon] http: cannot listen on 127.0.0.1:{port}" in daemon.log()
    finally:
        held.close()
        await held.wait_closed()
