"""Feed poll state: mirror the settings, claim due feeds with leases, record what happened.

A poller owns a feed from ``claim_due`` until its result is recorded (or ``lease_until``
passes, so a crashed poller's feeds come back by themselves). On PostgreSQL ``FOR UPDATE
SKIP LOCKED`` keeps replicas from claiming the same feed; every write checks the lease owner,
so a poller whose lease expired cannot overwrite a newer result.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from operator import attrgetter, itemgetter
from typing import Any, NamedTuple, cast

from sqlalchemy import Select, String, Table, Update, bindparam, func, select, update
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import UnaryExpression
from sqlalchemy.sql.operators import custom_op

from storage.leases import lease_columns, lease_free
from storage.models import Source, utcnow
from storage.sql import (
    SQLITE,
    SqliteStatement,
    bind_processors,
    dialect,
    insert_ignore,
    lock_for_writing,
    placeholders,
    result_processors,
    row_converter,
    sqlite_statements,
)

FEED = "feed"
# Deadlock and serialization failure: the transaction lost a race and may simply run again.
TRANSIENT_SQLSTATES = frozenset({"40P01", "40001"})

# Results per SQLite statement: 17 parameters each, well under SQLite's limit of 32,766.
RESULTS_PER_STATEMENT = 500
# Columns a poll result sets, every time, so a batch of results is one write.
STATE_COLUMNS = (
    "url",
    "etag",
    "last_modified",
    "body_hash",
    "next_poll_at",
    "last_poll_at",
    "last_success_at",
    "last_status",
    "last_error",
    "error_count",
    "first_error_at",
    "items_seen",
    "interval_seconds",
    "enabled",
    "disabled_reason",
)


class FeedState(NamedTuple):
    """A claimed feed as the poller needs it (a plain value: safe outside the session; a
    tuple, because a claim makes hundreds at a time and a frozen dataclass costs 3x more)."""

    id: int
    name: str
    url: str
    configured_url: str | None
    etag: str | None
    last_modified: str | None
    body_hash: str | None
    interval_seconds: float | None
    error_count: int
    first_error_at: datetime | None
    last_success_at: datetime | None
    last_poll_at: datetime | None
    items_seen: int


_STATE_FIELDS = FeedState._fields  # what a claim reads, in field order


_RESULT_VALUES = itemgetter(*STATE_COLUMNS, "id")  # a result's row, in statement order


@lru_cache(maxsize=8)  # one per dialect in use
def _state_reader(dialect: Dialect) -> Callable[[Sequence[Any]], list[Any]]:
    return row_converter(result_processors(dialect, Source, _STATE_FIELDS))


@lru_cache(maxsize=8)
def _result_writer(dialect: Dialect) -> Callable[[Sequence[Any]], list[Any]]:
    return row_converter([*bind_processors(dialect, Source, STATE_COLUMNS), None])


@dataclass(frozen=True, slots=True)
class FeedStatus:
    name: str
    url: str | None
    configured_url: str | None
    enabled: bool
    disabled_reason: str | None
    last_success_at: datetime | None
    last_poll_at: datetime | None
    last_status: str | None
    last_error: str | None
    error_count: int
    first_error_at: datetime | None
    next_poll_at: datetime | None
    items_seen: int


async def sync_feeds(session: AsyncSession, wanted: Mapping[str, str]) -> dict[str, int]:
    """Mirror ``[[feeds]]`` (name -> url); returns the ids of the wanted feeds.

    A feed whose settings URL changed starts over (new URL, no validators, no error streak,
    a 410 forgotten); one whose URL moved by a permanent redirect keeps polling where it
    moved. Feeds gone from settings are disabled, never deleted: their articles stay.
    """
    if wanted:
        rows = [
            {"kind": FEED, "name": name, "url": url, "configured_url": url}
            for name, url in wanted.items()
        ]
        await session.execute(insert_ignore(session, Source), rows)
    result = await session.execute(select(Source).where(Source.kind == FEED))
    ids: dict[str, int] = {}
    for source in result.scalars():
        url = wanted.get(source.name)
        if url is None:
            source.enabled = False
            continue
        ids[source.name] = source.id
        if source.configured_url != url:
            _start_over(source, url)
        source.enabled = source.disabled_reason is None
    await session.flush()
    return ids


def _start_over(source: Source, url: str) -> None:
    source.url = source.configured_url = url
    source.etag = source.last_modified = source.body_hash = None
    source.disabled_reason = source.first_error_at = source.next_poll_at = None
    source.error_count = 0


def _due(now: Any, limit: Any, *, by_time: bool = False) -> Select[int]:
    """Ids of up to ``limit`` due feeds nobody holds, the longest overdue (and never polled)
    first; ``now`` and ``limit`` are values or bound parameters.

    ``by_time`` (SQLite): without statistics, SQLite looks feeds up by the (kind, name)
    index, then reads and sorts every feed for each claim, so a round cost the square of
    the number of feeds. A unary plus keeps ``kind`` off any index, and the ``next_poll_at``
    index hands the feeds over in claim order, stopping at the limit.
    """
    kind: Any = Source.kind
    if by_time:
        kind = UnaryExpression(Source.kind.expression, operator=custom_op("+"), type_=String())
    return (
        select(Source.id)
        .where(
            kind == FEED,
            Source.enabled.is_(True),
            (Source.next_poll_at.is_(None)) | (Source.next_poll_at <= now),
            lease_free(Source, now),
        )
        .order_by(Source.next_poll_at.asc().nulls_first(), Source.id)
        .limit(limit)
    )


def _sqlite_claim() -> tuple[SqliteStatement, SqliteStatement]:
    """SQLite: the due feeds' state as one JSON row, then one UPDATE leasing them by id.

    A claim's rows returned one by one (``UPDATE … RETURNING``) each cost a GIL handoff
    between the driver's thread and the busy event loop (see ``storage.sql.sqlite_many``);
    one row costs one.
    """
    table = cast(Table, Source.__table__)
    ids = _due(bindparam("now"), bindparam("limit"), by_time=True).scalar_subquery()
    wanted = select(*(table.c[name] for name in _STATE_FIELDS)).where(table.c.id.in_(ids))
    claimable = wanted.subquery()
    states = select(func.json_group_array(func.json_array(*claimable.c)))
    leased = func.json_each(bindparam("ids")).table_valued("value")
    lease = (
        update(table)
        .where(table.c.id.in_(select(leased.c.value)))
        .values(lease_owner=bindparam("owner"), lease_until=bindparam("until"))
    )
    return SqliteStatement(states, "now", "limit"), SqliteStatement(lease, "ids", "owner", "until")


def _release() -> Update:
    return (
        update(Source)
        .where(Source.kind == FEED, Source.lease_owner == bindparam("owner"))
        .values(lease_owner=None, lease_until=None)
    )


def _renew() -> Update:
    """Rows another transaction is writing (a poll's result) are skipped, not waited for: they
    need no renewal, and waiting would lock rows in another order than that writer does."""
    held = (
        select(Source.id)
        .where(
            Source.kind == FEED,
            Source.lease_owner == bindparam("owner"),
            Source.lease_until >= bindparam("now"),
        )
        .with_for_update(skip_locked=True)
    )
    return (
        update(Source)
        .where(Source.id.in_(held.scalar_subquery()))
        .values(lease_until=bindparam("until"))
    )


_STATES, _LEASE = _sqlite_claim()
_RELEASE = SqliteStatement(_release(), "owner")
_RENEW = SqliteStatement(_renew(), "owner", "now", "until")
_STAMP = row_converter(bind_processors(SQLITE, Source, ("next_poll_at", "lease_until")))


async def claim_due(
    session: AsyncSession, owner: str, *, lease_seconds: float, limit: int, now: datetime
) -> list[FeedState]:
    """Lease up to ``limit`` due feeds, the longest overdue (and never polled) first."""
    if dialect(session) == "sqlite":
        await lock_for_writing(session)  # see claim_on
        connection = await session.connection()
        return await connection.run_sync(
            lambda sync: claim_on(
                sync.connection.dbapi_connection,
                owner,
                lease_seconds=lease_seconds,
                limit=limit,
                now=now,
            )
        )
    until = now + timedelta(seconds=lease_seconds)
    values = {"lease_owner": owner, "lease_until": until}
    rows = await lease_columns(session, Source, _due(now, limit), values, _STATE_FIELDS)
    return [FeedState(*cast(tuple[Any, ...], row)) for row in rows]


def claim_on(
    db: Any, owner: str, *, lease_seconds: float, limit: int, now: datetime
) -> list[FeedState]:
    """``claim_due`` on a SQLite DBAPI connection (``storage.lane``'s, or a session's).

    Reading and leasing are two statements, so the transaction must hold SQLite's write lock
    before the first (``BEGIN IMMEDIATE``): nobody can lease or poll a feed between them.
    """
    moment, until = _STAMP((now, now + timedelta(seconds=lease_seconds)))
    cursor = db.cursor()
    try:
        cursor.execute(_STATES.sql, _STATES.params(now=moment, limit=limit))
        rows = json.loads(cursor.fetchone()[0])
        if not rows:
            return []
        ids = json.dumps([row[0] for row in rows])
        cursor.execute(_LEASE.sql, _LEASE.params(ids=ids, owner=owner, until=until))
    finally:
        cursor.close()
    read = _state_reader(SQLITE)
    return sorted((FeedState(*read(row)) for row in rows), key=attrgetter("id"))


async def record_results(
    session: AsyncSession, owner: str, results: Sequence[Mapping[str, Any]]
) -> None:
    """Write poll results (each: ``id`` plus every STATE_COLUMNS key) and end their leases.

    Every poll ends here, most of them a 304, so the rows go to the driver as tuples.
    """
    if not results:
        return
    connection = await session.connection()
    dialect = connection.dialect
    if dialect.name == "sqlite":
        await connection.run_sync(
            lambda sync: record_on(sync.connection.dbapi_connection, owner, results)
        )
        return
    write = _result_writer(dialect)
    # In id order, as every other writer of these rows locks them: two transactions taking
    # the same rows in different orders deadlock.
    ordered = sorted(results, key=itemgetter("id"))
    rows = [(*write(_RESULT_VALUES(r)), owner) for r in ordered]
    marks = placeholders(dialect, len(STATE_COLUMNS) + 2)
    sets = ", ".join(f"{name} = {mark}" for name, mark in zip(STATE_COLUMNS, marks, strict=False))
    sql = (
        f"UPDATE {Source.__tablename__} SET {sets}, lease_owner = NULL, lease_until = NULL "
        f"WHERE id = {marks[-2]} AND lease_owner = {marks[-1]}"
    )
    await connection.exec_driver_sql(sql, rows)


def record_on(db: Any, owner: str, results: Sequence[Mapping[str, Any]]) -> None:
    """``record_results`` on a SQLite DBAPI connection: one UPDATE … FROM (VALUES …) per
    ``RESULTS_PER_STATEMENT`` results (see ``storage.sql.sqlite_many``)."""
    if not results:
        return
    write = _result_writer(SQLITE)
    rows = [(*write(_RESULT_VALUES(r)), owner) for r in results]
    cursor = db.cursor()
    try:
        for sql, flat in sqlite_statements(_results_from_values, rows, RESULTS_PER_STATEMENT):
            cursor.execute(sql, flat)
    finally:
        cursor.close()


def _results_from_values(values: str) -> str:
    """SQLite: one UPDATE … FROM (VALUES …) for many results."""
    table = Source.__tablename__
    columns = ", ".join(f"c{i}" for i in range(len(STATE_COLUMNS)))
    sets = ", ".join(f"{name} = v.c{i}" for i, name in enumerate(STATE_COLUMNS))
    return (
        f"WITH v({columns}, id, owner) AS (VALUES {values}) "
        f"UPDATE {table} SET {sets}, lease_owner = NULL, lease_until = NULL "
        f"FROM v WHERE {table}.id = v.id AND {table}.lease_owner = v.owner"
    )


async def release(session: AsyncSession, owner: str) -> None:
    """Give back unfinished claims at shutdown so another process need not wait out a lease."""
    await session.execute(_release(), {"owner": owner})


def release_on(db: Any, owner: str) -> None:
    """``release`` on a SQLite DBAPI connection."""
    db.execute(_RELEASE.sql, _RELEASE.params(owner=owner))


async def renew(session: AsyncSession, owner: str, *, now: datetime, until: datetime) -> None:
    """Push back the leases ``owner`` still holds (``storage.leases.renew``)."""
    await session.execute(_renew(), {"owner": owner, "now": now, "until": until})


def renew_on(db: Any, owner: str, *, now: datetime, until: datetime) -> None:
    """``renew`` on a SQLite DBAPI connection."""
    moment, later = _STAMP((now, until))
    db.execute(_RENEW.sql, _RENEW.params(owner=owner, now=moment, until=later))


async def next_due(session: AsyncSession) -> datetime | None:
    """When the next enabled feed falls due (None: no feed has a time yet, or there is none),
    so the dispatcher can wake for it instead of at its next tick."""
    value = await session.scalar(
        select(func.min(Source.next_poll_at)).where(Source.kind == FEED, Source.enabled.is_(True))
    )
    if isinstance(value, str):  # SQLite hands an aggregate back as text
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value if isinstance(value, datetime) else None


async def make_all_due(session: AsyncSession, now: datetime | None = None) -> None:
    """Every enabled feed due now (``newswatch feeds`` users and benchmarks force a cycle)."""
    await session.execute(
        update(Source)
        .where(Source.kind == FEED, Source.enabled.is_(True))
        .values(next_poll_at=now or utcnow())
    )


async def list_feeds(session: AsyncSession) -> list[FeedStatus]:
    result = await session.execute(select(Source).where(Source.kind == FEED).order_by(Source.name))
    return [
        FeedStatus(
            name=row.name,
            url=row.url,
            configured_url=row.configured_url,
            enabled=row.enabled,
            disabled_reason=row.disabled_reason,
            last_success_at=row.last_success_at,
            last_poll_at=row.last_poll_at,
            last_status=row.last_status,
            last_error=row.last_error,
            error_count=row.error_count,
            first_error_at=row.first_error_at,
            next_poll_at=row.next_poll_at,
            items_seen=row.items_seen,
        )
        for row in result.scalars()
    ]


def is_transient(exc: DBAPIError) -> bool:
    """True when the database aborted a transaction only because another one raced it (two
    feeds storing copies of one story at once update the same story row)."""
    code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    return code in TRANSIENT_SQLSTATES or "deadlock detected" in str(exc.orig)
