"""Group commit of polled entries: feeds share a transaction, and a bad one costs only itself."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from alerts.match import Matcher
from alerts.rules import Rule
from daemon.feeds.writer import StoreWriter
from daemon.ingest import Pipeline
from daemon.prepared import prepare
from storage.engine import create_engine, session_factory
from storage.feeds import (
    RESULTS_PER_STATEMENT,
    STATE_COLUMNS,
    FeedState,
    claim_due,
    record_results,
    sync_feeds,
)
from storage.migrate import upgrade
from storage.models import AlertRow, ArticleRow, Source
from storage.types import Article

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(database_url)
    await upgrade(engine)
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()


STORIES = {
    1: ("A new crane arrives at the east quay", "Dockers unloaded the crane in heavy rain."),
    2: ("Council votes on the ferry timetable", "The crane contract was also approved."),
    3: ("School roof repaired before winter", "A mobile crane lifted the panels on Friday."),
}


def report(n: int, source: str) -> Article:
    title, text = STORIES[n]
    return Article(
        title=title,
        body=[text],
        published=NOW,
        guid=f"{source}-{n}",
        source=source,
    )


def state(source_id: int, url: str) -> Any:
    def values(new: int) -> Mapping[str, Any]:
        row: dict[str, Any] = {name: None for name in STATE_COLUMNS}
        row.update(id=source_id, url=url, enabled=True, error_count=0, items_seen=new)
        row.update(last_status="ok", last_success_at=NOW, next_poll_at=NOW)
        return row

    return values


async def store(writer: StoreWriter, name: str, source_id: int, article: Article) -> Any:
    return await writer.store(name, source_id, [prepare(article)], state(source_id, name))


async def test_feeds_stored_together_and_a_failing_one_is_retried_alone(
    db: async_sessionmaker[AsyncSession],
) -> None:
    urls = {"north": "http://127.0.0.1:9/north", "south": "http://127.0.0.1:9/south"}
    async with db.begin() as session:
        ids = await sync_feeds(session, urls)
        await session.execute(update(Source).values(lease_owner="test"))  # as if claimed
    rules = [Rule(name="cranes", keywords=["crane"], channels=["log"])]  # type: ignore[arg-type]
    writer = StoreWriter(
        db, lambda: Pipeline(Matcher(rules)), owner="test", slots=asyncio.Semaphore(1)
    )
    missing = max(ids.values()) + 1000  # no such source: its articles break a foreign key
    north, bad, south = await asyncio.gather(
        store(writer, "north", ids["north"], report(1, "north")),
        store(writer, "gone", missing, report(2, "gone")),
        store(writer, "south", ids["south"], report(3, "south")),
        return_exceptions=True,
    )
    assert isinstance(bad, IntegrityError), bad
    assert not isinstance(north, BaseException) and not isinstance(south, BaseException)
    assert (north.new, south.new) == (1, 1)
    assert len(north.alert_ids) == len(south.alert_ids) == 1
    async with db() as session:
        stored = sorted((await session.execute(select(ArticleRow.title))).scalars())
        alerts = len((await session.execute(select(AlertRow.id))).all())
        seen = dict((await session.execute(select(Source.name, Source.items_seen))).all())
    assert stored == sorted([STORIES[1][0], STORIES[3][0]])
    assert alerts == 2
    assert seen == {"north": 1, "south": 1}


async def test_a_group_is_written_once_as_many_feeds_wait_as_could_come(
    db: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two one-article feeds are far from GROUP_ITEMS; with ``ready_at=2`` they are a whole
    group, written without waiting out the gathering time (an hour here)."""
    monkeypatch.setattr("daemon.feeds.writer.GATHER_SECONDS", 3600.0)
    urls = {"north": "http://127.0.0.1:9/north", "south": "http://127.0.0.1:9/south"}
    async with db.begin() as session:
        ids = await sync_feeds(session, urls)
        await session.execute(update(Source).values(lease_owner="test"))
    writer = StoreWriter(
        db, lambda: Pipeline(Matcher([])), owner="test", slots=asyncio.Semaphore(1), ready_at=2
    )
    north, south = await asyncio.wait_for(
        asyncio.gather(
            store(writer, "north", ids["north"], report(1, "north")),
            store(writer, "south", ids["south"], report(3, "south")),
        ),
        timeout=30,
    )
    assert (north.new, south.new) == (1, 1)


async def test_a_result_is_written_only_by_the_poller_still_holding_the_lease(
    db: async_sessionmaker[AsyncSession],
) -> None:
    """A poller that outlived its lease (another took the feed over) must not overwrite the
    newer owner's result; the owner's result lands whole and ends the lease."""
    async with db.begin() as session:
        ids = await sync_feeds(session, {"quay": "http://a.test/quay.xml"})
        [late] = await claim_due(session, "late", lease_seconds=60, limit=5, now=NOW)
    assert (late.id, late.name, late.url, late.error_count) == (
        ids["quay"],
        "quay",
        "http://a.test/quay.xml",
        0,
    )
    after_lapse = NOW + timedelta(seconds=61)
    async with db.begin() as session:
        [owner] = await claim_due(session, "owner", lease_seconds=60, limit=5, now=after_lapse)
        assert owner.id == late.id
        mine = dict(state(owner.id, owner.url)(3), etag='"v2"', last_status="304")
        stale = dict(state(late.id, late.url)(9), etag='"stale"', last_status="500")
        await record_results(session, "owner", [mine])
        await record_results(session, "late", [stale])
    async with db() as session:
        row = (await session.execute(select(Source).where(Source.id == owner.id))).scalar_one()
    assert (row.etag, row.last_status, row.items_seen) == ('"v2"', "304", 3)
    assert row.last_success_at == NOW and row.next_poll_at == NOW
    assert row.lease_owner is None and row.lease_until is None


async def test_a_large_flush_writes_each_result_to_its_own_feed(
    db: async_sessionmaker[AsyncSession],
) -> None:
    """More results than one statement carries: every feed gets its own values, and a result
    for a feed this poller no longer holds is dropped without disturbing its neighbours."""
    count = RESULTS_PER_STATEMENT * 2 + 7
    async with db.begin() as session:
        await sync_feeds(session, {f"f{n:04d}": f"http://a.test/{n}.xml" for n in range(count)})
        claimed = await claim_due(session, "owner", lease_seconds=60, limit=count, now=NOW)
    assert len(claimed) == count
    taken = claimed[RESULTS_PER_STATEMENT]  # lost to another poller while being polled
    async with db.begin() as session:
        await session.execute(update(Source).where(Source.id == taken.id).values(lease_owner="x"))
    results = []
    for n, feed in enumerate(claimed):
        row = dict(state(feed.id, feed.url)(n), etag=f'"{feed.name}"')
        row["next_poll_at"] = NOW + timedelta(seconds=n)
        results.append(row)
    async with db.begin() as session:
        await record_results(session, "owner", results)
    async with db() as session:
        rows = (await session.execute(select(Source).order_by(Source.id))).scalars().all()
    written = {r.id: (r.etag, r.items_seen, r.next_poll_at, r.lease_owner) for r in rows}
    for n, feed in enumerate(claimed):
        if feed is taken:
            assert written[feed.id] == (None, 0, None, "x")
        else:
            assert written[feed.id] == (f'"{feed.name}"', n, NOW + timedelta(seconds=n), None)


async def test_a_claim_hands_back_the_recorded_state_exactly(
    db: async_sessionmaker[AsyncSession],
) -> None:
    """What a poll recorded is what the next claim sees: text with quotes and non-ASCII,
    fractional intervals, and timestamps to the microsecond, in their own time zone."""
    failing_since = datetime(2026, 3, 1, 23, 59, 58, 123456, tzinfo=UTC)
    async with db.begin() as session:
        ids = await sync_feeds(session, {"Київ, «вечір»": "http://a.test/kyiv.xml?a=1&b=2"})
        [first] = await claim_due(session, "owner", lease_seconds=60, limit=5, now=NOW)
        recorded = {
            "etag": 'W/"ü-1"',
            "last_modified": "Mon, 02 Mar 2026 11:59:59 GMT",
            "body_hash": "ab" * 32,
            "interval_seconds": 437.5,
            "error_count": 3,
            "first_error_at": failing_since,
            "last_success_at": NOW - timedelta(microseconds=1),
            "last_poll_at": NOW,
        }
        row = dict(state(first.id, first.url)(7), **recorded, next_poll_at=NOW)
        await record_results(session, "owner", [row])
    async with db.begin() as session:
        [again] = await claim_due(session, "next", lease_seconds=60, limit=5, now=NOW)
    assert again == FeedState(
        id=ids["Київ, «вечір»"],
        name="Київ, «вечір»",
        url="http://a.test/kyiv.xml?a=1&b=2",
        configured_url="http://a.test/kyiv.xml?a=1&b=2",
        items_seen=7,
        **recorded,
    )
    assert again.first_error_at is not None and again.first_error_at.tzinfo is not None


async def test_pollers_claiming_at_once_never_get_the_same_feed(database_url: str) -> None:
    """Two processes' pollers on one database (two engines): every due feed goes to exactly
    one of them, however their claims interleave. Enough small claims that the race lasts
    well past SQLite's busy-handler sleeps, so both pollers take part."""
    engines = [create_engine(database_url) for _ in range(2)]
    try:
        await upgrade(engines[0])
        sessions = [session_factory(engine) for engine in engines]
        async with sessions[0].begin() as session:
            await sync_feeds(session, {f"f{n:03d}": f"http://a.test/{n}.xml" for n in range(1_000)})

        async def poller(owner: str, db: async_sessionmaker[AsyncSession]) -> list[int]:
            got: list[int] = []
            while True:
                async with db.begin() as session:
                    claimed = await claim_due(session, owner, lease_seconds=60, limit=7, now=NOW)
                if not claimed:
                    return got
                got.extend(feed.id for feed in claimed)

        first, second = await asyncio.gather(poller("one", sessions[0]), poller("two", sessions[1]))
        async with sessions[0]() as session:
            owners = dict((await session.execute(select(Source.id, Source.lease_owner))).all())
    finally:
        for engine in engines:
            await engine.dispose()
    assert not set(first) & set(second)
    assert sorted(first + second) == sorted(owners)
    assert first and second, "both pollers should have had a share"
    assert {owners[i] for i in first} == {"one"} and {owners[i] for i in second} == {"two"}


async def test_recorded_times_compare_equal_to_the_same_times_in_queries(
    db: async_sessionmaker[AsyncSession],
) -> None:
    """Poll results bypass SQLAlchemy's statements, yet a query for the time they recorded
    finds them: both write a timestamp the same way (on SQLite, the same text)."""
    async with db.begin() as session:
        await sync_feeds(session, {"quay": "http://a.test/quay.xml"})
        [feed] = await claim_due(session, "owner", lease_seconds=60, limit=5, now=NOW)
        await record_results(session, "owner", [dict(state(feed.id, feed.url)(0))])
    async with db() as session:
        found = (
            await session.execute(
                select(Source.id).where(Source.next_poll_at == NOW, Source.last_success_at == NOW)
            )
        ).scalars()
        assert list(found) == [feed.id]


async def test_claims_take_never_polled_feeds_first_then_the_longest_overdue(
    db: async_sessionmaker[AsyncSession],
) -> None:
    due_at = {"new": None, "late": -600, "later": -60, "soon": 60, "tied-b": -300, "tied-a": -300}
    async with db.begin() as session:
        ids = await sync_feeds(session, {name: f"http://a.test/{name}" for name in due_at})
        for name, offset in due_at.items():
            when = None if offset is None else NOW + timedelta(seconds=offset)
            await session.execute(
                update(Source).where(Source.id == ids[name]).values(next_poll_at=when)
            )
    claimed: list[list[str]] = []
    for _ in range(3):
        async with db.begin() as session:
            feeds = await claim_due(session, "owner", lease_seconds=60, limit=2, now=NOW)
        claimed.append(sorted(feed.name for feed in feeds))
    assert claimed == [["late", "new"], ["tied-a", "tied-b"], ["later"]]  # "soon" is not due
