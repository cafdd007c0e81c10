"""Engines for the embedded SQLite file and for PostgreSQL, from one URL."""

from __future__ import annotations

import sqlite3
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, Dialect, ExceptionContext, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.ext.asyncio import AsyncSession as AsyncSession

from storage.checkpoint import BACKSTOP_PAGES

# Log pages after which a commit checkpoints (when nothing else does): 40 MiB rather than 4.
# Storing a poll's articles touches pages all over the band index, and a page changed by
# many commits between two checkpoints is copied into the database once instead of once per
# commit.
COMMIT_CHECKPOINT_PAGES = 10_000
# How long a SQLite writer waits for another process's lock before "database is locked";
# ``?timeout=SECONDS`` in the URL sets it, as SQLAlchemy documents for SQLite URLs.
BUSY_SECONDS = 30.0


def create_engine(url: str, *, background_checkpoints: bool = False) -> AsyncEngine:
    """SQLite gets WAL, foreign keys and a busy timeout: a daemon and a CLI share one file.

    With ``background_checkpoints`` the caller runs a ``storage.checkpoint.Checkpointer``
    and commits leave the log to it (see there). Errors from either database name it (see
    ``name_failures``).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        engine = create_async_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)
        event.listen(engine.sync_engine, "do_connect", _connect_or_unreachable)
    else:
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        busy = busy_seconds(parsed)
        engine = create_async_engine(url, connect_args={"timeout": busy})
        pages = BACKSTOP_PAGES if background_checkpoints else COMMIT_CHECKPOINT_PAGES
        event.listen(engine.sync_engine, "connect", partial(sqlite_pragmas, pages, busy=busy))
    name_failures(engine, location(parsed))
    return engine


def busy_seconds(url: URL) -> float:
    """The URL's ``timeout`` (seconds), else BUSY_SECONDS; connect arguments and the pragma
    would otherwise override what the URL asked for without a word."""
    value = url.query.get("timeout")
    if value is None:
        return BUSY_SECONDS
    return float(value if isinstance(value, str) else value[-1])


def location(url: URL) -> str:
    """Where the database is, as a person looking for it would name it: the SQLite file, or
    the server and database without the password."""
    if url.get_backend_name() == "sqlite":
        return url.database or ":memory:"
    bare = URL.create(
        url.get_backend_name(),
        username=url.username,
        host=url.host,
        port=url.port,
        database=url.database,
    )
    return bare.render_as_string(hide_password=False)


def name_failures(engine: AsyncEngine, where: str) -> None:
    """Append the database's location to every database error the engine raises.

    "database or disk is full", "database is locked" or a dropped connection reach the log
    through whatever job met them (a drop scan, a delivery round, the checkpointer), and
    without a location the reader must guess which file or server it was about.
    """

    def name(context: ExceptionContext) -> None:
        exc = context.sqlalchemy_exception
        if not isinstance(exc, DBAPIError) or not exc.args or not isinstance(exc.args[0], str):
            return
        if where not in exc.args[0]:
            exc.args = (f"{exc.args[0]} (database {where})", *exc.args[1:])

    event.listen(engine.sync_engine, "handle_error", name)


def _connect_or_unreachable(
    dialect: Dialect, _record: Any, cargs: tuple[Any, ...], cparams: dict[str, Any]
) -> Any:
    """asyncpg lets a refused or timed-out connection out as a bare OSError, which SQLAlchemy
    passes on untouched: as the driver's OperationalError it becomes a database error like
    any other, named by ``name_failures``, instead of a network error of whatever job hit it
    (a feed poll, a delivery round)."""
    try:
        return dialect.connect(*cargs, **cparams)
    except OSError as exc:
        reason = str(exc) or repr(exc)  # a connect timeout's text is empty
        raise dialect.loaded_dbapi.OperationalError(f"database unreachable: {reason}") from exc


def sqlite_pragmas(
    checkpoint_pages: int, dbapi_connection: Any, _record: Any, *, busy: float = BUSY_SECONDS
) -> None:
    """Every connection to the file, SQLAlchemy's and ``storage.lane``'s, gets these."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={round(busy * 1000):d}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # 8 MiB of cache per connection and no memory map: the kernel's page cache already
        # keeps the hot pages, and a mapped or cached copy per connection counted as the
        # daemon's own memory, hundreds of MB once the file has grown, for no faster polls.
        cursor.execute("PRAGMA cache_size=-8192")
        cursor.execute("PRAGMA mmap_size=0")
        cursor.execute(f"PRAGMA wal_autocheckpoint={checkpoint_pages:d}")
        cursor.execute("PRAGMA journal_size_limit=67108864")  # the log shrinks back after
    except sqlite3.Error:
        cursor.close()
        raise
    cursor.close()


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
