"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from storage.articles import NewArticle, create_story, insert_articles
from storage.engine import create_engine, session_factory
from storage.migrate import alembic_config, upgrade
from storage.models import Base, Source, StorySketchBand
from storage.sources import sync_sources
from storage.types import Article


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def test_migrated_schema_matches_the_models(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await upgrade(engine)
        await upgrade(engine)  # a second start finds nothing to do
        async with engine.connect() as connection:
            differences = await connection.run_sync(_differences)
            tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
    finally:
        await engine.dispose()
    assert differences == []
    assert {"sources", "articles", "stories", "alerts", "story_sketch_bands"} <= tables


def _upgrade_to(connection: Connection, revisions: list[str]) -> None:
    for revision in revisions:
        command.upgrade(alembic_config(connection), revision)


async def _article_with_bands(engine: AsyncEngine, bands: dict[int, datetime]) -> tuple[int, int]:
    """An article and its band rows (key: published), written in SQL any older schema takes;
    returns (article, story)."""
    async with session_factory(engine).begin() as session:
        await sync_sources(session, "feed", {"wire": None})
        story = await create_story(session, "Ferry")
        source = (await session.execute(select(Source.id))).scalar_one()
        new = NewArticle(source, story, "k", None, None, b"", Article(title="Ferry"))
        article = (await insert_articles(session, [new]))[(source, "k")]
        await session.execute(
            text(
                "INSERT INTO story_sketch_bands (band_key, article_id, story_id, published)"
                " VALUES (:key, :article, :story, :published)"
            ),
            [
                {"key": key, "article": article, "story": story, "published": when}
                for key, when in bands.items()
            ],
        )
    return article, story


async def test_sketch_bands_survive_the_move_to_their_lookup_index(database_url: str) -> None:
    engine = create_engine(database_url)
    before = ["0002_feeds", "0003_delivery", "0004_stories"]  # every head but the move
    published = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_upgrade_to, before)
        article, story = await _article_with_bands(
            engine, {key: published for key in (-5, 11, 2**62)}
        )
        await upgrade(engine)
        async with session_factory(engine)() as session:
            rows = (
                await session.execute(
                    select(
                        StorySketchBand.band_key,
                        StorySketchBand.article_id,
                        StorySketchBand.story_id,
                        StorySketchBand.published,
                    ).order_by(StorySketchBand.band_key)
                )
            ).all()
    finally:
        await engine.dispose()
    assert [tuple(row) for row in rows] == [
        (key, article, story, published) for key in (-5, 11, 2**62)
    ]


async def _band_times(session: AsyncSession) -> list[Any]:
    query = text("SELECT published FROM story_sketch_bands ORDER BY band_key")
    return list((await session.execute(query)).scalars())


async def test_band_times_keep_their_microseconds_as_integers_and_back(database_url: str) -> None:
    """0007 turns band times into integers in SQL (each backend its own way) and its
    downgrade turns them back: a lost or shifted fraction would misorder the lookup's
    most recent articles."""
    engine = create_engine(database_url)
    times = [
        datetime(2026, 3, 2, 12, 0, tzinfo=UTC),
        datetime(2026, 3, 2, 12, 0, 0, 7, tzinfo=UTC),
        datetime(1969, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
        datetime(2026, 11, 30, 23, 59, 59, 123_456, tzinfo=UTC),
    ]
    try:
        async with engine.begin() as connection:
            await connection.run_sync(
                _upgrade_to, ["0002_feeds", "0003_delivery", "0006_pending_bands"]
            )
        await _article_with_bands(engine, dict(enumerate(times)))
        await upgrade(engine)
        async with session_factory(engine)() as session:
            read = (
                await session.execute(
                    select(StorySketchBand.published).order_by(StorySketchBand.band_key)
                )
            ).scalars()
            assert list(read) == times
            stored = await _band_times(session)
        assert all(isinstance(value, int) for value in stored), stored
        async with engine.begin() as connection:
            await connection.run_sync(
                lambda c: command.downgrade(alembic_config(c), "0007_band_integers-1")
            )
        async with session_factory(engine)() as session:
            back = await _band_times(session)
    finally:
        await engine.dispose()
    assert [_parsed(value) for value in back] == times


def _parsed(value: str | datetime) -> datetime:
    """SQLite hands the downgraded text back as it is (UTC, no offset); PostgreSQL an aware
    datetime."""
    if isinstance(value, str):
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    return value.astimezone(UTC)
