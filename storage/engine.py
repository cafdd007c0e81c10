"""Engines for the embedded SQLite file and for PostgreSQL, from one URL."""

from __future__ import annotations

import sqlite3
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.ext.asyncio import AsyncSession as AsyncSession

from storage.checkpoint import BACKSTOP_PAGES

# Log pages after which a commit checkpoints (when nothing else does): 40 MiB rather than 4.
# Storing a poll's articles touches pages all over the band index, and a page changed by
# many commits between two checkpoints is copied into the database once instead of once per
# commit.
COMMIT_CHECKPOINT_PAGES = 10_000


def create_engine(url: str, *, background_checkpoints: bool = False) -> AsyncEngine:
    """SQLite gets WAL, foreign keys and a busy timeout: a daemon and a CLI share one file.

    With ``background_checkpoints`` the caller runs a ``storage.checkpoint.Checkpointer``
    and commits leave the log to it (see there).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_async_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)
    database = parsed.database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, connect_args={"timeout": 30})
    pages = BACKSTOP_PAGES if background_checkpoints else COMMIT_CHECKPOINT_PAGES
    event.listen(engine.sync_engine, "connect", partial(sqlite_pragmas, pages))
    return engine


def sqlite_pragmas(checkpoint_pages: int, dbapi_connection: Any, _record: Any) -> None:
    """Every connection to the file, SQLAlchemy's and ``storage.lane``'s, gets these."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA cache_size=-65536")  # 64 MiB: lookups stay in memory as it grows
        cursor.execute("PRAGMA mmap_size=268435456")
        cursor.execute(f"PRAGMA wal_autocheckpoint={checkpoint_pages:d}")
        cursor.execute("PRAGMA journal_size_limit=67108864")  # the log shrinks back after
    except sqlite3.Error:
        cursor.close()
        raise
    cursor.close()


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
