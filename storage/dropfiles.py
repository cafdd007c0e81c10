"""Which drop-folder contents were already read (by content hash, so renames are no news)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import DropFile
from storage.sql import insert_ignore


async def known_content(
    session: AsyncSession, source_id: int, sha256: str
) -> tuple[str, str | None] | None:
    """(status, error) of content already seen in this drop, or None if it is new."""
    result = await session.execute(
        select(DropFile.status, DropFile.error).where(
            DropFile.source_id == source_id, DropFile.sha256 == sha256
        )
    )
    row = result.first()
    return None if row is None else (row[0], row[1])


async def record_drop_file(
    session: AsyncSession,
    *,
    source_id: int,
    sha256: str,
    path: str,
    size: int,
    status: str,
    error: str | None = None,
    articles: int = 0,
) -> bool:
    """Remember a file's content; False if another worker recorded the same content first."""
    values = {
        "source_id": source_id,
        "sha256": sha256,
        "path": path,
        "size": size,
        "status": status,
        "error": error,
        "articles": articles,
    }
    result = await session.execute(insert_ignore(session, DropFile).values(values))
    return bool(getattr(result, "rowcount", 0))
