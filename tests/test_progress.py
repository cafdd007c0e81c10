"""Progress of ``newswatch ingest DIR`` and ``feeds import``: plain lines in a pipe, a bar on
a terminal, always on stderr."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

from tests.support import ROOT, toml_str


def settings_file(tmp_path: Path) -> Path:
    settings = tmp_path / "settings.toml"
    database = f"sqlite+aiosqlite:///{tmp_path / 'nw.db'}"
    settings.write_text(
        f"""[daemon]
database = {toml_str(database)}

[[rules]]
name = "Ferries"
keywords = ["ferry"]
channels = ["desk"]

[channels.desk]
type = "file"
path = "alerts.jsonl"
""",
        encoding="utf-8",
    )
    return settings


def reports(folder: Path, count: int) -> Path:
    folder.mkdir()
    for n in range(count):
        (folder / f"report-{n:02d}.txt").write_text(
            f"Harbour note {n}\n\nThe harbour office posted note number {n} about berth "
            f"{n * 7} and the tide tables for week {n}.\n",
            encoding="utf-8",
        )
    return folder


def newswatch(*args: str) -> list[str]:
    return [sys.executable, "-m", "daemon", *args]


def test_ingest_prints_plain_progress_lines_on_stderr_when_not_on_a_terminal(
    tmp_path: Path,
) -> None:
    folder = reports(tmp_path / "batch", 12)
    done = subprocess.run(
        newswatch("--settings", str(settings_file(tmp_path)), "ingest", str(folder)),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("ingest: ")]
    assert lines[-1] == "ingest: 12/12 files"
    assert 2 <= len(lines) <= 12  # every tenth of the way at most, not one per file
    assert "ingest:" not in done.stdout and "12 files read" in done.stdout


def test_ingest_draws_a_bar_on_a_terminal(tmp_path: Path) -> None:
    folder = reports(tmp_path / "batch", 5)
    leader, follower = pty.openpty()
    try:
        proc = subprocess.Popen(
            newswatch("--settings", str(settings_file(tmp_path)), "ingest", str(folder)),
            stdout=subprocess.PIPE,
            stderr=follower,
            cwd=ROOT,
        )
        os.close(follower)
        seen = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the terminal closed with the process
                break
            if not chunk:
                break
            seen += chunk
        assert proc.wait(120) == 0
        assert proc.stdout is not None
        proc.stdout.close()
    finally:
        os.close(leader)
    text = seen.decode(errors="replace")
    assert "ingest: 100%|" in text and "5/5" in text
    assert "ingest: 5/5 files" not in text


def test_feeds_import_reports_progress(tmp_path: Path) -> None:
    settings = settings_file(tmp_path)
    opml = tmp_path / "list.opml"
    outlines = "".join(
        f'<outline type="rss" text="Desk {n}" xmlUrl="https://news{n}.example/feed"/>'
        for n in range(9)
    )
    outlines += '<outline type="rss" text="Odd" xmlUrl="ftp://files.example/feed"/>'
    opml.write_text(
        f'<?xml version="1.0"?><opml version="2.0"><body>{outlines}</body></opml>',
        encoding="utf-8",
    )
    done = subprocess.run(
        newswatch("--settings", str(settings), "feeds", "import", str(opml)),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert "import: 9/9 feeds" in done.stderr.splitlines()  # the ftp address is not a feed
    assert "9 feeds added" in done.stdout
    assert settings.read_text(encoding="utf-8").count("[[feeds]]") == 9
