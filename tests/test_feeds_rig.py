"""A poller on a real database and a real feed server, with a clock the test moves."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from daemon.feeds.poll import FeedDispatcher, TickResult
from daemon.runtime import Runtime
from daemon.settings import load_settings
from storage.feeds import FeedStatus, list_feeds
from storage.models import ArticleRow, Source, utcnow
from tests.support import toml_str
from tests.test_feeds_server import FeedServer

FAST_POLLING = """
[polling]
per_host_delay = "0s"
parse_processes = 0
read_timeout = "2s"
total_timeout = "5s"
"""


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def feed_table(name: str, url: str, extra: str = "") -> str:
    return f"\n[[feeds]]\nname = {toml_str(name)}\nurl = {toml_str(url)}\n{extra}\n"


def write_settings(tmp_path: Path, database_url: str, body: str) -> Path:
    path = tmp_path / "settings.toml"
    path.write_text(
        f"""
[daemon]
database = {toml_str(database_url)}
{body}

[[rules]]
name = "Anything on ferries"
keywords = ["ferry"]
channels = ["log"]

[channels.log]
type = "file"
path = "alerts.jsonl"
""",
        encoding="utf-8",
    )
    return path


@dataclass
class Rig:
    runtime: Runtime
    dispatcher: FeedDispatcher
    clock: Clock
    server: FeedServer

    async def tick(self) -> TickResult:
        return await self.dispatcher.tick()

    async def status(self, name: str) -> FeedStatus:
        async with self.runtime.sessions() as session:
            found = [f for f in await list_feeds(session) if f.name == name]
        assert found, f"no feed {name!r}"
        return found[0]

    async def articles(self, name: str) -> list[ArticleRow]:
        async with self.runtime.sessions() as session:
            result = await session.execute(
                select(ArticleRow)
                .join(Source, Source.id == ArticleRow.source_id)
                .where(Source.name == name)
                .order_by(ArticleRow.id)
            )
            return list(result.scalars())

    async def until_due(self, name: str) -> float:
        """Move the clock to the feed's next poll; returns how long that was."""
        status = await self.status(name)
        assert status.next_poll_at is not None
        wait = (status.next_poll_at - self.clock.now).total_seconds()
        self.clock.now = max(self.clock.now, status.next_poll_at)
        return wait

    @property
    def parsed(self) -> int:
        return self.dispatcher.parser.parsed


@contextlib.asynccontextmanager
async def open_rig(
    tmp_path: Path,
    database_url: str,
    server: FeedServer,
    feeds: Sequence[tuple[str, str, str]],
    polling: str = FAST_POLLING,
) -> AsyncIterator[Rig]:
    tables = "".join(feed_table(name, server.url(path), extra) for name, path, extra in feeds)
    settings = load_settings(write_settings(tmp_path, database_url, polling + tables))
    runtime = await Runtime.open(settings)
    clock = Clock()
    dispatcher = FeedDispatcher(
        settings, runtime.sessions, lambda: runtime.pipeline, clock=clock, lane=runtime.lane
    )
    try:
        yield Rig(runtime, dispatcher, clock, server)
    finally:
        await dispatcher.close()
        await runtime.close()
