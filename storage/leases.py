"""Row leases: a worker owns a row until ``lease_until``; a crashed worker's lease lapses.

Used for every kind of claimed work (alerts, alert batches, feeds), so that replicas sharing
one database never take the same row.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from typing import Any, TypeVar, cast

from sqlalchemy import ColumnElement, Row, Select, Table, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import PENDING, AlertBatch, AlertRow, Source
from storage.sql import is_postgres

Leased = TypeVar("Leased", AlertRow, AlertBatch, Source)
LEASED: tuple[type[Source], type[AlertRow], type[AlertBatch]] = (Source, AlertRow, AlertBatch)
_HOST_CHARS = 30


def new_owner() -> str:
    """``host:pid:random``: the host and pid say whether the holder can still be alive (see
    ``stale_owner``); the random part tells this process from an earlier one with its pid."""
    return f"{socket.gethostname()[:_HOST_CHARS]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def stale_owner(owner: str, *, any_host: bool = False) -> bool:
    """Whether the lease holder is certainly gone: a process of this host that no longer
    runs, or an earlier process under this very pid (a restarted container is pid 1 again).

    Holders on other hosts can only be waited out, unless ``any_host``: the caller holds the
    database on its own (the SQLite lock), so any other holder is a process that died.
    """
    host, _, rest = owner.partition(":")
    pid_text, _, _ = rest.partition(":")
    if not pid_text.isdigit():
        return any_host
    if host != socket.gethostname()[:_HOST_CHARS]:
        return any_host
    pid = int(pid_text)
    if pid == os.getpid():
        return True  # callers never pass their own owners
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


async def reclaim(
    session: AsyncSession, keep: Collection[str], stale: Callable[[str], bool]
) -> Counter[str]:
    """Free the leases of holders ``stale`` calls gone, leaving ``keep`` (this process's own):
    a restart after a crash takes its feeds and alerts back at once instead of waiting out
    the dead process's leases. Returns the rows freed per table."""
    freed: Counter[str] = Counter()
    for model in LEASED:
        held: ColumnElement[bool] = model.lease_owner.is_not(None)
        if model is AlertRow or model is AlertBatch:
            # Only pending alerts are ever leased; the due index then spares a scan of every
            # alert ever sent, at each start.
            held = held & (model.status == PENDING)
        owners = await session.scalars(select(model.lease_owner).where(held).distinct())
        gone = [o for o in owners if o is not None and o not in keep and stale(o)]
        if not gone:
            continue
        result = await session.execute(
            update(model)
            .where(held, model.lease_owner.in_(gone))
            .values(lease_owner=None, lease_until=None),
            execution_options={"synchronize_session": False},
        )
        freed[model.__tablename__] += int(getattr(result, "rowcount", 0) or 0)
    return freed


async def renew(
    session: AsyncSession,
    model: type[AlertRow] | type[AlertBatch],
    owner: str,
    ids: Collection[int],
    *,
    now: datetime,
    until: datetime,
) -> None:
    """Push back ``owner``'s live leases on ``ids``: leases stay short, so a holder that dies
    loses its work within one lease, yet work that runs longer than a lease is not taken
    from it. Only the rows still being worked on are named: one whose work was given up must
    lapse and be retried. A lease already lapsed is not revived: another holder may have the
    row by now."""
    held = (
        select(model.id)
        .where(model.id.in_(list(ids)), model.lease_owner == owner, model.lease_until >= now)
        .with_for_update(skip_locked=True)  # being settled right now: no renewal needed
    )
    await session.execute(
        update(model).where(model.id.in_(held.scalar_subquery())).values(lease_until=until),
        execution_options={"synchronize_session": False},
    )


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
