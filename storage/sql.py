"""SQL helpers that differ between SQLite and PostgreSQL, kept in one place."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from itertools import chain
from typing import Any, cast

from sqlalchemy import Table, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

# Statements sent to a SQLite DBAPI connection directly are compiled for this dialect.
SQLITE = sqlite.dialect()


class SqliteStatement:
    """A statement compiled once for SQLite and sent to the driver as it is: claims, results
    and band lookups run several times a second, and SQLAlchemy's execution path costs more
    on the event loop than SQLite spends on them."""

    def __init__(self, statement: Any, *names: str) -> None:
        compiled = statement.compile(dialect=SQLITE)
        self.sql = compiled.string
        self._fixed = compiled.construct_params(dict.fromkeys(names))
        self._order = compiled.positiontup or []

    def params(self, **values: Any) -> list[Any]:
        given = {**self._fixed, **values}
        return [given[name] for name in self._order]


# pg_advisory_xact_lock key of story placement ("nw-place" in ASCII): one per database.
PLACEMENT_LOCK = 0x6E772D706C616365


async def lock_for_writing(session: AsyncSession) -> None:
    """SQLite: take the write lock now (``BEGIN IMMEDIATE``) rather than at the first write.

    The driver starts a transaction only before the first write, so reads made before it see
    no snapshot and hold no lock: a writer that reads, decides, then writes could decide on
    what another writer is changing at the same moment."""
    connection = await session.connection()
    driver = (await connection.get_raw_connection()).driver_connection
    if driver is None or not driver.in_transaction:
        await connection.exec_driver_sql("BEGIN IMMEDIATE")


async def serialize_placement(session: AsyncSession) -> None:
    """Hold placement to one transaction at a time, until this one ends.

    Two copies of one report stored at the same moment, by two sources of one daemon or by
    two replicas, would each look for the other before either committed, find nothing, and
    start two stories that both alert. On PostgreSQL a transaction-level advisory lock, on
    SQLite the write lock taken at once, makes the second wait and then find the first."""
    if is_postgres(session):
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PLACEMENT_LOCK})
    elif dialect(session) == "sqlite":
        await lock_for_writing(session)


def dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def is_postgres(session: AsyncSession) -> bool:
    return dialect(session) == "postgresql"


def insert_ignore(session: AsyncSession, model: type[Any]) -> Any:
    """INSERT … ON CONFLICT DO NOTHING: the database, not memory, decides what is new.

    Built on the model's Core table: the ORM's bulk-insert path costs several times more per
    row, and nothing here needs identity-map bookkeeping.
    """
    table = model.__table__
    if is_postgres(session):
        return postgresql.insert(table).on_conflict_do_nothing()
    return sqlite.insert(table).on_conflict_do_nothing()


def placeholders(dialect: Dialect, count: int) -> list[str]:
    """Parameter markers in the driver's own style, for statements sent to it as they are.

    The hottest writes (band rows, poll results) bypass SQLAlchemy's per-row parameter
    processing, which costs more than the database's own work on them.
    """
    if dialect.paramstyle == "qmark":
        return ["?"] * count
    if dialect.paramstyle == "numeric_dollar":
        return [f"${n}" for n in range(1, count + 1)]
    raise ValueError(f"no driver statements for paramstyle {dialect.paramstyle!r}")


async def sqlite_many(
    connection: AsyncConnection,
    sql: Callable[[str], str],
    rows: Sequence[tuple[Any, ...]],
    per_statement: int,
) -> None:
    """Send ``rows`` to SQLite as one statement per ``per_statement`` of them, not as an
    executemany; ``sql`` gets the ``(?, …), (?, …)`` list of a chunk and returns the statement.

    The sqlite3 module gives up the GIL around every row an executemany steps through and must
    win it back from the event loop thread before the next one; while polls run, those
    thousands of handoffs cost the loop more than the writes. One statement runs whole with
    the GIL released. (asyncpg's executemany runs on the loop itself and has no such cost.)
    """
    for statement, flat in sqlite_statements(sql, rows, per_statement):
        await connection.exec_driver_sql(statement, flat)


def sqlite_statements(
    sql: Callable[[str], str], rows: Sequence[tuple[Any, ...]], per_statement: int
) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """The statements and flat parameters of ``sqlite_many``, for a DBAPI connection."""
    for start in range(0, len(rows), per_statement):
        chunk = rows[start : start + per_statement]
        row = "(" + ", ".join(["?"] * len(chunk[0])) + ")"
        yield sql(", ".join([row] * len(chunk))), tuple(chain.from_iterable(chunk))


Processor = Callable[[Any], Any]


def bind_processors(
    dialect: Dialect, model: type[Any], columns: Sequence[str]
) -> list[Processor | None]:
    """Per column, the dialect's own bind processor (None: the value goes as it is), for rows
    sent outside SQLAlchemy's statements: datetimes, on SQLite, become the very text SQLAlchemy
    writes, so values written either way compare equal. The column's type as written
    (``UTCDateTime``) wraps a generic one; only the dialect's version knows its format."""
    return [kind.bind_processor(dialect) for kind in _types(dialect, model, columns)]


def result_processors(
    dialect: Dialect, model: type[Any], columns: Sequence[str]
) -> list[Processor | None]:
    """Per column, what turns the driver's value into the Python one SQLAlchemy would return
    (on SQLite, datetime text into aware datetimes), for rows read outside its results."""
    return [kind.result_processor(dialect, None) for kind in _types(dialect, model, columns)]


def row_converter(processors: Sequence[Processor | None]) -> Callable[[Sequence[Any]], list[Any]]:
    """Converts a row's values by ``processors``, calling only those that are there: in a
    poll result most columns need none, and a call per value was most of the cost."""
    converting = [(index, to) for index, to in enumerate(processors) if to is not None]

    def convert(values: Sequence[Any]) -> list[Any]:
        row = list(values)
        for index, to in converting:
            row[index] = to(row[index])
        return row

    return convert


def _types(dialect: Dialect, model: type[Any], columns: Sequence[str]) -> list[Any]:
    table = cast(Table, model.__table__)
    return [table.c[name].type.dialect_impl(dialect) for name in columns]
