"""Row leases: a worker owns a row until ``lease_until``; a crashed worker's lease lapses.

Used for every kind of claimed work (alerts, alert batches, feeds), so that replicas sharing
one database never take the same row.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any, TypeVar, cast

from sqlalchemy import ColumnElement, Row, Select, Table, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AlertBatch, AlertRow, Source
from storage.sql import is_postgres

Leased = TypeVar("Leased", AlertRow, AlertBatch, Source)


def lease_free(
    model: type[AlertRow] | type[AlertBatch] | type[Source], now: datetime
) -> ColumnElement[bool]:
    return (model.lease_until.is_(None)) | (model.lease_until < now)


def due_messages(
    model: type[AlertRow] | type[AlertBatch],
    ready: ColumnElement[bool],
    *,
    now: datetime,
    limit: int,
    skip_channels: Collection[str] = (),
) -> Select[int]:
    """Ids of ``ready`` alerts or batches whose attempt is due and that nobody holds, the
    longest waiting first, leaving out channels that must wait (paused, rate-limited)."""
    due = (
        select(model.id)
        .where(ready, model.next_attempt_at <= now, lease_free(model, now))
        .order_by(model.next_attempt_at, model.id)
        .limit(limit)
    )
    if skip_channels:
        due = due.where(model.channel.not_in(list(skip_channels)))
    return due


async def lease(
    session: AsyncSession,
    model: type[Leased],
    due: Select[int],
    values: dict[str, Any],
) -> list[Leased]:
    """Stamp ``values`` (owner, lease_until …) on the rows ``due`` selects and return them.

    One UPDATE whose selection no other connection can slip in between reading and
    writing: on PostgreSQL its rows are locked with SKIP LOCKED in a WITH query of the
    statement (ids read first and sent back as an IN list cost a round trip and SQLAlchemy's
    rendering of up to a batch of ids, on the event loop); SQLite has one writer anyway.
    """
    where = _claimable(session, model, due)
    stmt = update(model).where(where).values(values).returning(model)
    result = await session.execute(stmt, execution_options={"synchronize_session": False})
    return sorted(result.scalars(), key=lambda row: row.id)


async def lease_columns(
    session: AsyncSession,
    model: type[Leased],
    due: Select[int],
    values: dict[str, Any],
    columns: Sequence[str],
) -> list[Row[Any]]:
    """As :func:`lease`, returning only ``columns`` (``id`` first) as plain rows: a poller
    claims thousands of feeds a minute, and building ORM objects cost more than the claim."""
    where = _claimable(session, model, due)
    table = cast(Table, model.__table__)
    stmt = update(table).where(where).values(values).returning(*(table.c[c] for c in columns))
    return sorted((await session.execute(stmt)).all(), key=lambda row: row[0])


def _claimable(session: AsyncSession, model: type[Leased], due: Select[int]) -> ColumnElement[bool]:
    if is_postgres(session):
        locked = due.with_for_update(skip_locked=True).cte("due")
        return model.id == locked.c.id
    return model.id.in_(due.scalar_subquery())
