"""Which capture time a dropped page gets: the one it prints, refined by the file's own."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from daemon.parse import parse_bytes
from tests.support import DATA

PAGE = (DATA / "articles" / "army_vovchansk.txt").read_bytes()  # header: date 2026-03-02
KYIV = ZoneInfo("Europe/Kyiv")


@pytest.mark.parametrize(
    ("file_time", "expected"),
    [
        (None, date(2026, 3, 2)),
        (datetime(2026, 11, 1, 9, 0, tzinfo=UTC), date(2026, 3, 2)),  # copied months later
        (datetime(2026, 3, 2, 10, 30, tzinfo=UTC), datetime(2026, 3, 2, 10, 30, tzinfo=UTC)),
        (datetime(2026, 3, 1, 22, 30, tzinfo=UTC), datetime(2026, 3, 1, 22, 30, tzinfo=UTC)),
    ],
)
def test_the_printed_capture_date_wins_unless_the_file_time_is_that_day(
    file_time: datetime | None, expected: date | datetime
) -> None:
    # 22:30 UTC on 1 March is already 2 March in Kyiv, the day the page says it was saved.
    [article] = parse_bytes(PAGE, timezone=KYIV, captured=file_time)
    assert article.captured == expected
    assert article.published == datetime(2026, 3, 2, 13, 15, tzinfo=UTC)
