"""Copies that arrive in an order that splits their story: a brief and a rewrite that share
little with each other start two stories, and the full report, which matches both, makes them
one. Through the real pipeline and database, one input at a time and all in one batch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from alerts.match import Matcher
from alerts.rules import Rule
from daemon.ingest import Pipeline, ingest_many
from storage.models import AlertRow, ArticleRow, Story
from storage.stories import newest_stories
from storage.types import Article
from tests.test_dedup import LONG_REPORT
from tests.test_stories import count, db, ingest, source_id

__all__ = ["db"]  # the fixture, used by name

T0 = datetime(2025, 3, 2, 21, 0, tzinfo=UTC)
RULE = Rule(name="Floods", keywords=("flood", "levee"), channels=("desk",))  # type: ignore[arg-type]


def _rewrite(paragraph: str) -> str:
    return paragraph.replace(" said", " told reporters").replace("Officials", "Authorities")


def versions() -> dict[str, Article]:
    def article(title: str, body: list[str], minutes: int, guid: str) -> Article:
        when = T0 + timedelta(minutes=minutes)
        return Article(title=title, body=body, published=when, guid=guid, language="en")

    return {
        "brief": article(
            "Thousands flee as river floods Mirny",
            ["MIRNY, March 2 (AP) - " + LONG_REPORT[0], "More to follow."],
            10,
            "brief",
        ),
        "rewrite": article(
            "Why the Mirny levee gave way",
            [_rewrite(p) for p in LONG_REPORT[1:]],
            40,
            "rewrite",
        ),
        "original": article(
            "Levee breach floods three districts of Mirny", LONG_REPORT, 90, "original"
        ),
        "shortened": article(
            "Levee breach floods three districts of Mirny", LONG_REPORT[:3], 120, "short"
        ),
    }


async def _stories(db: async_sessionmaker[AsyncSession]) -> list[list[str]]:
    async with db() as session:
        found = await newest_stories(session, 10)
    return [sorted(a.title for a in story.articles) for story in found]


async def test_the_article_that_bridges_two_stories_merges_them(
    db: async_sessionmaker[AsyncSession],
) -> None:
    v = versions()
    alerts = []
    for name, source in (("brief", "a"), ("rewrite", "b"), ("original", "c"), ("shortened", "a")):
        result = await ingest(db, source, [v[name]], [RULE])
        alerts.append(len(result.alert_ids))
    # The brief and the rewrite each started a story before anything tied them together; the
    # report that did, and every copy after it, raise nothing more.
    assert alerts == [1, 1, 0, 0]
    assert await _stories(db) == [sorted(a.title for a in v.values())]
    async with db() as session:
        stories = (await session.execute(select(Story.id, Story.merged_into))).all()
        alert_stories = (await session.execute(select(AlertRow.story_id))).scalars().all()
        article_stories = set((await session.execute(select(ArticleRow.story_id))).scalars())
    survivor = min(story for story, _ in stories)
    assert sorted(into or story for story, into in stories) == [survivor, survivor]
    assert article_stories == {survivor}
    # One alert moved to the survivor; the other stays where it was sent, since the survivor
    # already has that rule's alert on that channel.
    assert sorted(alert_stories) == sorted({survivor, max(s for s, _ in stories)})


async def test_a_batch_merges_the_stories_it_started_itself(
    db: async_sessionmaker[AsyncSession],
) -> None:
    v = versions()
    sid = await source_id(db, "a")
    async with db.begin() as session:
        [result] = await ingest_many(
            session,
            [(sid, [v["brief"], v["rewrite"], v["original"], v["shortened"]])],
            pipeline=Pipeline(Matcher([RULE])),
        )
    assert result.new == 4
    # Inside one batch the merge is known before alerts are asked for: one story, one alert.
    assert len(result.alert_ids) == 1
    assert await _stories(db) == [sorted(a.title for a in v.values())]
    assert await count(db, AlertRow) == 1


async def test_a_later_copy_finds_a_merged_story_through_its_old_band_rows(
    db: async_sessionmaker[AsyncSession],
) -> None:
    v = versions()
    for name, source in (("brief", "a"), ("rewrite", "b"), ("original", "c")):
        await ingest(db, source, [v[name]], [RULE])
    # Another brief of the same lead matches only the first brief's bands, which still name
    # the story that was merged away: it must land in the survivor and raise nothing.
    again = Article(
        title="River floods Mirny overnight",
        body=["MIRNY, March 2 (Reuters) - " + LONG_REPORT[0]],
        published=T0 + timedelta(hours=3),
        guid="brief-2",
        language="en",
    )
    result = await ingest(db, "b", [again], [RULE])
    assert result.new == 1 and result.alert_ids == []
    assert len(await _stories(db)) == 1
