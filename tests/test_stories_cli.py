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
            newest = await newest_stories(session, 1)
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
    assert len(newest) == 1


def test_stories_command_on_an_empty_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = tmp_path / "settings.toml"
    database = tmp_path / "newswatch.db"
    settings.write_text(f'[daemon]\ndatabase = "sqlite+aiosqlite:///{database}"\n')
    assert cli_main(["--settings", str(settings), "stories", "--limit", "5"]) == 0
    assert capsys.readouterr().out.strip() == "no stories yet"


def test_stories_explain_says_which_story_a_file_would_join_and_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    layouts = Path(__file__).parent / "data" / "layouts"
    settings = tmp_path / "settings.toml"
    settings.write_text(f'[daemon]\ndatabase = "sqlite+aiosqlite:///{tmp_path / "n.db"}"\n')
    stored = tmp_path / "wire.txt"
    stored.write_bytes((layouts / "en_wire.txt").read_bytes())
    assert cli_main(["--settings", str(settings), "ingest", str(stored), "--no-deliver"]) == 0
    lines = (layouts / "en_wire.txt").read_text(encoding="utf-8").splitlines()
    copy = tmp_path / "copy.txt"  # re-headlined, without its last paragraph
    copy.write_text(
        "\n".join(["Shipping group stops Red Sea voyages", *lines[11:13], *lines[14:17]]),
        encoding="utf-8",
    )
    other = tmp_path / "other.txt"
    other.write_bytes((layouts / "uk_portal.txt").read_bytes())
    capsys.readouterr()
    files = [str(stored), str(copy), str(other), str(tmp_path / "missing.txt")]
    assert cli_main(["--settings", str(settings), "stories", "explain", *files]) == 1
    out = capsys.readouterr().out.splitlines()
    verdicts = {out[i].split(": ")[0]: out[i + 1].strip() for i in range(0, 6, 2)}
    assert verdicts[str(stored)] == (
        "would join story 1 through article 1: content 1.00 (threshold 0.30)"
    )
    assert verdicts[str(copy)].startswith("would join story 1 through article 1: sketch ")
    assert verdicts[str(other)].startswith("would start a new story")
    assert out[6].startswith(f"{tmp_path / 'missing.txt'}: cannot be read")
