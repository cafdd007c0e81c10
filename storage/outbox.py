"""The alert outbox: enqueue with the match, claim with a lease, settle after delivery.

Claims are row leases: a worker owns an alert until ``lease_until``; a crashed worker's lease
simply expires and another picks the alert up. On PostgreSQL ``FOR UPDATE SKIP LOCKED`` keeps
concurrent replicas from ever claiming the same row.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AlertRow, utcnow
from storage.sql import insert_ignore, is_postgres

PENDING, DELIVERED, DEAD = "pending", "delivered", "dead"


@dataclass(frozen=True, slots=True)
class NewAlert:
    rule: str
    story_id: int
    article_id: int
    channel: str
    payload: dict[str, Any]


async def enqueue(session: AsyncSession, alerts: Sequence[NewAlert]) -> list[int]:
    """Insert alerts; one per (rule, story, channel) ever, so repeats are silently skipped."""
    ids = []
    for alert in alerts:
        uid = f"msg_{uuid.uuid4().hex}"
        values = {
            "uid": uid,
            "rule": alert.rule,
            "story_id": alert.story_id,
            "article_id": alert.article_id,
            "channel": alert.channel,
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
    session: AsyncSession, owner: str, lease_seconds: float, limit: int
) -> list[AlertRow]:
    now = utcnow()
    due = (
        select(AlertRow.id)
        .where(
            AlertRow.status == PENDING,
            AlertRow.next_attempt_at <= now,
            (AlertRow.lease_until.is_(None)) | (AlertRow.lease_until < now),
        )
        .order_by(AlertRow.next_attempt_at, AlertRow.id)
        .limit(limit)
    )
    if is_postgres(session):
        due = due.with_for_update(skip_locked=True)
    ids = list((await session.execute(due)).scalars())
    if not ids:
        return []
    until = now + timedelta(seconds=lease_seconds)
    await session.execute(
        update(AlertRow).where(AlertRow.id.in_(ids)).values(lease_owner=owner, lease_until=until)
    )
    result = await session.execute(
        select(AlertRow).where(AlertRow.id.in_(ids), AlertRow.lease_owner == owner)
    )
    return list(result.scalars())


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
    await session.execute(
        update(AlertRow)
        .where(AlertRow.lease_owner == owner, AlertRow.status == PENDING)
        .values(lease_owner=None, lease_until=None)
    )


async def counts_by_status(session: AsyncSession) -> dict[str, int]:
    result = await session.execute(select(AlertRow.status, func.count()).group_by(AlertRow.status))
    return {status: int(count) for status, count in result.tuples()}
