"""The poller's SQLite lane: claims, results and releases on a connection and thread of its own,
sharing the file with SQLAlchemy's connections (the store writer's, other processes')."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.checkpoint import BACKSTOP_PAGES
from storage.engine import create_engine, session_factory
from storage.feeds import (
    STATE_COLUMNS,
    FeedState,
    _sqlite_claim,
    claim_due,
    claim_on,
    record_on,
    record_results,
    release_on,
    sync_feeds,
)
from storage.lane import SqliteLane
from storage.migrate import upgrade
from storage.models import Source

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@dataclass
class Database:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    lane: SqliteLane

    async def leases(self) -> dict[int, str | None]:
        async with self.sessions() as session:
            return dict((await session.execute(select(Source.id, Source.lease_owner))).all())


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'newswatch.db'}"
    engine = create_engine(url, background_checkpoints=True)
    await upgrade(engine)
    lane = SqliteLane.for_url(url, BACKSTOP_PAGES)
    assert lane is not None
    try:
        yield Database(engine, session_factory(engine), lane)
    finally:
        await lane.close()
        await engine.dispose()


def claim(owner: str, limit: int, now: datetime = NOW) -> Any:
    return partial(claim_on, owner=owner, lease_seconds=60, limit=limit, now=now)


def result(feed: FeedState, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(STATE_COLUMNS)
    row.update(id=feed.id, url=feed.url, enabled=True, error_count=0, items_seen=0)
    row.update(last_status="304", last_success_at=NOW, next_poll_at=NOW)
    return {**row, **values}


def test_only_a_sqlite_file_gets_a_lane() -> None:
    assert SqliteLane.for_url("sqlite+aiosqlite:///:memory:", 1) is None
    assert SqliteLane.for_url("sqlite+aiosqlite://", 1) is None
    assert SqliteLane.for_url("postgresql+asyncpg://postgres@127.0.0.1/test", 1) is None
    lane = SqliteLane.for_url("sqlite+aiosqlite:///data/newswatch.db", 1)
    assert lane is not None and lane.path == "data/newswatch.db"


async def test_state_written_on_one_path_is_claimed_the_same_on_the_other(
    database: Database,
) -> None:
    """The lane and a session read and write the same text: what one records, the other
    claims exactly (quotes, Cyrillic, fractions, microseconds, aware datetimes)."""
    async with database.sessions.begin() as session:
        await sync_feeds(session, {"Київ, «вечір»": "http://a.test/kyiv.xml?a=1&b=2"})
    recorded = {
        "etag": 'W/"ü-1"',
        "body_hash": "ab" * 32,
        "interval_seconds": 437.5,
        "error_count": 3,
        "first_error_at": datetime(2026, 3, 1, 23, 59, 58, 123456, tzinfo=UTC),
        "last_success_at": NOW - timedelta(microseconds=1),
        "last_poll_at": NOW,
        "items_seen": 7,
    }
    [feed] = await database.lane.transaction(claim("lane", 5))
    await database.lane.transaction(
        partial(record_on, owner="lane", results=[result(feed, **recorded)])
    )
    async with database.sessions.begin() as session:
        [by_session] = await claim_due(session, "session", lease_seconds=60, limit=5, now=NOW)
        await record_results(session, "session", [result(by_session, **recorded)])
    [by_lane] = await database.lane.transaction(claim("lane", 5))
    expected = feed._replace(**{k: v for k, v in recorded.items() if k in FeedState._fields})
    assert by_session == by_lane == expected
    assert by_lane.first_error_at is not None and by_lane.first_error_at.tzinfo is not None
    async with database.sessions() as session:  # and a query finds the times it wrote
        found = await session.execute(
            select(Source.id).where(
                Source.first_error_at == recorded["first_error_at"],
                Source.last_success_at == recorded["last_success_at"],
            )
        )
        assert found.scalars().all() == [feed.id]


async def test_the_lane_and_another_connection_claiming_at_once_never_share_a_feed(
    database: Database,
) -> None:
    """The lane against a session on the same file (as another process's poller would be):
    every due feed goes to exactly one of them. Without BEGIN IMMEDIATE on the lane, a
    session could lease between the lane's read and its lease."""
    async with database.sessions.begin() as session:
        await sync_feeds(session, {f"f{n:03d}": f"http://a.test/{n}.xml" for n in range(1_000)})

    async def by_lane() -> list[int]:
        got: list[int] = []
        while claimed := await database.lane.transaction(claim("lane", 7)):
            got.extend(feed.id for feed in claimed)
        return got

    async def by_session() -> list[int]:
        got: list[int] = []
        while True:
            async with database.sessions.begin() as session:
                claimed = await claim_due(session, "session", lease_seconds=60, limit=7, now=NOW)
            if not claimed:
                return got
            got.extend(feed.id for feed in claimed)

    lane, session = await asyncio.gather(by_lane(), by_session())
    owners = await database.leases()
    assert not set(lane) & set(session)
    assert sorted(lane + session) == sorted(owners)
    assert lane and session, "both pollers should have had a share"
    assert {owners[i] for i in lane} == {"lane"} and {owners[i] for i in session} == {"session"}


async def test_a_failing_transaction_leaves_nothing_and_the_lane_goes_on(
    database: Database,
) -> None:
    async with database.sessions.begin() as session:
        await sync_feeds(session, {"quay": "http://a.test/quay.xml"})

    def lease_then_fail(db: sqlite3.Connection) -> None:
        db.execute("UPDATE sources SET lease_owner = 'half'")
        raise RuntimeError("the work broke")

    with pytest.raises(RuntimeError, match="the work broke"):
        await database.lane.transaction(lease_then_fail)
    assert set((await database.leases()).values()) == {None}
    [feed] = await database.lane.transaction(claim("lane", 5))
    assert await database.leases() == {feed.id: "lane"}


async def test_a_release_follows_a_claim_whose_caller_gave_up(database: Database) -> None:
    """A poller cancelled while its claim runs still commits that claim (the thread cannot be
    stopped); its release, queued on the same lane after it, hands those feeds back."""
    async with database.sessions.begin() as session:
        await sync_feeds(session, {f"f{n:03d}": f"http://a.test/{n}.xml" for n in range(300)})
    claiming = asyncio.create_task(database.lane.transaction(claim("lane", 300)))
    await asyncio.sleep(0)  # the claim is handed to the lane's thread
    claiming.cancel()
    await database.lane.transaction(partial(release_on, owner="lane"))
    assert claiming.cancelled()
    assert set((await database.leases()).values()) == {None}
    async with database.sessions.begin() as session:  # and another poller can take them all
        claimed = await claim_due(session, "next", lease_seconds=60, limit=500, now=NOW)
    assert len(claimed) == 300


async def test_leases_written_on_the_lane_lapse_for_other_pollers(database: Database) -> None:
    async with database.sessions.begin() as session:
        await sync_feeds(session, {"quay": "http://a.test/quay.xml"})
    [feed] = await database.lane.transaction(claim("lane", 5))
    async with database.sessions.begin() as session:
        assert await claim_due(session, "other", lease_seconds=60, limit=5, now=NOW) == []
        later = NOW + timedelta(seconds=61)
        [taken] = await claim_due(session, "other", lease_seconds=60, limit=5, now=later)
    assert taken.id == feed.id
    # The lane's late result does not overwrite the new owner's lease.
    await database.lane.transaction(partial(record_on, owner="lane", results=[result(feed)]))
    assert await database.leases() == {feed.id: "other"}


async def test_a_claim_reads_feeds_in_due_order_from_the_index(database: Database) -> None:
    """Not a scan and sort of every feed per claim, which made a round cost the square of
    the number of feeds: SQLite walks the ``next_poll_at`` index and stops at the limit."""
    due, _ = _sqlite_claim()

    def plan(db: sqlite3.Connection) -> list[str]:
        query = "EXPLAIN QUERY PLAN " + due.sql
        return [row[3] for row in db.execute(query, due.params(now="2026-03-02", limit=5))]

    steps = await database.lane.transaction(plan)
    assert "SCAN sources USING INDEX ix_sources_next_poll_at" in steps, steps
    assert not any("TEMP B-TREE" in step for step in steps), steps
