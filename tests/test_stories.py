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
from daemon import dedup
from daemon.dedup import Kind, MemorySketchIndex, StoryDecider
from daemon.ingest import IngestResult, Pipeline, ingest_articles, ingest_many
from daemon.parse import parse_feed
from daemon.prepared import item_key
from storage.articles import (
    NewArticle,
    create_stories,
    create_story,
    insert_articles,
    prune_articles,
)
from storage.backlog import Indexed
from storage.engine import create_engine, session_factory
from storage.migrate import upgrade
from storage.models import AlertRow, ArticleRow, Source, Story, StorySketchBand
from storage.sketches import band_candidates, index_articles
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


async def reference_stories(items: list[Article]) -> set[frozenset[str]]:
    """Stories as one-article-at-a-time placement over the in-memory index groups them."""
    index, decider = MemorySketchIndex(), StoryDecider()
    story_of: dict[str, int] = {}
    for n, item in enumerate(items):
        text = "\n\n".join(item.paragraphs)
        sketch = dedup.sketch(item.title, text, item.url)
        assert item.published is not None
        decision = await dedup.place(index, decider, sketch, item.published)
        story = decision.story_id if decision.kind is Kind.JOIN else n
        assert story is not None and item.guid is not None
        story_of[item.guid] = story
        await index.add(story, n, dedup.band_keys(sketch), sketch, item.published)
    groups: dict[int, set[str]] = {}
    for guid, story in story_of.items():
        groups.setdefault(story, set()).add(guid)
    return {frozenset(group) for group in groups.values()}


async def test_a_whole_corpus_in_one_batch_groups_as_one_article_at_a_time_would(
    db: async_sessionmaker[AsyncSession],
) -> None:
    items = [article(corpus_id) for corpus_id in CORPUS]
    result = await ingest(db, "a", items, [])
    assert result.new == len(items)
    async with db() as session:
        rows = (
            await session.execute(
                select(ArticleRow.item_key, ArticleRow.story_id, Story.title, Story.article_count)
                .join(Story, Story.id == ArticleRow.story_id)
                .order_by(ArticleRow.id)
            )
        ).all()
    by_key = {item_key(item): item for item in items}
    groups: dict[int, set[str]] = {}
    for key, story_id, _, _ in rows:
        guid = by_key[key].guid
        assert guid is not None
        groups.setdefault(story_id, set()).add(guid)
    expected = await reference_stories(items)
    assert {frozenset(g) for g in groups.values()} == expected
    assert len(expected) < len(items), "the corpus holds copies: some stories have several"
    first_title: dict[int, str] = {}
    for key, story_id, story_title, article_count in rows:
        first_title.setdefault(story_id, by_key[key].title)
        assert story_title == first_title[story_id], "a story is named after its first article"
        assert article_count == len(groups[story_id])


async def test_an_item_twice_in_one_batch_with_new_text_is_stored_once_and_updated(
    db: async_sessionmaker[AsyncSession],
) -> None:
    first = article("kharkiv/base")
    changed = article("kharkiv/update", guid="kharkiv/base")
    result = await ingest(db, "a", [first, article("odesa/base"), changed], [kharkiv_rule()])
    assert (result.new, result.updated) == (2, 1)
    async with db() as session:
        stored = (await session.execute(select(ArticleRow.title, ArticleRow.update_count))).all()
    assert sorted(stored) == sorted([(changed.title, 1), (article("odesa/base").title, 0)])
    assert await count(db, Story) == 2


async def test_several_sources_in_one_transaction_group_and_alert_as_if_stored_one_by_one(
    db: async_sessionmaker[AsyncSession],
) -> None:
    ids = {name: await source_id(db, name) for name in ("a", "b", "c")}
    async with db.begin() as session:
        results = await ingest_many(
            session,
            [
                (ids["a"], [article("kharkiv/base"), article("odesa/base")]),
                (ids["b"], [article("kharkiv/synd", source="b")]),
                (ids["c"], [article("kharkiv/base", source="c"), article("kharkiv/neg")]),
            ],
            pipeline=Pipeline(Matcher([kharkiv_rule()])),
        )
    assert [(r.new, r.seen) for r in results] == [(2, 0), (1, 0), (2, 0)]
    assert len(results[0].alert_ids) == 2, "the story's alert, once per channel"
    assert results[1].alert_ids == [], "a copy in another source joins the story"
    assert len(results[2].alert_ids) == 2, "another event in the same city is another story"
    assert await count(db, Story) == 3
    async with db() as session:
        sizes = sorted((await session.execute(select(Story.article_count))).scalars())
    assert sizes == [1, 1, 3]


async def test_stories_created_together_get_ids_in_the_order_they_were_asked_for(
    db: async_sessionmaker[AsyncSession],
) -> None:
    """More stories than one statement takes: each id must belong to the title asked for at
    its place, or articles would join the wrong stories."""
    wanted = [(f"Ferry report {n}", n % 7 + 1) for n in range(450)]
    async with db.begin() as session:
        await create_story(session, "an older story")
        ids = await create_stories(session, wanted)
    assert len(ids) == len(set(ids)) == len(wanted)
    async with db() as session:
        found = await session.execute(select(Story.id, Story.title, Story.article_count))
        stored = {story_id: (title, count) for story_id, title, count in found}
    assert [stored[story_id] for story_id in ids] == wanted


async def test_band_lookups_find_keys_across_the_signed_range_inside_the_window(
    db: async_sessionmaker[AsyncSession],
) -> None:
    """Keys are signed 64-bit: the extremes must survive the trip to the database and back,
    the window must leave older articles out, and the per-key limit keeps the newest."""
    top, bottom = 2**63 - 1, -(2**63)
    since = datetime(2026, 3, 2, tzinfo=UTC)
    plan = {  # item: (keys, published)
        "newer": ([top], since + timedelta(hours=2)),
        "older": ([top], since + timedelta(hours=1)),
        "lowest": ([bottom, 5], since),
        "before": ([5], since - timedelta(microseconds=1)),
    }
    sid = await source_id(db, "a")
    async with db.begin() as session:
        story = await create_story(session, "Keys at the edges")
        rows = [NewArticle(sid, story, n, None, None, b"s", Article(title=n)) for n in plan]
        ids = await insert_articles(session, rows)
        indexed = [Indexed(story, ids[(sid, n)], keys, at, b"s") for n, (keys, at) in plan.items()]
        await index_articles(session, indexed)
    by_id = {ids[(sid, item)]: item for item in plan}
    async with db() as session:
        found = await band_candidates(session, [top, bottom, 5, 99], since)
        newest = await band_candidates(session, [top], since, per_key=1)
    assert {by_id[row.article_id]: row.keys for row in found} == {
        "newer": {top},
        "older": {top},
        "lowest": {bottom, 5},
    }
    assert {by_id[row.article_id]: row.published for row in found} == {
        item: plan[item][1] for item in ("newer", "older", "lowest")
    }
    assert [by_id[row.article_id] for row in newest] == ["newer"]
