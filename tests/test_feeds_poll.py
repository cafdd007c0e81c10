"""Polling end to end on SQLite and PostgreSQL: a real feed server, a real database."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from email.utils import formatdate
from pathlib import Path
from typing import Any

import pytest

from daemon.feeds.schedule import is_broken
from tests.test_feeds_rig import FAST_POLLING, Rig, open_rig
from tests.test_feeds_server import (
    FeedServer,
    answer,
    content_type,
    document,
    feed_bytes,
    in_turn,
    silent,
)

MakeRig = Callable[..., AbstractAsyncContextManager[Rig]]


@pytest.fixture
def make_rig(tmp_path: Path, database_url: str, server: FeedServer) -> MakeRig:
    def make(
        feeds: list[tuple[str, str, str]], polling: str = FAST_POLLING
    ) -> AbstractAsyncContextManager[Rig]:
        return open_rig(tmp_path, database_url, server, feeds, polling)

    return make


@pytest.mark.parametrize(
    ("fixture", "first_title", "author"),
    [
        (
            "rss2.xml",
            "Ferry service to Pine Island resumes after winter repairs",
            "Marta Kowalczyk",
        ),
        (
            "atom.xml",
            "Orchard growers expect an early blossom after a mild February",
            "Tomas Brandt",
        ),
        ("rss1.rdf", "Two new container cranes arrive at the east quay", "Ilse Varga"),
        ("feed.json", "Mountain pass reopens after three days of snow clearing", "Petra Holm"),
    ],
)
async def test_each_format_is_stored_once_and_unchanged_bodies_are_not_parsed(
    server: FeedServer, make_rig: MakeRig, fixture: str, first_title: str, author: str
) -> None:
    server.routes["/feed"] = document(feed_bytes(fixture), content_type(fixture))
    async with make_rig([("local", "/feed", "")]) as rig:
        result = await rig.tick()
        assert (result.polled, result.new, result.failed) == (1, 2, 0)
        articles = await rig.articles("local")
        assert articles[0].title == first_title and articles[0].authors == [author]
        status = await rig.status("local")
        assert (status.last_status, status.items_seen, status.error_count) == ("200", 2, 0)

        await rig.until_due("local")
        again = await rig.tick()
        assert (again.polled, again.new) == (1, 0)
        assert (await rig.status("local")).last_status == "200 unchanged"
        assert rig.parsed == 1
        assert len(await rig.articles("local")) == 2


@pytest.mark.parametrize("validator", ["etag", "last_modified"])
async def test_conditional_get_answers_304_without_parsing(
    server: FeedServer, make_rig: MakeRig, validator: str
) -> None:
    if validator == "etag":
        server.routes["/feed"] = document(feed_bytes("atom.xml"), etag='W/"a1"')
    else:
        server.routes["/feed"] = document(feed_bytes("atom.xml"), last_modified=1_772_000_000)
    async with make_rig([("valley", "/feed", "")]) as rig:
        await rig.tick()
        await rig.until_due("valley")
        result = await rig.tick()
        assert (result.polled, result.new) == (1, 0)
        status = await rig.status("valley")
        assert status.last_status == "304" and status.error_count == 0
        assert rig.parsed == 1
        assert len(await rig.articles("valley")) == 2
    second = server.seen("/feed")[1].headers
    if validator == "etag":
        assert second["If-None-Match"] == 'W/"a1"' and "If-Modified-Since" not in second
    else:
        expected = formatdate(1_772_000_000, usegmt=True)
        assert second["If-Modified-Since"] == expected and "If-None-Match" not in second


async def test_permanent_redirect_moves_the_feed_and_says_so(
    server: FeedServer, make_rig: MakeRig, caplog: pytest.LogCaptureFixture
) -> None:
    server.routes["/old"] = answer(301, {"Location": "/new"})
    server.routes["/new"] = document(feed_bytes("rss2.xml"))
    async with make_rig([("moved", "/old", "")]) as rig:
        with caplog.at_level(logging.WARNING, "newswatch.feeds"):
            await rig.tick()
        status = await rig.status("moved")
        assert status.url == server.url("/new")
        assert status.configured_url == server.url("/old")
        assert "feed moved permanently" in caplog.text and "settings still say" in caplog.text
        await rig.until_due("moved")
        await rig.tick()
    assert len(server.seen("/old")) == 1 and len(server.seen("/new")) == 2


async def test_gone_feed_is_disabled_with_the_reason(server: FeedServer, make_rig: MakeRig) -> None:
    server.routes["/feed"] = answer(410, text="gone for good")
    async with make_rig([("gone", "/feed", "")]) as rig:
        await rig.tick()
        status = await rig.status("gone")
        assert not status.enabled and status.disabled_reason is not None
        assert "410" in status.disabled_reason and status.next_poll_at is None
        rig.clock.advance(86_400 * 30)
        assert (await rig.tick()).polled == 0
    assert len(server.seen("/feed")) == 1


@pytest.mark.parametrize("status", [429, 503])
@pytest.mark.parametrize("form", ["seconds", "date"])
async def test_retry_after_sets_the_next_poll(
    server: FeedServer, make_rig: MakeRig, status: int, form: str
) -> None:
    async with make_rig([("busy", "/feed", "")]) as rig:
        when = rig.clock.now.timestamp() + 1800
        value = "1800" if form == "seconds" else formatdate(when, usegmt=True)
        server.routes["/feed"] = in_turn(
            answer(status, {"Retry-After": value}), document(feed_bytes("rss2.xml"))
        )
        await rig.tick()
        state = await rig.status("busy")
        assert state.last_status == str(status) and state.error_count == 0
        assert state.next_poll_at is not None
        wait = (state.next_poll_at - rig.clock.now).total_seconds()
        assert 1799 <= wait <= 1800
        rig.clock.advance(1700)
        assert (await rig.tick()).polled == 0
        rig.clock.advance(100)
        assert (await rig.tick()).new == 2


async def test_503_without_retry_after_is_a_counted_error(
    server: FeedServer, make_rig: MakeRig
) -> None:
    server.routes["/feed"] = answer(503)
    async with make_rig([("down", "/feed", "")]) as rig:
        await rig.tick()
        status = await rig.status("down")
        assert (status.last_status, status.error_count) == ("503", 1)


async def test_malformed_feed_still_yields_its_entries(
    server: FeedServer, make_rig: MakeRig
) -> None:
    server.routes["/feed"] = document(feed_bytes("broken.xml"))
    async with make_rig([("hilltop", "/feed", "")]) as rig:
        result = await rig.tick()
        assert result.new == 2 and result.failed == 0
        status = await rig.status("hilltop")
        assert status.error_count == 0
        assert status.last_error is not None and "not well-formed" in status.last_error


async def test_document_that_is_no_feed_is_an_error(server: FeedServer, make_rig: MakeRig) -> None:
    server.routes["/feed"] = document(feed_bytes("notafeed.xml"), "text/html")
    async with make_rig([("junk", "/feed", "")]) as rig:
        assert (await rig.tick()).failed == 1
        status = await rig.status("junk")
        assert (status.last_status, status.error_count) == ("unreadable", 1)
        assert status.last_error is not None and "not a readable feed" in status.last_error


BACKOFF = FAST_POLLING + 'error_backoff = "60s"\nerror_backoff_cap = "10m"\nbroken_after = "20m"\n'


async def test_backoff_grows_to_the_cap_then_recovers(
    server: FeedServer, make_rig: MakeRig, caplog: pytest.LogCaptureFixture
) -> None:
    server.routes["/feed"] = in_turn(*[answer(500)] * 7, document(feed_bytes("rss2.xml")))
    async with make_rig([("flaky", "/feed", "")], BACKOFF) as rig:
        waits = []
        with caplog.at_level(logging.WARNING, "newswatch.feeds"):
            for _ in range(7):
                await rig.tick()
                waits.append(await rig.until_due("flaky"))
            status = await rig.status("flaky")
        assert status.error_count == 7 and status.last_status == "500"
        steps = [60, 120, 240, 480, 600, 600, 600]
        for wait, step in zip(waits, steps, strict=True):
            assert step * 0.75 <= wait <= step
        assert is_broken(status.first_error_at, rig.clock.now, 1200)
        assert caplog.text.count("feed broken") == 1

        assert (await rig.tick()).new == 2
        healed = await rig.status("flaky")
        assert (healed.error_count, healed.first_error_at, healed.last_status) == (0, None, "200")
        assert healed.last_error is None


async def test_silent_server_costs_one_feed_not_the_round(
    server: FeedServer, make_rig: MakeRig
) -> None:
    server.routes["/hang"] = silent()
    server.routes["/good"] = document(feed_bytes("rss2.xml"))
    polling = FAST_POLLING.replace('read_timeout = "2s"', 'read_timeout = "0.5s"')
    async with make_rig([("hang", "/hang", ""), ("good", "/good", "")], polling) as rig:
        started = time.monotonic()
        result = await rig.tick()
        assert time.monotonic() - started < 3.0
        assert (result.polled, result.new, result.failed) == (2, 2, 1)
        status = await rig.status("hang")
        assert status.last_status == "network" and "timed out" in (status.last_error or "")


async def test_parsed_feeds_waiting_for_storage_are_capped(
    server: FeedServer, make_rig: MakeRig
) -> None:
    """When storing lags behind fetching, parsing waits instead of piling entries up."""
    for i in range(8):
        server.routes[f"/f{i}"] = document(feed_bytes("rss2.xml"))
    async with make_rig([(f"feed{i}", f"/f{i}", "") for i in range(8)]) as rig:
        refresher = rig.dispatcher.refresher
        refresher.ahead = asyncio.Semaphore(2)
        parse, store = refresher.parser.feed, refresher.writer.store
        waiting = peak = 0

        async def counted_parse(*args: Any) -> Any:
            nonlocal waiting, peak
            waiting += 1
            peak = max(peak, waiting)
            return await parse(*args)

        async def slow_store(*args: Any) -> Any:
            nonlocal waiting
            await asyncio.sleep(0.05)  # a database busier than the parsers
            try:
                return await store(*args)
            finally:
                waiting -= 1

        refresher.parser.feed = counted_parse  # type: ignore[method-assign]
        refresher.writer.store = slow_store  # type: ignore[method-assign]
        result = await rig.tick()
        assert (result.polled, result.new, result.failed) == (8, 16, 0)
        assert peak == 2


async def test_cache_control_max_age_delays_the_next_poll(
    server: FeedServer, make_rig: MakeRig
) -> None:
    undated = (
        b"<rss version='2.0'><channel><title>Notices</title><item><title>Water off on Elm Street"
    )
    undated += b"</title><guid>n-1</guid></item></channel></rss>"
    server.routes["/feed"] = document(
        undated, etag='"r1"', headers={"Cache-Control": "public, max-age=5400"}
    )
    extra = 'interval = "2m"\nmin_interval = "1m"\nmax_interval = "3h"'
    async with make_rig([("harbour", "/feed", extra)]) as rig:
        await rig.tick()
        await rig.until_due("harbour")
        await rig.tick()
        assert (await rig.status("harbour")).last_status == "304"
        assert await rig.until_due("harbour") == pytest.approx(5400, abs=1)


async def test_a_reloaded_interval_applies_from_the_next_poll(
    server: FeedServer, make_rig: MakeRig
) -> None:
    """A feed's settings replaced by a reload (same feed, new interval) set its next poll."""
    server.routes["/feed"] = document(feed_bytes("rss2.xml"), etag='"r1"')
    async with make_rig([("harbour", "/feed", 'interval = "2m"')]) as rig:
        await rig.tick()
        assert await rig.until_due("harbour") == pytest.approx(120, abs=1)
        feed = rig.dispatcher.feeds["harbour"]
        rig.dispatcher.feeds = {"harbour": feed.model_copy(update={"interval": 420.0})}
        await rig.tick()
        assert (await rig.status("harbour")).last_status == "304"
        assert await rig.until_due("harbour") == pytest.approx(420, abs=1)


PAGE = b"""<!doctype html><html lang="en"><head><title>Cycle lanes</title></head><body>
<article><h1>Town council approves new cycle lanes along the shore road</h1>
<p>The council voted eleven to two on Thursday evening to build separated cycle lanes along
the full length of the shore road, from the harbour roundabout to the campsite.</p>
<p>Work starts in April. The contractor has promised to keep one lane open for cars at all
times, and the bus stops near the beach will move twenty metres inland.</p>
<p>Shop owners on the promenade had asked for delivery bays, which the plan now includes at
three places. Residents can see the drawings in the town hall until the end of the month.</p>
<p>The lanes are paid for by the regional transport fund and should be finished before the
summer season, when the road carries most of its traffic.</p>
</article></body></html>"""


async def test_full_text_fetches_pages_of_new_summary_only_entries(
    server: FeedServer, make_rig: MakeRig
) -> None:
    body = feed_bytes("rss2.xml").replace(
        b"http://lakeside.example/news/cycle-lanes", server.url("/cycle-lanes").encode()
    )
    server.routes["/feed"] = document(body)
    server.routes["/cycle-lanes"] = document(PAGE, "text/html")
    async with make_rig([("lakeside", "/feed", "full_text = true")]) as rig:
        await rig.tick()
        lanes = [a for a in await rig.articles("lakeside") if "cycle" in a.title]
        assert any("delivery bays" in p for p in lanes[0].body)
        server.routes["/feed"] = document(body + b"\n")  # same entries, new bytes
        await rig.until_due("lakeside")
        await rig.tick()
    assert len(server.seen("/cycle-lanes")) == 1


async def test_one_round_polls_every_feed_once_over_many_claims(
    server: FeedServer, make_rig: MakeRig
) -> None:
    """More feeds than a batch, and batches larger than the first claim (twice the fetch
    slots): every feed is claimed, polled and recorded once in the round, none twice."""
    count = 37
    for n in range(count):
        server.routes[f"/f{n}"] = document(feed_bytes("rss2.xml"), etag=f'"{n}"')
    polling = FAST_POLLING + "concurrency = 2\nbatch_size = 10\n"
    async with make_rig([(f"feed-{n}", f"/f{n}", "") for n in range(count)], polling) as rig:
        result = await rig.tick()
        assert (result.polled, result.failed) == (count, 0)
        assert all(len(server.seen(f"/f{n}")) == 1 for n in range(count))
        statuses = [await rig.status(f"feed-{n}") for n in range(count)]
        assert {status.last_status for status in statuses} == {"200"}
        assert (await rig.tick()).polled == 0  # all recorded as polled, none left due
