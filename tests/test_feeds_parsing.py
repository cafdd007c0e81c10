"""What parser workers hand back: entries read and sketched only when the feed did not list
them before."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

from daemon.feeds.parsing import ParsePool, parse_feed_job, seen_digests
from daemon.parse import feeds as parsing_feeds
from daemon.parse import parse_feed
from daemon.parse.dates import Clock
from daemon.prepared import Prepared, prepare
from tests.support import DATA, SHARED, rss_document

SHARED_FEEDS = SHARED / "testdata" / "feeds"

RSS = (DATA / "feeds" / "rss2.xml").read_bytes()


def test_first_poll_sketches_every_entry() -> None:
    first = parse_feed_job(RSS, "local", None)
    assert len(first.items) == len(first.feed.articles) >= 2
    assert all(isinstance(item, Prepared) for item in first.items)
    assert len(first.seen) == 8 * len(first.items)


def test_entries_listed_last_time_are_not_read_again_but_stay_known() -> None:
    first = parse_feed_job(RSS, "local", None)
    again = parse_feed_job(RSS, "local", None, first.seen)
    assert again.items == []
    assert [guid for guid, _ in again.feed.known] == [a.guid for a in first.feed.articles]
    assert [when for _, when in again.feed.known] == [a.published for a in first.feed.articles]
    assert again.seen == first.seen
    third = parse_feed_job(RSS, "local", None, again.seen)
    assert third.items == [] and third.seen == first.seen


NO_GUIDS = b"""<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>
<item><title>Bridge closed for repairs</title><guid>urn:town:bridge</guid>
<description>Traffic goes round by the ring road.</description></item>
<item><title>Library opens on Sundays</title>
<description>From next month, from ten until four.</description></item>
</channel></rss>"""


def test_an_entry_without_guid_or_link_is_read_again_but_not_sketched() -> None:
    first = parse_feed_job(NO_GUIDS, "local", None)
    assert [a.title for a in first.feed.articles] == [
        "Bridge closed for repairs",
        "Library opens on Sundays",
    ]
    again = parse_feed_job(NO_GUIDS, "local", None, first.seen)
    assert [guid for guid, _ in again.feed.known] == ["urn:town:bridge"]
    assert again.items == [first.feed.articles[1]]
    assert not isinstance(again.items[0], Prepared)
    assert seen_digests(again.seen) == seen_digests(first.seen)


def test_only_the_entry_missing_from_the_hint_is_sketched_and_exactly_as_in_process() -> None:
    first = parse_feed_job(RSS, "local", None)
    newest_left_out = first.seen[8:]
    again = parse_feed_job(RSS, "local", None, newest_left_out)
    sketched = [item for item in again.items if isinstance(item, Prepared)]
    assert sketched == [again.items[0]]
    assert sketched[0] == prepare(first.feed.articles[0])


async def test_parsers_count_as_full_only_while_every_worker_has_a_document() -> None:
    pool = ParsePool(2)
    try:
        await pool.warm_up()
        before = pool.full_seconds()
        await pool.feed(RSS, "local", None)  # one document: one of two workers had none
        await asyncio.sleep(0.02)
        assert pool.full_seconds() == before

        started = time.perf_counter()
        await asyncio.gather(*(pool.feed(RSS, "local", None) for _ in range(6)))
        elapsed = time.perf_counter() - started
        gained = pool.full_seconds() - before
        assert 0 < gained <= elapsed
        await asyncio.sleep(0.02)  # idle again: nothing more is counted
        assert pool.full_seconds() - before == gained
    finally:
        pool.close()


async def test_one_document_fills_the_thread_fallback() -> None:
    pool = ParsePool(0)
    try:
        await asyncio.sleep(0.02)  # idle: the one thread had nothing to parse
        assert pool.full_seconds() == 0
        await pool.feed(RSS, "local", None)
        assert pool.full_seconds() > 0
    finally:
        pool.close()


def _town_feed(*items: str) -> bytes:
    return rss_document("".join(items))


def _item(n: int, date: str = "Mon, 02 Mar 2026 10:00:00 +0000") -> str:
    return (
        f"<item><title>Council notice {n}</title><guid>urn:town:{n}</guid>"
        f"<pubDate>{date}</pubDate><description>Notice {n} of the town council.</description>"
        "</item>"
    )


def test_items_stored_before_are_known_with_their_dates_and_not_read_again() -> None:
    old_date = "Sun, 01 Mar 2026 09:30:00 +0000"
    document = _town_feed(_item(3), _item(2, old_date), _item(1, "Sun, 01 Mar 2026 25:61:00 +0000"))
    stored = {"urn:town:2", "urn:town:1"}
    feed = parse_feed(document, known=stored.__contains__)
    assert [a.guid for a in feed.articles] == ["urn:town:3"]
    known = dict(feed.known)
    assert set(known) == stored
    assert known["urn:town:2"] == datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    assert known["urn:town:1"] is None  # an impossible date: known, without one
    assert feed.bozo_error is None


def test_a_feed_repeating_a_guid_is_read_whole_and_the_repeat_named() -> None:
    document = _town_feed(_item(2), _item(2), _item(1))
    feed = parse_feed(document, known={"urn:town:2"}.__contains__)
    assert feed.bozo_error is not None and "urn:town:2" in feed.bozo_error
    assert [a.guid for a in feed.articles] == ["urn:town:1"]


def test_leaving_stored_items_out_reads_every_saved_feed_as_the_whole_document_does() -> None:
    paths = sorted((DATA / "feeds").glob("*.xml"))
    if SHARED_FEEDS.is_dir():
        paths += sorted(p for p in SHARED_FEEDS.rglob("*") if p.is_file())
    left_out = 0
    for path in paths:
        data = path.read_bytes()
        stored = {a.guid for a in parse_feed(data).articles if a.guid}
        first = parse_feed(data, known=stored.__contains__)
        whole = parsing_feeds.parse_xml_feed(
            data, Clock(UTC), None, known=stored.__contains__, trim=False
        )
        assert [a.to_json() for a in first.articles] == [a.to_json() for a in whole.articles]
        assert sorted(first.known, key=str) == sorted(whole.known, key=str), path.name
        left_out += bool(parsing_feeds._drop_known_items(data, Clock(UTC), stored.__contains__)[1])
    assert left_out >= 1
