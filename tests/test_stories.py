"""Deduplication through the real pipeline and database: items, articles, stories, alerts."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from alerts.match import Matcher
from alerts.rules import Rule
from daemon.ingest import IngestResult, Pipeline, ingest_articles
from daemon.parse import parse_feed
from storage.articles import prune_articles
from storage.engine import create_engine, session_factory
from storage.migrate import upgrade
from storage.models import AlertRow, ArticleRow, Source, Story, StorySketchBand
from storage.sources import sync_sources
from storage.types import Article
from tests.support import DATA, SHARED

CORPUS = {
    row["id"]: row
    for row in map(json.loads, (DATA / "dedup" / "articles.jsonl").read_text().splitlines())
}


def article(corpus_id: str, *, guid: str | None = None, source: str = "wire") -> Article:
    row = CORPUS[corpus_id]
    return Article(
        title=row["title"],
        body=[p for p in row["text"].split("\n\n") if p.strip()],
        published=datetime.fromisoformat(row["published"]),
        guid=guid or corpus_id,
        source=source,
        language="en",
    )


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(database_url)
    await upgrade(engine)
    sessions = session_factory(engine)
    async with sessions.begin() as session:
        await sync_sources(session, "feed", {name: None for name in ("a", "b", "c")})
    try:
        yield sessions
    finally:
        await engine.dispose()


async def source_id(sessions: async_sessionmaker[AsyncSession], name: str) -> int:
    async with sessions() as session:
        found = await session.execute(select(Source.id).where(Source.name == name))
        return int(found.scalar_one())


async def ingest(
    sessions: async_sessionmaker[AsyncSession], source: str, items: list[Article], rules: list[Rule]
) -> IngestResult:
    sid = await source_id(sessions, source)
    async with sessions.begin() as session:
        return await ingest_articles(
            session, source_id=sid, articles=items, pipeline=Pipeline(Matcher(rules))
        )


async def count(sessions: async_sessionmaker[AsyncSession], model: type) -> int:
    async with sessions() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


def kharkiv_rule(on_update: str = "ignore") -> Rule:
    return Rule(
        name="Kharkiv", keywords=("Kharkiv",), channels=("desk", "log"), on_update=on_update
    )  # type: ignore[arg-type]


async def test_one_wire_report_from_three_outlets_is_one_story_and_one_alert_per_channel(
    db: async_sessionmaker[AsyncSession],
) -> None:
    rules = [kharkiv_rule()]
    first = await ingest(db, "a", [article("kharkiv/base")], rules)
    second = await ingest(db, "b", [article("kharkiv/synd")], rules)
    third = await ingest(db, "c", [article("kharkiv/synd2")], rules)
    assert (first.new, second.new, third.new) == (1, 1, 1)
    assert len(first.alert_ids) == 2 and second.alert_ids == [] and third.alert_ids == []
    assert await count(db, Story) == 1
    assert await count(db, ArticleRow) == 3

    other = await ingest(db, "a", [article("kharkiv/neg")], rules)
    assert len(other.alert_ids) == 2, "another event in the same city is another story"
    assert await count(db, Story) == 2


async def test_polling_the_same_item_again_stores_nothing(
    db: async_sessionmaker[AsyncSession],
) -> None:
    await ingest(db, "a", [article("odesa/base")], [])
    again = await ingest(db, "a", [article("odesa/base")], [])
    assert (again.new, again.seen, again.updated) == (0, 1, 0)
    assert await count(db, ArticleRow) == 1


@pytest.mark.parametrize(("on_update", "alerts_after_update"), [("ignore", 0), ("alert", 2)])
async def test_a_corrected_version_joins_its_story_and_alerts_only_when_asked(
    db: async_sessionmaker[AsyncSession], on_update: str, alerts_after_update: int
) -> None:
    rules = [kharkiv_rule(on_update)]
    await ingest(db, "a", [article("kharkiv/base")], rules)
    corrected = await ingest(db, "a", [article("kharkiv/update", guid="kharkiv/base")], rules)
    assert (corrected.new, corrected.updated) == (0, 1)
    assert len(corrected.alert_ids) == alerts_after_update
    assert await count(db, Story) == 1
    assert await count(db, ArticleRow) == 1
    async with db() as session:
        rounds = sorted((await session.execute(select(AlertRow.round))).scalars())
    assert rounds == [0, 0] + [1] * alerts_after_update


async def test_rss_and_atom_of_the_same_posts_make_one_story_each(
    db: async_sessionmaker[AsyncSession],
) -> None:
    feeds = SHARED / "testdata" / "feeds"
    if not feeds.exists():
        pytest.skip("../shared/testdata is not present")
    rss = parse_feed((feeds / "large_rss.xml").read_bytes(), source="a").articles
    atom = parse_feed((feeds / "large_atom.xml").read_bytes(), source="b").articles
    assert len(rss) == len(atom) > 20
    await ingest(db, "a", rss, [])
    await ingest(db, "b", atom, [])
    assert await count(db, ArticleRow) == len(rss) + len(atom)
    assert await count(db, Story) == len(rss)


async def test_retention_prunes_old_articles_with_their_sketches_and_keeps_alerts(
    db: async_sessionmaker[AsyncSession],
) -> None:
    await ingest(db, "a", [article("kharkiv/base"), article("odesa/base")], [kharkiv_rule()])
    assert await count(db, StorySketchBand) > 0
    async with db.begin() as session:
        assert await prune_articles(session, datetime.now(UTC) - timedelta(days=1)) == 0
    async with db.begin() as session:
        assert await prune_articles(session, datetime.now(UTC) + timedelta(seconds=1)) == 2
    assert await count(db, ArticleRow) == 0
    assert await count(db, StorySketchBand) == 0
    assert await count(db, AlertRow) == 2
    assert await count(db, Story) == 2
