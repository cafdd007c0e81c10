"""Row leases: a worker owns a row until ``lease_until``; a crashed worker's lease lapses.

Used for every kind of claimed work (alerts, alert batches, feeds), so that replicas sharing
one database never take the same row.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AlertBatch, AlertRow, Source
from storage.sql import is_postgres

Leased = TypeVar("Leased", AlertRow, AlertBatch, Source)


def lease_free(
    model: type[AlertRow] | type[AlertBatch] | type[Source], now: datetime
) -> ColumnElement[bool]:
    return (model.lease_until.is_(None)) | (model.lease_until < now)


async def lease(
    session: AsyncSession,
    model: type[Leased],
    due: Select[int],
    values: dict[str, Any],
) -> list[Leased]:
    """Stamp ``values`` (owner, lease_until …) on the rows ``due`` selects and return them.

    PostgreSQL: lock the ids with SKIP LOCKED, then update. SQLite: one UPDATE whose WHERE
    holds the selection, so no other connection can slip in between reading and writing.
    """
    if is_postgres(session):
        ids = list((await session.execute(due.with_for_update(skip_locked=True))).scalars())
        if not ids:
            return []
        where: ColumnElement[bool] = model.id.in_(ids)
    else:
        where = model.id.in_(due.scalar_subquery())
    stmt = update(model).where(where).values(values).returning(model)
    result = await session.execute(stmt, execution_options={"synchronize_session": False})
    return sorted(result.scalars(), key=lambda row: row.id)
