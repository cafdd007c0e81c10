"""``newswatch channels test``, ``channels``, ``alerts`` and ``alerts retry`` as users run them."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from sqlalchemy import update

from storage.models import AlertRow
from tests.support import ROOT, toml_str
from tests.test_delivery_kit import Answer, MailServer, ScriptedReceiver, open_outbox


def write_settings(tmp_path: Path, hook_url: str, smtp_port: int = 1) -> Path:
    path = tmp_path / "settings.toml"
    database = f"sqlite+aiosqlite:///{tmp_path / 'newswatch.db'}"
    path.write_text(
        f"""
[daemon]
database = {toml_str(database)}

[channels.desk]
type = "webhook"
url = {toml_str(hook_url)}
format = "slack"

[channels.mail]
type = "email"
to = ["desk@newsroom.example.org"]
host = "127.0.0.1"
port = "${{TEST_SMTP_PORT}}"
security = "none"
digest = "daily@08:00"
timezone = "Europe/Kyiv"
""",
        encoding="utf-8",
    )
    return path


async def newswatch(settings: Path, *args: str, smtp_port: int = 1) -> tuple[int, str]:
    env = {"TEST_SMTP_PORT": str(smtp_port), "PATH": "/usr/bin:/bin"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "daemon", "--settings", str(settings), *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        cwd=str(ROOT), env=env,
    )  # fmt: skip
    out, _ = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode()


async def test_channel_test_shows_a_404_as_a_failure(tmp_path: Path) -> None:
    receiver = ScriptedReceiver([Answer(404, body="no such hook: /hook")])
    await receiver.start()
    try:
        settings = write_settings(tmp_path, receiver.url)
        code, out = await newswatch(settings, "channels", "test", "desk")
        assert (code, out.strip()) == (1, "desk: FAILED: HTTP 404: no such hook: /hook")
        code, out = await newswatch(settings, "channels", "test", "desk")
    finally:
        await receiver.stop()
    assert (code, out.strip()) == (0, "desk: delivered: HTTP 200: ok")
    body = receiver.requests[-1].json()
    assert body["text"] == "newswatch channel test: newswatch test alert"


async def test_channel_test_prints_the_smtp_reply(tmp_path: Path) -> None:
    with MailServer() as server:
        settings = write_settings(tmp_path, "http://127.0.0.1:9/")
        code, out = await newswatch(settings, "channels", "test", "mail", smtp_port=server.port)
        [message] = server.handler.messages
    assert (code, out.strip()) == (0, "mail: delivered: SMTP 250 2.0.0 queued as nw-test")
    assert message["Subject"] == "[newswatch] newswatch channel test: newswatch test alert"


async def test_unknown_channel_is_a_usage_error(tmp_path: Path) -> None:
    code, out = await newswatch(write_settings(tmp_path, "http://x/"), "channels", "test", "nope")
    assert code == 2 and "no channel 'nope' (configured: desk, mail)" in out


async def test_alerts_lists_and_retry_requeues(tmp_path: Path) -> None:
    settings = write_settings(tmp_path, "http://127.0.0.1:9/")
    url = f"sqlite+aiosqlite:///{tmp_path / 'newswatch.db'}"
    async for box in open_outbox(url):
        ids = await box.add(3, "desk")

        async with box.sessions.begin() as session:
            await session.execute(
                update(AlertRow)
                .where(AlertRow.id == ids[0])
                .values(status="dead", attempts=8, last_error="HTTP 500: broken")
            )
    code, out = await newswatch(settings, "alerts")
    assert code == 0
    assert out.splitlines()[0] == "alerts: pending 2 · delivered 0 · dead 1 (times in UTC)"
    dead_line = next(line for line in out.splitlines()[2:] if " dead " in line)
    assert dead_line.split()[:4] == [str(ids[0]), "dead", "8", "desk"]
    assert dead_line.endswith("HTTP 500: broken")

    code, out = await newswatch(settings, "alerts", "retry", "--dead")
    assert code == 0 and f"re-queued 1 alert: {ids[0]}" in out
    code, out = await newswatch(settings, "alerts", "--status", "dead")
    assert out.splitlines() == ["alerts: pending 3 · delivered 0 · dead 0 (times in UTC)"]
    code, out = await newswatch(settings, "alerts", "retry", "999")
    assert code == 1 and "no alert 999" in out

    code, out = await newswatch(settings, "channels")
    lines = out.splitlines()
    assert lines[0].split() == ["desk", "webhook", "format=slack", "3", "pending", "enabled"]
    assert lines[1].split()[:3] == ["mail", "email", "digest=daily@08:00"]
