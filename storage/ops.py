"""Troubles with newswatch itself and when operators were last told of each."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import DropFile, OpsAlert, Source
from storage.sql import insert_ignore


async def open_troubles(session: AsyncSession) -> dict[str, OpsAlert]:
    query = select(OpsAlert).where(OpsAlert.cleared_at.is_(None))
    return {row.key: row for row in (await session.execute(query)).scalars()}


async def note(session: AsyncSession, key: str, kind: str, message: str, now: datetime) -> None:
    """Record that a trouble holds now; one that had cleared starts over as a new one."""
    await session.execute(
        insert_ignore(session, OpsAlert).values(key=key, kind=kind, first_seen=now, message="")
    )
    await session.execute(
        update(OpsAlert)
        .where(OpsAlert.key == key, OpsAlert.cleared_at.is_not(None))
        .values(first_seen=now, last_sent=None, sent_count=0, cleared_at=None)
    )
    await session.execute(
        update(OpsAlert).where(OpsAlert.key == key).values(message=message[:4000])
    )


async def claim_send(session: AsyncSession, key: str, now: datetime, repeat: float) -> int | None:
    """Take the right to tell operators about ``key`` now: None when it was told within
    ``repeat`` seconds (by this process or another replica). Returns the send's number."""
    result = await session.execute(
        update(OpsAlert)
        .where(
            OpsAlert.key == key,
            OpsAlert.cleared_at.is_(None),
            OpsAlert.last_sent.is_(None) | (OpsAlert.last_sent <= now - timedelta(seconds=repeat)),
        )
        .values(last_sent=now, sent_count=OpsAlert.sent_count + 1)
        .returning(OpsAlert.sent_count)
    )
    count = result.scalar()
    return int(count) if count is not None else None


async def unclaim(session: AsyncSession, key: str, previous: datetime | None) -> None:
    """A send that failed: the next check tries again instead of waiting for ``repeat``."""
    await session.execute(
        update(OpsAlert)
        .where(OpsAlert.key == key)
        .values(last_sent=previous, sent_count=OpsAlert.sent_count - 1)
    )


async def clear(session: AsyncSession, keys: Collection[str], now: datetime) -> None:
    if keys:
        await session.execute(
            update(OpsAlert).where(OpsAlert.key.in_(list(keys))).values(cleared_at=now)
        )


async def recent_quarantines(
    session: AsyncSession, since: datetime
) -> list[tuple[str, str, str | None]]:
    """(drop name, file path, reason) of files quarantined since ``since``, newest first."""
    query = (
        select(Source.name, DropFile.path, DropFile.error)
        .join(Source, Source.id == DropFile.source_id)
        .where(DropFile.status == "quarantined", DropFile.created_at >= since)
        .order_by(DropFile.id.desc())
    )
    return [(name, path, error) for name, path, error in (await session.execute(query)).all()]
