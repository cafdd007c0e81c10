from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from alerts.regions import Gazetteer
from tests.support import Receiver
from tests.test_delivery_kit import ScriptedReceiver
from tests.test_feeds_server import FeedServer

PG_ENABLED = os.environ.get("NEWSWATCH_PG_TESTS") == "1"
PG_ADMIN_URL = os.environ.get(
    "NEWSWATCH_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
T = TypeVar("T")
PG_SKIP_REASON = (
    "PostgreSQL tests are off: set NEWSWATCH_PG_TESTS=1 with a server at 127.0.0.1:5432 "
    "(user postgres, database test) to run them"
)


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextlib.asynccontextmanager
async def fresh_postgres() -> AsyncIterator[str]:
    """A fresh PostgreSQL database for one test, dropped afterwards."""
    if not PG_ENABLED:
        pytest.skip(PG_SKIP_REASON)
    name = f"newswatch_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(_dsn(PG_ADMIN_URL))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        admin = await asyncpg.connect(_dsn(PG_ADMIN_URL))
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


async def side_by_side(tmp_path: Path, run: Callable[[str, Path], Awaitable[T]]) -> list[T]:
    """``run(database_url, folder)`` on a SQLite file and, with the PostgreSQL tests on, on
    a fresh PostgreSQL database at the same time, each in its own folder ("sqlite",
    "postgres" under ``tmp_path``): a soak or a kill sweep mostly waits, and the suite has a
    time budget. A task group, not gather: when one run fails the other is cancelled and
    closes its servers and daemon, rather than running on unawaited past the test."""
    (tmp_path / "sqlite").mkdir()
    sqlite = f"sqlite+aiosqlite:///{tmp_path / 'sqlite' / 'newswatch.db'}"
    if not PG_ENABLED:
        return [await run(sqlite, tmp_path / "sqlite")]
    (tmp_path / "postgres").mkdir()
    async with fresh_postgres() as postgres, asyncio.TaskGroup() as runs:
        first = runs.create_task(run(sqlite, tmp_path / "sqlite"))
        second = runs.create_task(run(postgres, tmp_path / "postgres"))
    return [first.result(), second.result()]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """Each test using this runs on the embedded SQLite file and on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'newswatch.db'}"
        return
    async with fresh_postgres() as url:
        yield url


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    async with fresh_postgres() as url:
        yield url


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One gazetteer cache for the whole run: building it takes ~20 s, loading it ~0.3 s."""
    return tmp_path_factory.getbasetemp() / "gazetteer-cache"


@pytest.fixture(scope="session")
def gazetteer(cache_dir: Path) -> Gazetteer:
    return Gazetteer.load(cache_dir)


@pytest.fixture
async def server() -> AsyncIterator[FeedServer]:
    running = await FeedServer().start()
    try:
        yield running
    finally:
        await running.stop()


@pytest.fixture
async def hook() -> AsyncIterator[ScriptedReceiver]:
    receiver = ScriptedReceiver()
    await receiver.start()
    try:
        yield receiver
    finally:
        await receiver.stop()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    server = await Receiver().start()
    try:
        yield server
    finally:
        await server.stop()
