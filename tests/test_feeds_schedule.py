"""The pure scheduling decisions: no server, no database, no clock."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as hs

from alerts.http import parse_retry_after
from daemon.feeds.schedule import (
    Backoff,
    Bounds,
    adapt_interval,
    backoff_delay,
    honour_hints,
    is_broken,
    parse_max_age,
    publishing_gap,
    retry_after_delay,
)
from daemon.feeds.state import (
    Success,
    after_error,
    after_gone,
    after_success,
    after_throttle,
    newly_broken,
)
from storage.feeds import STATE_COLUMNS, FeedState
from tests.test_feeds_rig import Clock, open_rig
from tests.test_feeds_server import FeedServer

NOW = datetime(2026, 3, 3, 12, 0, tzinfo=UTC)
BOUNDS = Bounds(start=600, minimum=300, maximum=3600)


def state(**changes: object) -> FeedState:
    values: dict[str, object] = {
        "id": 1, "name": "f", "url": "http://x/", "configured_url": "http://x/", "etag": None,
        "last_modified": None, "body_hash": None, "interval_seconds": None, "error_count": 0,
        "first_error_at": None, "last_success_at": None, "last_poll_at": None, "items_seen": 0,
    }  # fmt: skip
    values.update(changes)
    return FeedState(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("interval", "low", "high", "expected"),
    [
        (None, None, None, Bounds(600, 300, 3600)),
        (900.0, None, None, Bounds(900, 900, 900)),
        (60.0, 30.0, None, Bounds(60, 30, 3600)),
        (None, None, 120.0, Bounds(120, 120, 120)),
        (7200.0, None, 86400.0, Bounds(7200, 300, 86400)),
    ],
)
def test_bounds_resolve_feed_over_defaults(
    interval: float | None, low: float | None, high: float | None, expected: Bounds
) -> None:
    resolved = Bounds.resolve(
        interval=interval, min_interval=low, max_interval=high,
        default_interval=600, default_min=300, default_max=3600,
    )  # fmt: skip
    assert resolved == expected


def test_busy_feed_is_polled_about_twice_per_publishing_gap() -> None:
    dates = [NOW - timedelta(minutes=20 * i) for i in range(6)]
    gap = publishing_gap(dates)
    assert gap == 1200
    assert adapt_interval(3600, BOUNDS, new_items=2, gap=gap) == 600


def test_quiet_feed_stretches_up_to_the_maximum() -> None:
    intervals = [600.0]
    for _ in range(8):
        intervals.append(adapt_interval(intervals[-1], BOUNDS, new_items=0, gap=None))
    assert intervals[1] == 900 and intervals[-1] == 3600
    assert all(a <= b for a, b in itertools.pairwise(intervals))


def test_new_items_without_dates_halve_the_interval_down_to_the_minimum() -> None:
    assert adapt_interval(2000, BOUNDS, new_items=3, gap=None) == 1000
    assert adapt_interval(400, BOUNDS, new_items=3, gap=None) == 300


def test_publishing_gap_needs_two_dates() -> None:
    assert publishing_gap([NOW, None]) is None
    assert publishing_gap([]) is None


def test_hints_raise_the_interval_but_not_past_the_maximum() -> None:
    assert honour_hints(600, BOUNDS, 1800.0, None) == 1800
    assert honour_hints(600, BOUNDS, 86400.0) == 3600
    assert honour_hints(900, BOUNDS, 60.0) == 900


@given(errors=hs.integers(1, 200), rand=hs.floats(0, 1, exclude_max=True))
def test_backoff_stays_under_the_cap_and_within_jitter(errors: int, rand: float) -> None:
    policy = Backoff(base=60, cap=21600)
    step = min(21600, 60 * 2 ** (errors - 1))
    delay = backoff_delay(errors, policy, rand)
    assert 0.75 * step <= delay <= step <= 21600


def test_backoff_doubles_per_error() -> None:
    policy = Backoff(base=60, cap=21600)
    assert [backoff_delay(n, policy, 0.0) for n in range(1, 6)] == [60, 120, 240, 480, 960]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("max-age=900", 900),
        ("public, s-maxage=120, max-age=60", 60),
        ("s-maxage=120", None),
        ('private, max-age="300"', 300),
        ("no-cache", None),
        ("", None),
    ],
)
def test_cache_control_max_age(header: str, expected: float | None) -> None:
    assert parse_max_age({"Cache-Control": header}) == expected


def test_retry_after_in_seconds_or_as_a_date() -> None:
    assert parse_retry_after("120", NOW) == 120
    later = format_datetime(NOW + timedelta(minutes=5), usegmt=True)
    assert parse_retry_after(later, NOW) == 300
    earlier = format_datetime(NOW - timedelta(minutes=5), usegmt=True)
    assert parse_retry_after(earlier, NOW) == 0
    assert parse_retry_after("soon", NOW) is None
    assert retry_after_delay(10 * 86400, Backoff(60, 21600)) == 21600


def test_state_columns_are_all_set_by_every_outcome() -> None:
    ok = after_success(state(), BOUNDS, NOW, Success("200", '"e"', None, "h", new_items=2))
    failed = after_error(state(), NOW, "500", "HTTP 500", Backoff(60, 3600), 0.5)
    throttled = after_throttle(state(), NOW, "429", "HTTP 429", 120.0)
    gone = after_gone(state(), NOW, "410 Gone")
    for values in (ok, failed, throttled, gone):
        assert set(values) == {"id", *STATE_COLUMNS}
    assert ok["items_seen"] == 2 and ok["etag"] == '"e"' and ok["error_count"] == 0
    assert failed["first_error_at"] == NOW and failed["body_hash"] is None


def test_304_keeps_the_validators_it_had() -> None:
    before = state(etag='"old"', last_modified="Mon, 02 Mar 2026 10:00:00 GMT", body_hash="h")
    values = after_success(before, BOUNDS, NOW, Success("304", None, None, None))
    assert (values["etag"], values["body_hash"]) == ('"old"', "h")


def test_broken_is_announced_once() -> None:
    since = NOW - timedelta(hours=23)
    first = state(error_count=5, first_error_at=since, last_poll_at=NOW - timedelta(hours=2))
    assert not newly_broken(first, NOW, 86400)
    later = NOW + timedelta(hours=2)
    assert newly_broken(first, later, 86400)
    after = state(error_count=6, first_error_at=since, last_poll_at=later)
    assert not newly_broken(after, later + timedelta(hours=1), 86400)
    assert is_broken(since, later, 86400) and not is_broken(None, later, 86400)


async def test_settings_decide_which_feeds_are_polled(tmp_path: Path, database_url: str) -> None:
    server = await FeedServer().start()
    try:
        async with open_rig(tmp_path, database_url, server, [("a", "/a", ""), ("b", "/b", "")]):
            pass
        async with open_rig(tmp_path, database_url, server, [("a", "/a2", "")]) as rig:
            assert isinstance(rig.clock, Clock)
            a, b = await rig.status("a"), await rig.status("b")
            assert a.enabled and a.url == server.url("/a2") == a.configured_url
            assert not b.enabled and b.disabled_reason is None
            assert (await rig.tick()).polled == 1
    finally:
        await server.stop()
