"""Drop folders against a real SQLite file: what is read, what waits, what is quarantined."""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import event, func, select

from daemon.runtime import Runtime
from daemon.settings import Settings, load_settings
from storage.models import AlertRow, ArticleRow, DropFile
from tests.support import DATA, toml_str

ARTICLE = (DATA / "articles" / "army_vovchansk.txt").read_bytes()


@pytest.fixture
async def runtime(tmp_path: Path, database_url: str) -> AsyncIterator[Runtime]:
    (tmp_path / "drops").mkdir()
    path = tmp_path / "settings.toml"
    path.write_text(
        f"""
[daemon]
database = {toml_str(database_url)}
[[drops]]
name = "inbox"
path = "drops"
timezone = "Europe/Kyiv"
settle = "30s"
max_file_size = "64KB"
[[rules]]
name = "Army"
keywords = ["army"]
channels = ["log"]
[channels.log]
type = "file"
path = "alerts.jsonl"
""",
        encoding="utf-8",
    )
    settings: Settings = load_settings(path, env={})
    rt = await Runtime.open(settings)
    try:
        yield rt
    finally:
        await rt.close()


def age(path: Path, seconds: float = 120) -> None:
    past = time.time() - seconds
    os.utime(path, (past, past))


async def count(runtime: Runtime, model: type) -> int:
    async with runtime.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def test_settled_file_is_read_once_and_fresh_or_temporary_files_wait(
    tmp_path: Path, runtime: Runtime
) -> None:
    drops = tmp_path / "drops"
    scanner = runtime.scanner(runtime.settings.drops[0])
    (drops / "fresh.txt").write_bytes(ARTICLE)  # still being written, as far as we know
    (drops / "halfway.txt.part").write_bytes(ARTICLE[:100])
    age(drops / "halfway.txt.part")
    assert (await scanner.scan()).files == 0

    age(drops / "fresh.txt")
    first = await scanner.scan()
    assert (first.files, first.articles, len(first.alert_ids)) == (1, 1, 1)
    assert (await scanner.scan()).files == 0

    (drops / "renamed-copy.txt").write_bytes(ARTICLE)
    age(drops / "renamed-copy.txt")
    again = await scanner.scan()
    assert (again.files, again.quarantined) == (0, 0)
    assert await count(runtime, ArticleRow) == 1
    assert await count(runtime, AlertRow) == 1


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("photo.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4, "binary"),
        ("empty.txt", b"", "empty"),
        ("huge.txt", b"word " * 20_000, "limit"),
    ],
)
async def test_unreadable_files_are_quarantined_with_the_reason(
    tmp_path: Path, runtime: Runtime, name: str, content: bytes, reason: str
) -> None:
    drops = tmp_path / "drops"
    (drops / name).write_bytes(content)
    (drops / "good.txt").write_bytes(ARTICLE)
    age(drops / name)
    age(drops / "good.txt")

    result = await runtime.scanner(runtime.settings.drops[0]).scan()

    assert (result.files, result.quarantined) == (1, 1)
    assert not (drops / name).exists()
    moved = drops / ".quarantine" / name
    assert moved.read_bytes() == content
    error = (drops / ".quarantine" / f"{name}.error").read_text(encoding="utf-8")
    assert reason in error.lower()
    async with runtime.sessions() as session:
        statuses = sorted((await session.execute(select(DropFile.status))).scalars())
    assert statuses == ["ingested", "quarantined"]


async def test_a_dropped_feed_with_impossible_dates_is_ingested_whole(
    tmp_path: Path, runtime: Runtime
) -> None:
    drops = tmp_path / "drops"
    feed = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Desk</title>'
        "<item><title>The army moved at hour twenty-five</title><guid>x1</guid>"
        "<pubDate>Sun, 01 Jan 2006 25:61:60 GMT</pubDate></item>"
        "<item><title>A second army report</title><guid>x2</guid>"
        "<pubDate>Sun, 01 Jan 2006 10:00:00 GMT</pubDate></item>"
        "</channel></rss>"
    )
    (drops / "night.xml").write_text(feed, encoding="utf-8")
    age(drops / "night.xml")

    result = await runtime.scanner(runtime.settings.drops[0]).scan()

    assert (result.files, result.articles, result.quarantined) == (1, 2, 0)
    async with runtime.sessions() as session:
        published = dict(
            (await session.execute(select(ArticleRow.title, ArticleRow.published))).all()
        )
    assert published["The army moved at hour twenty-five"] is None
    assert published["A second army report"] is not None


async def test_a_backlog_is_stored_a_group_of_files_per_transaction(
    tmp_path: Path, runtime: Runtime
) -> None:
    """A folder filled while the daemon was down is stored 32 files to a transaction, not
    one (a transaction per file capped a busy machine at a few dozen files a second); every
    file is still recorded on its own, and two copies of one file in a group are read once."""
    drops = tmp_path / "drops"
    for n in range(70):
        text = ARTICLE.replace(b"Vovchansk", f"Vovchansk district {n}".encode())
        (drops / f"report-{n:02d}.txt").write_bytes(text)
        age(drops / f"report-{n:02d}.txt")
    (drops / "report-00-copy.txt").write_bytes((drops / "report-00.txt").read_bytes())
    age(drops / "report-00-copy.txt")
    commits: list[int] = []
    event.listen(runtime.engine.sync_engine, "commit", lambda _: commits.append(1))
    result = await runtime.scanner(runtime.settings.drops[0]).scan()
    assert (result.files, result.quarantined) == (70, 0)
    assert len(commits) == 3, "70 files in groups of 32, 32 and 6"
    assert await count(runtime, DropFile) == 70
    assert await count(runtime, ArticleRow) == result.articles
    # One report with one word changed seventy times is one story, alerted once.
    assert await count(runtime, AlertRow) == len(result.alert_ids) == 1
