"""The alert outbox: enqueue with the match, claim with a lease, settle after delivery.

Claims are row leases: a worker owns an alert until ``lease_until``; a crashed worker's lease
simply expires and another picks the alert up. On PostgreSQL ``FOR UPDATE SKIP LOCKED`` keeps
concurrent replicas from ever claiming the same row; on SQLite the claim is one
``UPDATE … RETURNING`` statement, which the database runs alone.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.leases import due_messages, lease
from storage.models import DEAD, DELIVERED, PENDING, AlertBatch, AlertRow, utcnow
from storage.sql import insert_ignore

STATUSES = (PENDING, DELIVERED, DEAD)


@dataclass(frozen=True, slots=True)
class NewAlert:
    rule: str
    story_id: int
    article_id: int | None
    channel: str
    payload: dict[str, Any]
    round: int = 0  # 0: the story's alert; N: the item's Nth update, for on_update = "alert"


def new_uid() -> str:
    """A Standard-Webhooks style message id; it never changes once stored."""
    return f"msg_{uuid.uuid4().hex}"


async def enqueue(session: AsyncSession, alerts: Sequence[NewAlert]) -> list[int]:
    """Insert alerts; one per (rule, story, channel, round) ever: repeats are skipped."""
    ids = []
    for alert in alerts:
        values = {
            "uid": new_uid(),
            "rule": alert.rule,
            "story_id": alert.story_id,
            "article_id": alert.article_id,
            "channel": alert.channel,
            "round": alert.round,
            "payload": alert.payload,
            "status": PENDING,
            "next_attempt_at": utcnow(),
        }
        stmt = insert_ignore(session, AlertRow).values(values)
        row = (await session.execute(stmt.returning(AlertRow.id))).first()
        if row is not None:
            ids.append(int(row[0]))
    return ids


async def claim_due(
    session: AsyncSession,
    owner: str,
    lease_seconds: float,
    limit: int,
    skip_channels: Collection[str] = (),
) -> list[AlertRow]:
    """Lease up to ``limit`` due alerts that are not waiting in a batch."""
    now = utcnow()
    ready = (AlertRow.status == PENDING) & AlertRow.batch_id.is_(None)
    due = due_messages(AlertRow, ready, now=now, limit=limit, skip_channels=skip_channels)
    until = now + timedelta(seconds=lease_seconds)
    return await lease(session, AlertRow, due, {"lease_owner": owner, "lease_until": until})


async def mark_delivered(session: AsyncSession, alert_id: int, owner: str, receipt: str) -> None:
    await session.execute(
        update(AlertRow)
        .where(AlertRow.id == alert_id, AlertRow.lease_owner == owner)
        .values(
            status=DELIVERED,
            attempts=AlertRow.attempts + 1,
            delivered_at=utcnow(),
            receipt=receipt[:2000],
            last_error=None,
            lease_owner=None,
            lease_until=None,
        )
    )


async def mark_delivered_many(
    session: AsyncSession, owner: str, receipts: Sequence[tuple[int, str]]
) -> None:
    """Settle a round's deliveries with one statement executed for many rows (executemany)."""
    if not receipts:
        return
    table = cast(Table, AlertRow.__table__)
    stmt = (
        update(table)
        .where(table.c.id == bindparam("b_id"), table.c.lease_owner == owner)
        .values(
            status=DELIVERED,
            attempts=table.c.attempts + 1,
            delivered_at=utcnow(),
            receipt=bindparam("b_receipt"),
            last_error=None,
            lease_owner=None,
            lease_until=None,
        )
    )
    params = [{"b_id": alert_id, "b_receipt": receipt[:2000]} for alert_id, receipt in receipts]
    await session.execute(stmt, params)


async def mark_failed(
    session: AsyncSession,
    alert_id: int,
    owner: str,
    error: str,
    next_attempt_at: datetime | None,
) -> None:
    """Count a failed attempt; ``next_attempt_at=None`` means the schedule is exhausted."""
    values: dict[str, Any] = {
        "attempts": AlertRow.attempts + 1,
        "last_error": error[:2000],
        "lease_owner": None,
        "lease_until": None,
    }
    if next_attempt_at is None:
        values["status"] = DEAD
    else:
        values["next_attempt_at"] = next_attempt_at
    await session.execute(
        update(AlertRow)
        .where(AlertRow.id == alert_id, AlertRow.lease_owner == owner)
        .values(values)
    )


async def release(session: AsyncSession, owner: str) -> None:
    """Give back unfinished claims at shutdown so another process need not wait out a lease."""
    for model in (AlertRow, AlertBatch):
        await session.execute(
            update(model)
            .where(model.lease_owner == owner)
            .values(lease_owner=None, lease_until=None)
        )


async def counts_by_status(session: AsyncSession) -> dict[str, int]:
    result = await session.execute(select(AlertRow.status, func.count()).group_by(AlertRow.status))
    return {status: int(count) for status, count in result.all()}


async def list_alerts(
    session: AsyncSession, status: str | None = None, limit: int = 50
) -> list[AlertRow]:
    """The newest alerts first, optionally of one status."""
    query = select(AlertRow).order_by(AlertRow.id.desc()).limit(limit)
    if status is not None:
        query = query.where(AlertRow.status == status)
    return list((await session.execute(query)).scalars())


async def requeue(
    session: AsyncSession, alert_ids: Collection[int] = (), *, dead: bool = False
) -> list[int]:
    """Make alerts due now with a fresh retry schedule: the named ones, or every dead one.

    Naming a delivered alert sends it again on purpose. The uid is kept, so a receiver that
    did get an earlier attempt can tell the repeat. A re-queued alert leaves any batch it was
    in and is delivered on its own.
    """
    where = AlertRow.status == DEAD if dead else AlertRow.id.in_(list(alert_ids))
    stmt = (
        update(AlertRow)
        .where(where)
        .values(
            status=PENDING,
            attempts=0,
            next_attempt_at=utcnow(),
            batch_id=None,
            lease_owner=None,
            lease_until=None,
        )
        .returning(AlertRow.id)
    )
    result = await session.execute(stmt, execution_options={"synchronize_session": False})
    return sorted(int(i) for i in result.scalars())
