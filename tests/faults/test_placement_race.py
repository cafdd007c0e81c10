"""Two copies of one report stored at the same moment make one story and one alert.

A wire feed and a drop folder often deliver the same report within milliseconds. Each
transaction looked for the other's copy before either had committed, found nothing, and
started its own story, so a rule alerted twice under two ids. Placement is now one
transaction at a time (an advisory lock on PostgreSQL, the write lock on SQLite).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import func, select

from alerts.match import Matcher
from alerts.rules import Rule
from daemon.ingest import Pipeline, ingest_articles
from storage.engine import create_engine, session_factory
from storage.migrate import upgrade
from storage.models import AlertRow, Source, Story
from storage.sources import sync_sources
from storage.types import Article

PARAGRAPHS = [
    "Lock keepers on the Vellan canal closed the upper gates on Thursday after the water rose "
    "half a metre above its summer mark, the navigation office said in the afternoon.",
    "Barges waiting below the third lock were told to moor for at least two days, and the towpath "
    "between the mill bridge and the old customs house was shut to walkers.",
    "The office said the sluices would be opened in turn from Saturday once the river upstream "
    "had fallen back, and that no boat had been damaged.",
]


def copy(guid: str) -> Article:
    return Article(
        title="Vellan canal gates closed as the water rises",
        body=PARAGRAPHS,
        published=datetime.now(UTC),
        guid=guid,
        language="en",
    )


async def test_copies_stored_at_once_make_one_story(database_url: str) -> None:
    engine = create_engine(database_url)
    await upgrade(engine)
    sessions = session_factory(engine)
    async with sessions.begin() as session:
        await sync_sources(session, "feed", {"wire": None, "outlet": None})
    async with sessions() as session:
        ids = dict((await session.execute(select(Source.name, Source.id))).all())
    rule = Rule(name="Canal", keywords=("canal",), channels=("desk",))
    pipeline = Pipeline(Matcher([rule]))

    async def store(source: str, hold: float) -> list[int]:
        async with sessions.begin() as session:
            result = await ingest_articles(
                session, source_id=ids[source], articles=[copy(f"{source}-1")], pipeline=pipeline
            )
            await asyncio.sleep(hold)  # the other transaction starts while this one is open
        return result.alert_ids

    try:
        first, second = await asyncio.gather(store("wire", 0.5), store("outlet", 0.0))
        async with sessions() as session:
            stories = await session.scalar(select(func.count()).select_from(Story))
            alerts = (await session.execute(select(AlertRow.story_id))).scalars().all()
    finally:
        await engine.dispose()
    assert stories == 1, "the second copy joined the first one's story"
    assert len(alerts) == 1 and len(first) + len(second) == 1, "one alert for the report"
