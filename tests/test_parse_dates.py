"""Printed dates and times: local zones, relative times, many languages."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from daemon.parse.dates import Clock, find_when, parse_when

KYIV = ZoneInfo("Europe/Kyiv")
CAPTURE = datetime(2025, 4, 7, 19, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("by A B April 8, 2025 12:34 AM 2 min read", datetime(2025, 4, 7, 21, 34)),
        ("12.03.2025 09:15", datetime(2025, 3, 12, 7, 15)),
        ("Published: 2025-03-04T10:00:00+01:00", datetime(2025, 3, 4, 9, 0)),
        ("Updated March 3, 2025 at 2:05 p.m. EST", datetime(2025, 3, 3, 19, 5)),
        ("14:05 GMT, 3 March 2025", datetime(2025, 3, 3, 14, 5)),
        ("7 квітня 2025 р., 21:10", datetime(2025, 4, 7, 18, 10)),
        ("12 марта 2025, 09:15", datetime(2025, 3, 12, 7, 15)),
        ("5. März 2025, 14:30 Uhr", datetime(2025, 3, 5, 12, 30)),
        ("3 de marzo de 2025 - 10:20", datetime(2025, 3, 3, 8, 20)),
        ("Posted 2 hours ago by Sam Lee", datetime(2025, 4, 7, 17, 0)),
        ("2 години тому", datetime(2025, 4, 7, 17, 0)),
        ("By Jane Roe | Updated 14:05 GMT", datetime(2025, 4, 7, 14, 5)),
    ],
)
def test_moments_in_lines(text: str, expected: datetime) -> None:
    found = find_when(text, Clock(KYIV, now=CAPTURE))
    assert found is not None
    assert found.when == expected.replace(tzinfo=UTC)


def test_local_time_follows_daylight_saving() -> None:
    clock = Clock(KYIV)
    assert parse_when("2025-01-15 12:00", clock) == datetime(2025, 1, 15, 10, 0, tzinfo=UTC)
    assert parse_when("2025-07-15 12:00", clock) == datetime(2025, 7, 15, 9, 0, tzinfo=UTC)


def test_bare_time_uses_the_capture_day_and_relative_needs_a_capture_time() -> None:
    assert find_when("Updated 14:05 GMT", Clock(KYIV, day=date(2025, 2, 1))) is not None
    assert find_when("Updated 14:05 GMT", Clock(KYIV)) is None
    assert find_when("3 hours ago", Clock(KYIV, day=date(2025, 2, 1))) is None


def test_whole_string_formats() -> None:
    clock = Clock(UTC)
    assert parse_when("Wed, 21 Mar 2018 10:27:32 +0300", clock) == datetime(
        2018, 3, 21, 7, 27, 32, tzinfo=UTC
    )
    assert parse_when("2025-04-10T07:15:00Z", clock) == datetime(2025, 4, 10, 7, 15, tzinfo=UTC)
    assert parse_when("le 3 mars 2025", clock) == datetime(2025, 3, 3, tzinfo=UTC)
    assert parse_when("no date here", clock) is None


@pytest.mark.parametrize(
    "value",
    [
        "2006-01-01T25:00:00Z",
        "2006-01-01T10:61:00Z",
        "Sun, 01 Jan 2006 25:61:60 GMT",
        "2006-01-01T10:00:00+25:00",
        "1 Jan 2006 13:00 pm",
        "2006-02-30",
    ],
)
def test_impossible_moments_are_no_moment_and_never_raise(value: str) -> None:
    assert parse_when(value, Clock()) is None
    found = find_when(f"Posted {value} by the desk", Clock())
    assert found is None or found.flawed


def test_leap_second_and_end_of_day_are_read_as_rfc_3339_allows() -> None:
    leap = parse_when("2006-01-01T23:59:60Z", Clock())
    assert leap == datetime(2006, 1, 1, 23, 59, 59, tzinfo=UTC)
    assert parse_when("2006-01-01T24:00:00Z", Clock()) == datetime(2006, 1, 2, tzinfo=UTC)


def test_a_byline_with_an_impossible_time_keeps_its_day() -> None:
    found = find_when("By Sam Lee, 3 March 2025 26:10", Clock())
    assert found is not None and found.flawed
    assert found.when == datetime(2025, 3, 3, tzinfo=UTC)
