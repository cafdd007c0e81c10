"""``newswatch stories``: the newest stories with their articles and what joined each one."""

from __future__ import annotations

from pathlib import Path

import pytest

from alerts.match import Matcher
from daemon.cli import main as cli_main
from daemon.commands.stories import story_lines
from daemon.dedup import StoryDecider
from daemon.ingest import Pipeline, ingest_articles
from storage.engine import create_engine, session_factory
from storage.migrate import upgrade
from storage.sources import sync_sources
from storage.stories import newest_stories
from tests.test_stories import article, source_id


async def test_stories_show_each_article_and_what_joined_it(database_url: str) -> None:
    engine = create_engine(database_url)
    await upgrade(engine)
    sessions = session_factory(engine)
    try:
        async with sessions.begin() as session:
            await sync_sources(session, "feed", {"a": None, "b": None})
        for source, corpus_id in (
            ("a", "kharkiv/base"),
            ("b", "kharkiv/synd"),
            ("a", "kharkiv/neg"),
        ):
            sid = await source_id(sessions, source)
            async with sessions.begin() as session:
                await ingest_articles(
                    session,
                    source_id=sid,
                    articles=[article(corpus_id, source=source)],
                    pipeline=Pipeline(Matcher([])),
                )
        async with sessions() as session:
            stories = await newest_stories(session, 10)
    finally:
        await engine.dispose()
    sizes = sorted(len(story.articles) for story in stories)
    assert sizes == [1, 2]
    joined = next(story for story in stories if len(story.articles) == 2)
    first, second = joined.articles
    assert (first.source, second.source) == ("a", "b")
    lines = story_lines(stories, StoryDecider())
    rows = [line for line in lines if line.startswith(f"  article {second.id} ")]
    [row] = rows
    assert f"joined {first.id}: " in row
    score = float(row.split(f"joined {first.id}: ")[1].split()[1])
    assert 0.0 < score <= 1.0
    assert sum("started the story" in line for line in lines) == 2
    assert len(await _limited(database_url)) == 1


async def _limited(database_url: str) -> list[object]:
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            return list(await newest_stories(session, 1))
    finally:
        await engine.dispose()


def test_stories_command_on_an_empty_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = tmp_path / "settings.toml"
    database = tmp_path / "newswatch.db"
    settings.write_text(f'[daemon]\ndatabase = "sqlite+aiosqlite:///{database}"\n')
    assert cli_main(["--settings", str(settings), "stories", "--limit", "5"]) == 0
    assert capsys.readouterr().out.strip() == "no stories yet"
