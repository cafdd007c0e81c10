"""The status page of a real daemon, loaded and clicked in headless Chromium."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import aiohttp

from tests.browser import Browser, chromium_binary
from tests.support import Receiver, free_port
from tests.test_admin import AUTH, REPORT, TOKEN, admin_settings, start
from tests.test_feeds_server import FeedServer, document, feed_bytes


async def dead_alert(base: str, title: str, within: float = 20.0) -> int:
    """The dead alert of the article titled so: the feed's own ferry items go dead too, and
    one of them may do so before the drop's article has been read."""
    deadline = time.monotonic() + within
    async with aiohttp.ClientSession(headers=AUTH) as http:
        while time.monotonic() < deadline:
            async with http.get(f"{base}/api/alerts?status=dead") as resp:
                dead = await resp.json()
            mine = [alert for alert in dead if alert["title"] == title]
            if mine:
                return int(mine[0]["id"])
            await asyncio.sleep(0.2)
    raise AssertionError("no alert went dead")


async def test_the_page_shows_feeds_chart_and_alerts_and_retries_a_dead_alert(
    tmp_path: Path, receiver: Receiver, server: FeedServer
) -> None:
    binary = await asyncio.to_thread(chromium_binary)
    server.routes["/rss"] = document(feed_bytes("rss2.xml"), etag='"lake-1"')
    receiver.statuses = [500] * 50  # every alert fails twice and goes dead
    port = free_port()
    database = f"sqlite+aiosqlite:///{tmp_path / 'nw.db'}"
    settings = admin_settings(tmp_path, database, port, receiver.url, server.url("/rss"))
    with settings.open("a", encoding="utf-8") as out:
        out.write('\n[delivery]\nretry_schedule = ["0.1s"]\n')
    daemon = await start(settings)
    base = f"http://127.0.0.1:{port}"
    browser = await Browser(binary, tmp_path / "profile").start()
    try:
        (tmp_path / "inbox" / "ferry.txt").write_text(REPORT, encoding="utf-8")
        alert_id = await dead_alert(base, REPORT.splitlines()[0])

        await browser.goto(f"{base}/?token={TOKEN}")  # the login cookie, then the page
        assert await browser.evaluate("location.pathname") == "/"
        feeds = await browser.evaluate(
            "[...document.querySelectorAll('#feeds tbody tr')].map(r => r.innerText)"
        )
        assert len(feeds) == 1 and "Lakeside Courier" in feeds[0] and "ok" in feeds[0]
        bars = await browser.evaluate("document.querySelectorAll('svg.chart rect').length")
        assert bars >= 2  # this hour's articles and alerts
        label = await browser.evaluate(
            "document.querySelector('svg.chart rect.alerts title').textContent"
        )
        assert label.endswith(" alerts") and "UTC" in label
        latest = await browser.evaluate(
            "[...document.querySelectorAll('#alerts .alert')].map(a => a.innerText)"
        )
        assert any("Ferry returns to the northern crossing" in text for text in latest)
        assert any("body: ferry" in text.lower() or ": ferry" in text.lower() for text in latest)
        await browser.screenshot(tmp_path / "status-dead.png")

        # The receiver works again, slowly: the re-queued alert is pending while it is sent.
        receiver.statuses.clear()
        receiver.delay = 3.0
        button = f"#dead button.retry[data-alert='{alert_id}']"
        assert await browser.evaluate(f"!!document.querySelector({button!r})")
        await browser.loading(
            lambda: browser.evaluate(f"document.querySelector({button!r}).click()")
        )
        notice = await browser.evaluate("document.querySelector('#notice').innerText")
        assert notice == f"alert {alert_id} re-queued"
        status = await browser.evaluate(
            f"document.querySelector('#alerts .alert[data-alert=\"{alert_id}\"] .state').innerText"
        )
        assert status == "pending"
        assert await browser.evaluate(f"!document.querySelector({button!r})")
        await browser.screenshot(tmp_path / "status-retried.png")

        await receiver.wait_for(len(receiver.requests) + 1, within=15)
        await browser.phone()
        await browser.goto(f"{base}/")
        status = await browser.evaluate(
            f"document.querySelector('#alerts .alert[data-alert=\"{alert_id}\"] .state').innerText"
        )
        assert status == "delivered"
        width = await browser.evaluate("[document.documentElement.scrollWidth, innerWidth]")
        assert width[0] <= width[1], f"the page is wider than a phone: {width}"
        shot = await browser.screenshot(tmp_path / "status-phone.png")
        assert shot.stat().st_size > 10_000
    finally:
        await browser.close()
        await daemon.stop()
