"""``newswatch alerts``: the outbox by status; ``alerts retry ID…|--dead`` re-queues alerts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from daemon.settings import Settings
from storage import outbox
from storage.engine import create_engine, session_factory
from storage.migrate import upgrade
from storage.models import DELIVERED, PENDING, AlertRow

COLUMNS = (
    f"{'ID':>6}  {'STATUS':<9}  {'TRIES':>5}  {'CHANNEL':<16}  {'RULE':<24}  {'WHEN':<19}  NOTE"
)


@asynccontextmanager
async def open_sessions(settings: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(settings.database_url)
    try:
        await upgrade(engine)
        yield session_factory(engine)
    finally:
        await engine.dispose()


def cut(text: str | None, width: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= width else text[: width - 1] + "…"


def row_line(row: AlertRow) -> str:
    """One alert: when it was delivered, or when it is next tried; the receipt or last error."""
    when = row.delivered_at if row.status == DELIVERED else row.next_attempt_at
    note = row.receipt if row.status == DELIVERED else row.last_error
    if row.batch_id is not None and row.status == PENDING:
        note = f"held in batch {row.batch_id}" + (f"; {note}" if note else "")
    stamp = when.strftime("%Y-%m-%d %H:%M:%S") if when else "-"
    return (
        f"{row.id:>6}  {row.status:<9}  {row.attempts:>5}  {cut(row.channel, 16):<16}  "
        f"{cut(row.rule, 24):<24}  {stamp:<19}  {cut(note, 60)}"
    )


async def _list(settings: Settings, status: str | None, limit: int) -> int:
    async with open_sessions(settings) as sessions, sessions() as session:
        counts = await outbox.counts_by_status(session)
        rows = await outbox.list_alerts(session, status, limit)
    summary = " · ".join(f"{name} {counts.get(name, 0)}" for name in outbox.STATUSES)
    print(f"alerts: {summary} (times in UTC)")
    if rows:
        print(COLUMNS)
        for row in rows:
            print(row_line(row))
    return 0


def list_alerts(settings: Settings, status: str | None, limit: int) -> int:
    return asyncio.run(_list(settings, status, limit))


async def _retry(settings: Settings, ids: Sequence[int], dead: bool) -> int:
    async with open_sessions(settings) as sessions, sessions.begin() as session:
        requeued = await outbox.requeue(session, ids, dead=dead)
    missing = sorted(set(ids) - set(requeued))
    for alert_id in missing:
        print(f"error: no alert {alert_id}")
    print(f"re-queued {len(requeued)} alert{'s' if len(requeued) != 1 else ''}", end="")
    print(f": {', '.join(map(str, requeued))}" if requeued else "")
    print("a running daemon sends them at its next delivery round")
    return 1 if missing else 0


def retry(settings: Settings, ids: Sequence[int], dead: bool) -> int:
    if not ids and not dead:
        print("error: name alert ids or pass --dead")
        return 2
    return asyncio.run(_retry(settings, ids, dead))
