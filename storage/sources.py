"""Sources mirror the settings file: settings stay the source of truth, storage keeps state."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Source
from storage.sql import insert_ignore


async def sync_sources(
    session: AsyncSession, kind: str, wanted: Mapping[str, str | None]
) -> dict[str, int]:
    """Make the stored sources of ``kind`` match ``wanted`` (name -> url or path).

    Sources missing from settings are disabled, never deleted: their articles and alert
    history stay, and they come back with their state if the user restores them.
    """
    if wanted:
        rows = [{"kind": kind, "name": name, "url": url} for name, url in wanted.items()]
        await session.execute(insert_ignore(session, Source), rows)
    result = await session.execute(select(Source).where(Source.kind == kind))
    ids: dict[str, int] = {}
    for source in result.scalars():
        keep = source.name in wanted
        if keep:
            ids[source.name] = source.id
            if source.url != wanted[source.name]:
                source.url = wanted[source.name]
        if keep != source.enabled and source.disabled_reason is None:
            source.enabled = keep
    await session.flush()
    return ids


async def disable_source(session: AsyncSession, source_id: int, reason: str) -> None:
    await session.execute(
        update(Source).where(Source.id == source_id).values(enabled=False, disabled_reason=reason)
    )


async def ensure_source(session: AsyncSession, kind: str, name: str, url: str | None) -> int:
    """The id of a source outside settings (``newswatch ingest``), created on first use."""
    values = {"kind": kind, "name": name, "url": url}
    await session.execute(insert_ignore(session, Source).values(values))
    result = await session.execute(
        select(Source.id).where(Source.kind == kind, Source.name == name)
    )
    return int(result.scalar_one())
