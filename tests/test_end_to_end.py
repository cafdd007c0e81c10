"""The whole path as users run it: ``newswatch run`` as a subprocess, a file dropped, a POST."""

from __future__ import annotations

import json
import shutil
import signal
from pathlib import Path

from sqlalchemy import distinct, func, select

from storage.engine import create_engine, session_factory
from storage.models import AlertRow, PendingBands, Story, StorySketchBand
from tests.support import DATA, ROOT, DaemonProcess, Receiver, free_port, toml_str

ARTICLE = DATA / "articles" / "army_vovchansk.txt"
TITLE = "Ukrainian army reinforces positions near Vovchansk, regional officials say"


def write_settings(tmp_path: Path, database_url: str, hook_url: str) -> Path:
    settings = tmp_path / "settings.toml"
    settings.write_text(
        f"""
[daemon]
database = {toml_str(database_url)}
scan_interval = "0.2s"
delivery_interval = "0.5s"

[delivery]
retry_schedule = ["0.5s", "0.5s", "0.5s", "0.5s", "0.5s", "0.5s", "0.5s", "0.5s"]

[[drops]]
name = "inbox"
path = "drops"
timezone = "Europe/Kyiv"
settle = "0.2s"

[[rules]]
name = "Army on the border"
keywords = ["army", "troops"]
channels = ["desk"]

[channels.desk]
type = "webhook"
url = {toml_str(hook_url)}
""",
        encoding="utf-8",
    )
    (tmp_path / "drops").mkdir()
    return settings


def drop(tmp_path: Path, name: str) -> None:
    """Write like a scraper does: a temporary name first, then an atomic rename."""
    target = tmp_path / "drops" / name
    partial = target.with_name(name + ".part")
    shutil.copyfile(ARTICLE, partial)
    partial.rename(target)


async def test_dropped_article_becomes_one_webhook_alert(
    tmp_path: Path, database_url: str, receiver: Receiver
) -> None:
    daemon = await DaemonProcess(write_settings(tmp_path, database_url, receiver.url)).start()
    try:
        drop(tmp_path, "first.txt")
        [request] = await receiver.wait_for(1)
        payload = request.json()
        assert payload["rule"] == "Army on the border"
        assert payload["article"]["title"] == TITLE
        assert payload["article"]["author"] == "Olena Marchenko"
        assert "army" in [term.lower() for term in payload["matched"]]
        assert request.headers["webhook-id"] == payload["id"]

        drop(tmp_path, "same-content-other-name.txt")
        await daemon.wait_log(lambda line: "already read" in line and "other-name" in line)
        await daemon.wait_log(lambda line: "delivered" in line)
        assert len(receiver.requests) == 1
    finally:
        code = await daemon.stop(signal.SIGTERM)
    assert code == 0, daemon.log()
    assert "stopped" in daemon.log()


async def test_alert_waits_for_a_receiver_that_is_down(tmp_path: Path, database_url: str) -> None:
    port = free_port()
    receiver = Receiver(port=port)
    daemon = await DaemonProcess(write_settings(tmp_path, database_url, receiver.url)).start()
    try:
        drop(tmp_path, "article.txt")
        await daemon.wait_log(lambda line: "delivery failed" in line)
        engine = create_engine(database_url)
        try:
            async with session_factory(engine)() as session:
                rows = (await session.execute(select(AlertRow))).scalars().all()
        finally:
            await engine.dispose()
        assert [(r.status, r.delivered_at) for r in rows] == [("pending", None)]
        assert rows[0].attempts >= 1 and "127.0.0.1" in (rows[0].last_error or "")

        await receiver.start()
        try:
            [request] = await receiver.wait_for(1)
            assert request.json()["article"]["title"] == TITLE
        finally:
            await receiver.stop()
    finally:
        code = await daemon.stop(signal.SIGTERM)
    assert code == 0, daemon.log()


async def test_default_settings_turn_a_dropped_article_into_an_alert_line(tmp_path: Path) -> None:
    """What `make run` does on a fresh machine: the shipped settings.toml, as it is."""
    shutil.copyfile(ROOT / "settings.toml", tmp_path / "settings.toml")
    inbox = tmp_path / "drops" / "inbox"
    inbox.mkdir(parents=True)
    daemon = await DaemonProcess(tmp_path / "settings.toml").start()
    try:
        partial = inbox / "article.txt.part"
        shutil.copyfile(ARTICLE, partial)
        partial.rename(inbox / "article.txt")
        await daemon.wait_log(lambda line: "delivered" in line and "alert-log" in line)
    finally:
        code = await daemon.stop(signal.SIGTERM)
    assert code == 0, daemon.log()
    [line] = (tmp_path / "data" / "alerts.jsonl").read_text(encoding="utf-8").splitlines()
    alert = json.loads(line)
    assert alert["rule"] == "Cross-border operations"
    assert alert["article"]["title"] == TITLE


async def test_a_copy_dropped_after_a_crash_joins_the_story_whose_bands_were_waiting(
    tmp_path: Path, receiver: Receiver
) -> None:
    """On SQLite a new article's similarity keys wait up to 15 s before they reach the
    lookup index; a daemon killed in between must still find the article after a restart,
    or a syndicated copy would start a second story and alert again."""
    database = f"sqlite+aiosqlite:///{tmp_path / 'newswatch.db'}"
    settings = write_settings(tmp_path, database, receiver.url)
    daemon = await DaemonProcess(settings).start()
    try:
        drop(tmp_path, "first.txt")
        await daemon.wait_log(lambda line: "ingested" in line and "first.txt" in line)
        await receiver.wait_for(1)
    finally:
        await daemon.stop(signal.SIGKILL)
    assert await counts(database) == (1, 0, 1), "the crash came before the bands were written"

    original = ARTICLE.read_text(encoding="utf-8").splitlines()
    copy = [line for line in original if not line.startswith("Volunteers")]
    copy[copy.index(TITLE)] = "Army digs a second trench line near Vovchansk"
    (tmp_path / "drops" / "copy.txt.part").write_text("\n".join(copy), encoding="utf-8")
    (tmp_path / "drops" / "copy.txt.part").rename(tmp_path / "drops" / "copy.txt")
    daemon = await DaemonProcess(settings).start()
    try:
        line = await daemon.wait_log(lambda line: "ingested" in line and "copy.txt" in line)
        assert "articles=1" in line and "alerts=0" in line, daemon.log()
    finally:
        code = await daemon.stop(signal.SIGTERM)
    assert code == 0, daemon.log()
    assert await counts(database) == (0, 2, 1), "stopping wrote what waited; one story"
    assert {request.headers["webhook-id"] for request in receiver.requests} == {
        receiver.requests[0].headers["webhook-id"]
    }


async def counts(database: str) -> tuple[int, int, int]:
    """Articles waiting for their bands, articles in the band index, stories."""
    engine = create_engine(database)
    try:
        async with session_factory(engine)() as session:
            waiting = await session.scalar(select(func.count()).select_from(PendingBands))
            banded = await session.scalar(select(func.count(distinct(StorySketchBand.article_id))))
            stories = await session.scalar(select(func.count()).select_from(Story))
    finally:
        await engine.dispose()
    return int(waiting or 0), int(banded or 0), int(stories or 0)
