"""Alert batches: several alerts of one channel sent as one message.

An alert is *held* into the channel's open batch (created on demand; the unique
``open_channel`` column allows one per channel). When the batch is due it is claimed like an
alert, which seals it: alerts held after that start the next batch. Settling a batch settles
exactly the member alerts that were sent with it, so an alert held while the message was on its
way is never marked delivered by mistake.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.leases import due_messages, lease
from storage.models import DEAD, DELIVERED, PENDING, AlertBatch, AlertRow, utcnow
from storage.sql import insert_ignore, is_postgres

OPEN = "open"


async def hold(
    session: AsyncSession, alert_id: int, owner: str, channel: str, reason: str, flush_at: datetime
) -> int:
    """Put a leased alert into the channel's open batch (made if needed); return the batch id.

    The insert comes first: on SQLite it takes the write lock before anything is read, on
    PostgreSQL the row lock taken by the select keeps a sealer out until we are done.
    """
    values = {
        "uid": f"msg_{uuid.uuid4().hex}",
        "channel": channel,
        "reason": reason,
        "status": OPEN,
        "open_channel": channel,
        "next_attempt_at": flush_at,
    }
    for _ in range(5):
        await session.execute(insert_ignore(session, AlertBatch).values(values))
        query = select(AlertBatch.id).where(AlertBatch.open_channel == channel)
        if is_postgres(session):
            query = query.with_for_update()
        batch_id = (await session.execute(query)).scalar_one_or_none()
        if batch_id is not None:
            await session.execute(
                update(AlertRow)
                .where(AlertRow.id == alert_id, AlertRow.lease_owner == owner)
                .values(batch_id=batch_id, lease_owner=None, lease_until=None)
            )
            return int(batch_id)
    raise RuntimeError(f"could not open a batch for channel {channel!r}")


async def claim_due(
    session: AsyncSession,
    owner: str,
    lease_seconds: float,
    limit: int,
    skip_channels: Collection[str] = (),
) -> list[AlertBatch]:
    """Lease due batches and seal the open ones among them."""
    now = utcnow()
    ready = AlertBatch.status.in_([OPEN, PENDING])
    due = due_messages(AlertBatch, ready, now=now, limit=limit, skip_channels=skip_channels)
    values = {
        "lease_owner": owner,
        "lease_until": now + timedelta(seconds=lease_seconds),
        "status": PENDING,
        "open_channel": None,
    }
    return await lease(session, AlertBatch, due, values)


async def members(session: AsyncSession, batch_id: int) -> list[AlertRow]:
    query = select(AlertRow).where(AlertRow.batch_id == batch_id, AlertRow.status == PENDING)
    return list((await session.execute(query.order_by(AlertRow.id))).scalars())


async def drop_empty(session: AsyncSession, batch_id: int, owner: str) -> None:
    """A batch whose alerts were all re-queued elsewhere has nothing left to send."""
    await session.execute(
        delete(AlertBatch).where(AlertBatch.id == batch_id, AlertBatch.lease_owner == owner)
    )


async def mark_delivered(
    session: AsyncSession, batch_id: int, owner: str, alert_ids: Sequence[int], receipt: str
) -> None:
    now = utcnow()
    settled: dict[str, Any] = {"delivered_at": now, "receipt": receipt[:2000], "last_error": None}
    await session.execute(
        update(AlertBatch)
        .where(AlertBatch.id == batch_id, AlertBatch.lease_owner == owner)
        .values(
            status=DELIVERED,
            attempts=AlertBatch.attempts + 1,
            lease_owner=None,
            lease_until=None,
            **settled,
        )
    )
    await session.execute(
        update(AlertRow)
        .where(AlertRow.id.in_(list(alert_ids)), AlertRow.batch_id == batch_id)
        .values(status=DELIVERED, attempts=AlertRow.attempts + 1, **settled)
    )


async def mark_failed(
    session: AsyncSession,
    batch_id: int,
    owner: str,
    alert_ids: Sequence[int],
    error: str,
    next_attempt_at: datetime | None,
) -> None:
    """Count a failed attempt on the batch and its alerts; None: the schedule is exhausted."""
    batch_values: dict[str, Any] = {
        "attempts": AlertBatch.attempts + 1,
        "last_error": error[:2000],
        "lease_owner": None,
        "lease_until": None,
    }
    alert_values: dict[str, Any] = {"attempts": AlertRow.attempts + 1, "last_error": error[:2000]}
    if next_attempt_at is None:
        batch_values["status"] = alert_values["status"] = DEAD
    else:
        batch_values["next_attempt_at"] = next_attempt_at
    await session.execute(
        update(AlertBatch)
        .where(AlertBatch.id == batch_id, AlertBatch.lease_owner == owner)
        .values(batch_values)
    )
    await session.execute(
        update(AlertRow)
        .where(AlertRow.id.in_(list(alert_ids)), AlertRow.batch_id == batch_id)
        .values(alert_values)
    )
