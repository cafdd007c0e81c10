"""Drop folders watched through filesystem notifications: a file is read when it lands,
not at the next scan, and its alert is sent at once, not at the next delivery interval."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from tests.support import DATA, DaemonProcess, Receiver, toml_str

ARTICLE = DATA / "articles" / "army_vovchansk.txt"


def settings(tmp_path: Path, hook_url: str, *, watch: bool = True) -> Path:
    """Scans, settling and delivery rounds an hour apart: only a notification and the kick
    it gives delivery can bring an alert within the test's wait."""
    path = tmp_path / "settings.toml"
    path.write_text(
        f"""
[daemon]
database = {toml_str(f"sqlite+aiosqlite:///{tmp_path / 'newswatch.db'}")}
scan_interval = "1h"
delivery_interval = "1h"

[[drops]]
name = "inbox"
path = "drops"
settle = "1h"
watch = {str(watch).lower()}
watch_settle = "0.3s"

[[rules]]
name = "Army"
keywords = ["army"]
channels = ["desk"]

[channels.desk]
type = "webhook"
url = {toml_str(hook_url)}
""",
        encoding="utf-8",
    )
    (tmp_path / "drops").mkdir()
    return path


async def test_a_landed_file_is_read_and_alerted_without_waiting_for_a_scan(
    tmp_path: Path, receiver: Receiver
) -> None:
    daemon = await DaemonProcess(settings(tmp_path, receiver.url)).start()
    try:
        await daemon.wait_log(lambda line: "started" in line)
        text = ARTICLE.read_bytes()
        target = tmp_path / "drops" / "sub" / "report.txt"
        target.parent.mkdir()
        with target.open("wb") as handle:  # written in pieces, as a slow writer does
            for start in range(0, len(text), 400):
                handle.write(text[start : start + 400])
                handle.flush()
                await asyncio.sleep(0.05)
        [request] = await receiver.wait_for(1, within=20)
        payload = request.json()
        assert payload["rule"] == "Army"
        assert payload["article"]["author"] == "Olena Marchenko"  # the file's last line
        await daemon.wait_log(lambda line: "ingested" in line and "report.txt" in line)
        assert daemon.log().count("ingested source=inbox") == 1
    finally:
        code = await daemon.stop(signal.SIGTERM)
    assert code == 0, daemon.log()


async def test_without_watching_a_file_waits_for_the_scan(
    tmp_path: Path, receiver: Receiver
) -> None:
    daemon = await DaemonProcess(settings(tmp_path, receiver.url, watch=False)).start()
    try:
        await daemon.wait_log(lambda line: "started" in line)
        (tmp_path / "drops" / "report.txt").write_bytes(ARTICLE.read_bytes())
        await asyncio.sleep(3)
        assert receiver.requests == []
        assert "ingested" not in daemon.log()
    finally:
        code = await daemon.stop(signal.SIGTERM)
    assert code == 0, daemon.log()
