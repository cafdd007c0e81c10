"""Read-only views of what the daemon did, for the admin server's page, API and metrics.

Every figure comes from the database, not from one process's memory, so a page served by
one replica shows the whole fleet's work and survives restarts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Table, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import PENDING, AlertRow, ArticleRow, DropFile, Source, Story, utcnow


@dataclass(frozen=True, slots=True)
class OutboxState:
    pending: int
    oldest_pending: datetime | None

    def oldest_age(self, now: datetime) -> float:
        return (now - self.oldest_pending).total_seconds() if self.oldest_pending else 0.0


async def outbox_state(session: AsyncSession) -> OutboxState:
    row = (
        await session.execute(
            select(func.count(), func.min(AlertRow.created_at)).where(AlertRow.status == PENDING)
        )
    ).one()
    return OutboxState(int(row[0]), row[1])


async def alerts_by_channel(session: AsyncSession) -> dict[tuple[str, str], int]:
    result = await session.execute(
        select(AlertRow.channel, AlertRow.status, func.count()).group_by(
            AlertRow.channel, AlertRow.status
        )
    )
    return {(channel, status): int(n) for channel, status, n in result.all()}


async def drop_files_by_status(session: AsyncSession) -> dict[str, int]:
    result = await session.execute(select(DropFile.status, func.count()).group_by(DropFile.status))
    return {status: int(n) for status, n in result.all()}


async def list_drops(session: AsyncSession) -> list[dict[str, Any]]:
    """Each drop folder with its files counted by status and its newest file's time."""
    counts = await session.execute(
        select(
            DropFile.source_id, DropFile.status, func.count(), func.max(DropFile.created_at)
        ).group_by(DropFile.source_id, DropFile.status)
    )
    per_source: dict[int, dict[str, Any]] = {}
    for source_id, status, n, newest in counts.all():
        entry = per_source.setdefault(source_id, {"files": {}, "last_file_at": None})
        entry["files"][status] = int(n)
        if newest and (entry["last_file_at"] is None or newest > entry["last_file_at"]):
            entry["last_file_at"] = newest
    sources = await session.execute(
        select(Source).where(Source.kind == "drop").order_by(Source.name)
    )
    return [
        {
            "name": s.name,
            "path": s.url,
            "enabled": s.enabled,
            **per_source.get(s.id, {"files": {}, "last_file_at": None}),
        }
        for s in sources.scalars()
    ]


async def latest_articles(session: AsyncSession, limit: int) -> list[dict[str, Any]]:
    query = (
        select(
            ArticleRow.id,
            ArticleRow.story_id,
            ArticleRow.title,
            ArticleRow.url,
            ArticleRow.published,
            ArticleRow.created_at,
            ArticleRow.language,
            Source.name,
            Source.kind,
        )
        .join(Source, Source.id == ArticleRow.source_id)
        .order_by(ArticleRow.id.desc())
        .limit(limit)
    )
    return [
        {
            "id": r.id,
            "story_id": r.story_id,
            "title": r.title,
            "url": r.url,
            "published": r.published,
            "created_at": r.created_at,
            "language": r.language,
            "source": r.name,
            "source_kind": r.kind,
        }
        for r in (await session.execute(query)).all()
    ]


async def latest_stories(session: AsyncSession, limit: int) -> list[dict[str, Any]]:
    query = (
        select(Story)
        .where(Story.merged_into.is_(None))
        .order_by(Story.updated_at.desc(), Story.id.desc())
        .limit(limit)
    )
    return [
        {
            "id": s.id,
            "title": s.title,
            "articles": s.article_count,
            "created_at": s.created_at,
            "updated_at": s.updated_at,
        }
        for s in (await session.execute(query)).scalars()
    ]


def alert_view(row: AlertRow) -> dict[str, Any]:
    payload = row.payload or {}
    article = payload.get("article")
    if not isinstance(article, dict):
        article = {}
    return {
        "id": row.id,
        "uid": row.uid,
        "rule": row.rule,
        "channel": row.channel,
        "status": row.status,
        "attempts": row.attempts,
        "story_id": row.story_id,
        "article_id": row.article_id,
        "created_at": row.created_at,
        "next_attempt_at": row.next_attempt_at,
        "delivered_at": row.delivered_at,
        "last_error": row.last_error,
        "title": article.get("title") or "",
        "url": article.get("url"),
        "source": article.get("source"),
        "matched": payload.get("matched") or [],
        "excerpt": payload.get("excerpt") or "",
        "evidence": payload.get("evidence") or [],
    }


async def hourly(session: AsyncSession, hours: int, now: datetime | None = None) -> dict[str, Any]:
    """Articles and alerts created per hour over the last ``hours``, oldest hour first."""
    now = now or utcnow()
    top = now.replace(minute=0, second=0, microsecond=0)
    start = top - timedelta(hours=hours - 1)
    slots = [start + timedelta(hours=i) for i in range(hours)]
    series = {}
    for name, table in (("articles", ArticleRow.__table__), ("alerts", AlertRow.__table__)):
        counts = await _per_hour(session, table, start)  # type: ignore[arg-type]
        series[name] = [counts.get(slot, 0) for slot in slots]
    return {"hours": slots, **series}


async def _per_hour(session: AsyncSession, table: Table, start: datetime) -> dict[datetime, int]:
    created = table.c.created_at
    bucket: ColumnElement[Any]
    if session.get_bind().dialect.name == "sqlite":
        bucket = func.substr(created, 1, 13)  # "YYYY-MM-DD HH" of the stored UTC text
    else:
        bucket = func.date_trunc("hour", func.timezone("UTC", created))
    result = await session.execute(
        select(bucket, func.count()).where(created >= start).group_by(bucket)
    )
    counts: dict[datetime, int] = {}
    for when, n in result.all():
        moment = _hour(when)
        if moment is not None:
            counts[moment] = counts.get(moment, 0) + int(n)
    return counts


def _hour(value: Any) -> datetime | None:
    if isinstance(value, str):
        return datetime.fromisoformat(value[:13] + ":00:00+00:00")
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return None
