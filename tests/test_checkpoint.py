"""SQLite's write-ahead log reaches the database file from the checkpointer, not from commits."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from daemon.runtime import Runtime
from daemon.settings import load_settings
from storage.checkpoint import Checkpoint, Checkpointer
from storage.engine import create_engine
from tests.support import toml_str

PAGE = 4096


async def write(engine: AsyncEngine, pages: int) -> None:
    """About ``pages`` pages of new rows in one transaction."""
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE IF NOT EXISTS scratch (body BLOB)"))
        await connection.execute(
            text(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :rows) "
                "INSERT INTO scratch SELECT randomblob(3000) FROM n"
            ),
            {"rows": pages},
        )


def size(path: Path) -> int:
    return path.stat().st_size


async def grows(path: Path, beyond: int, within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if size(path) > beyond:
            return True
        await asyncio.sleep(0.02)
    return False


@pytest.fixture
def path(tmp_path: Path) -> Path:
    """The database file of the ``engine`` fixture."""
    return tmp_path / "db.sqlite"


@pytest.fixture
async def engine(path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{path}", background_checkpoints=True)
    try:
        yield engine
    finally:
        await engine.dispose()


async def test_a_plain_engine_commit_copies_a_long_log_itself(tmp_path: Path) -> None:
    """The command line's engines have no checkpointer: past 10,000 log pages the commit
    copies the log into the database file."""
    path = tmp_path / "plain.sqlite"
    plain = create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        await write(plain, 12_000)
        assert size(path) > 12_000 * 3000
    finally:
        await plain.dispose()


async def test_a_commit_leaves_the_log_to_the_checkpointer(engine: AsyncEngine, path: Path) -> None:
    await write(engine, 12_000)
    assert size(path) < 1_000 * PAGE, "the commit copied the log itself"
    done = await Checkpointer(engine).checkpoint()
    assert not done.busy
    assert done.log_pages >= 12_000
    assert done.copied_pages == done.log_pages
    assert size(path) > 12_000 * 3000


async def test_a_started_checkpointer_copies_each_new_write_on_its_own(
    engine: AsyncEngine, path: Path
) -> None:
    checkpointer = Checkpointer(engine, interval=0.05)
    checkpointer.start()
    try:
        await write(engine, 500)
        assert await grows(path, 500 * 3000, within=5.0)
        before = size(path)
        await write(engine, 500)
        assert await grows(path, before + 400 * 3000, within=5.0)
    finally:
        await checkpointer.close()


async def test_closing_the_checkpointer_copies_what_is_left(
    engine: AsyncEngine, path: Path
) -> None:
    checkpointer = Checkpointer(engine, interval=3600)
    checkpointer.start()
    await write(engine, 500)
    assert size(path) < 500 * 3000
    await checkpointer.close()
    assert size(path) > 500 * 3000


async def test_the_daemon_runtime_keeps_its_sqlite_file_checkpointed(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    database = tmp_path / "newswatch.db"
    path.write_text(
        f"[daemon]\ndatabase = {toml_str(f'sqlite+aiosqlite:///{database}')}\n", encoding="utf-8"
    )
    runtime = await Runtime.open(load_settings(path, env={}))
    try:
        before = size(database)
        await write(runtime.engine, 12_000)
        assert size(database) < before + 1_000 * PAGE, "the commit copied the log itself"
        assert await grows(database, before + 12_000 * 3000, within=10.0)
    finally:
        await runtime.close()


async def test_a_failed_round_does_not_stop_the_checkpointer(
    engine: AsyncEngine, path: Path, caplog: pytest.LogCaptureFixture
) -> None:

    class FailsFirst(Checkpointer):
        failures = 0

        async def checkpoint(self) -> Checkpoint:
            if not self.failures:
                self.failures += 1
                raise OSError("disk went away for a moment")
            return await super().checkpoint()

    checkpointer = FailsFirst(engine, interval=0.05)
    await write(engine, 500)
    checkpointer.start()
    try:
        assert await grows(path, 500 * 3000, within=5.0)
    finally:
        await checkpointer.close()
    assert checkpointer.failures == 1
    assert "checkpoint failed" in caplog.text and "disk went away" in caplog.text
