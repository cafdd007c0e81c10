"""UTCDateTime's one-step SQLite processors against SQLAlchemy's own two steps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, create_engine, insert, select, text
from sqlalchemy.dialects import sqlite

from storage.models import UTCDateTime

SQLITE = sqlite.dialect()
KYIV = timezone(timedelta(hours=2))
MOMENTS = [
    datetime(2026, 11, 25, 16, 0, 0, tzinfo=UTC),  # whole seconds: still six zero digits
    datetime(2026, 11, 25, 16, 0, 0, 123456, tzinfo=UTC),
    datetime(2026, 11, 25, 18, 30, 5, 7, tzinfo=KYIV),  # stored as 16:30:05 UTC
    datetime(1, 1, 1, 0, 0, 0, 1, tzinfo=UTC),
    datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
]


@pytest.mark.parametrize("moment", MOMENTS, ids=str)
def test_sqlite_text_is_the_dialects_own(moment: datetime) -> None:
    column = UTCDateTime().dialect_impl(SQLITE)
    ours = column.bind_processor(SQLITE)
    theirs = sqlite.DATETIME().bind_processor(SQLITE)
    assert ours is not None and theirs is not None
    assert ours(moment) == theirs(column.process_bind_param(moment, SQLITE))


@pytest.mark.parametrize(
    "stored",
    [
        "2026-11-25 16:00:00.000000",
        "2026-11-25 16:00:00.123456",
        "2026-11-25 16:00:00",  # as SQLite's own datetime('now') writes it
        "2026-11-25",
        "2026-11-25 18:00:00+02:00",
    ],
)
def test_sqlite_text_reads_back_as_the_dialect_reads_it(stored: str) -> None:
    column = UTCDateTime().dialect_impl(SQLITE)
    ours = column.result_processor(SQLITE, None)
    theirs = sqlite.DATETIME().result_processor(SQLITE, None)
    assert ours is not None and theirs is not None
    read = ours(stored)
    assert read.tzinfo is UTC
    assert read == column.process_result_value(theirs(stored), SQLITE)


def test_none_passes_and_a_naive_time_is_refused() -> None:
    column = UTCDateTime().dialect_impl(SQLITE)
    bind, result = column.bind_processor(SQLITE), column.result_processor(SQLITE, None)
    assert bind is not None and result is not None
    assert bind(None) is None and result(None) is None
    with pytest.raises(ValueError, match="naive datetime"):
        bind(datetime(2026, 11, 25, 16, 0))


def test_round_trip_through_a_real_sqlite_file(tmp_path: Path) -> None:
    """Written by a statement, compared by SQLite as text, read back equal and aware."""
    table = Table(
        "t", MetaData(), Column("id", Integer, primary_key=True), Column("at", UTCDateTime)
    )
    engine = create_engine(f"sqlite:///{tmp_path / 'types.db'}")
    try:
        table.metadata.create_all(engine)
        with engine.begin() as connection:
            connection.execute(insert(table), [{"id": i, "at": m} for i, m in enumerate(MOMENTS)])
            raw = connection.execute(text("SELECT at FROM t WHERE id = 0")).scalar_one()
            late = connection.execute(
                select(table.c.id).where(table.c.at > MOMENTS[2]).order_by(table.c.id)
            ).scalars()
            back = connection.execute(select(table.c.at).order_by(table.c.id)).scalars()
            assert raw == "2026-11-25 16:00:00.000000"
            assert list(late) == [4]  # text order is time order: MOMENTS[2] is 16:30:05 UTC
            assert list(back) == MOMENTS
    finally:
        engine.dispose()
