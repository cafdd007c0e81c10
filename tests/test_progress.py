"""Progress of ``newswatch ingest DIR`` and ``feeds import``: plain lines in a pipe, a bar on
a terminal, always on stderr; with JSON logs, progress records instead of plain lines."""

from __future__ import annotations

import json
import os
import pty
import re
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
            f"{n * 7} and the ferry tables for week {n}.\n",
            encoding="utf-8",
        )
    return folder


def opml_file(tmp_path: Path, feeds: int) -> Path:
    opml = tmp_path / "list.opml"
    outlines = "".join(
        f'<outline type="rss" text="Desk {n}" xmlUrl="https://news{n}.example/feed"/>'
        for n in range(feeds)
    )
    outlines += '<outline type="rss" text="Odd" xmlUrl="ftp://files.example/feed"/>'
    opml.write_text(
        f'<?xml version="1.0"?><opml version="2.0"><body>{outlines}</body></opml>',
        encoding="utf-8",
    )
    return opml


def newswatch(*args: str) -> list[str]:
    return [sys.executable, "-m", "daemon", *args]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """stdout and stderr both pipes: not a terminal."""
    return subprocess.run(
        newswatch(*args), capture_output=True, text=True, timeout=120, cwd=ROOT, check=False
    )


def on_terminal(*args: str) -> tuple[int, str, str]:
    """The command with stderr on a pseudo-terminal: (exit code, what the terminal showed,
    stdout)."""
    leader, follower = pty.openpty()
    try:
        proc = subprocess.Popen(
            newswatch(*args), stdout=subprocess.PIPE, stderr=follower, cwd=ROOT, text=True
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
        assert proc.stdout is not None
        out = proc.stdout.read()
        proc.stdout.close()
        code = proc.wait(120)
    finally:
        os.close(leader)
    return code, seen.decode(errors="replace"), out


def test_ingest_prints_plain_progress_lines_on_stderr_when_not_on_a_terminal(
    tmp_path: Path,
) -> None:
    folder = reports(tmp_path / "batch", 12)
    done = run("--settings", str(settings_file(tmp_path)), "ingest", str(folder))
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("ingest: ")]
    assert lines[-1] == "ingest: 12/12 files"
    assert all(re.fullmatch(r"ingest: \d+/12 files", line) for line in lines)
    assert 2 <= len(lines) <= 12  # every tenth of the way at most, not one per file
    assert "ingest:" not in done.stdout and "12 files read" in done.stdout
    assert "\r" not in done.stderr and "%|" not in done.stderr  # no bar in a pipe


def test_an_empty_folder_still_ends_on_a_progress_line(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    done = run("--settings", str(settings_file(tmp_path)), "ingest", str(tmp_path / "empty"))
    assert done.returncode == 0, done.stderr
    assert "ingest: 0/0 files" in done.stderr.splitlines()
    assert "0 files read" in done.stdout


def test_with_json_logs_progress_is_logged_as_records(tmp_path: Path) -> None:
    folder = reports(tmp_path / "batch", 4)
    (folder / "unreadable.bin").write_bytes(b"\x00\x01")
    settings = str(settings_file(tmp_path))
    done = run("--settings", settings, "ingest", str(folder), "--log-format", "json")
    assert done.returncode == 1, done.stderr  # one file could not be read
    entries = [json.loads(line) for line in done.stderr.splitlines()]  # JSON only
    steps = [e for e in entries if e["message"].startswith("progress ")]
    assert steps[-1]["message"] == "progress task=ingest done=5 total=5 unit=files"
    assert (steps[-1]["task"], steps[-1]["done"], steps[-1]["total"]) == ("ingest", 5, 5)
    unreadable = [e for e in entries if e["level"] == "ERROR"]
    assert len(unreadable) == 1 and unreadable[0]["path"].endswith("unreadable.bin")
    assert "4 files read" in done.stdout and "1 unreadable" in done.stdout


def test_ingest_draws_a_bar_on_a_terminal_with_the_log_lines_above_it(tmp_path: Path) -> None:
    folder = reports(tmp_path / "batch", 5)
    code, shown, out = on_terminal(
        "--settings", str(settings_file(tmp_path)), "ingest", str(folder)
    )
    assert code == 0, shown
    assert "ingest: 100%|" in shown and "5/5" in shown
    assert "ingest: 5/5 files" not in shown
    assert "5 files read" in out and "%|" not in out
    pieces = re.split(r"[\r\n]+", shown)
    assert any(" INFO newswatch.drops ingested " in piece for piece in pieces)
    for piece in pieces:  # a log line written mid-bar would share its line with the bar
        assert not ("%|" in piece and " INFO " in piece), piece


def test_feeds_import_reports_progress(tmp_path: Path) -> None:
    settings = settings_file(tmp_path)
    done = run("--settings", str(settings), "feeds", "import", str(opml_file(tmp_path, 9)))
    assert done.returncode == 0, done.stderr
    assert "import: 9/9 feeds" in done.stderr.splitlines()  # the ftp address is not a feed
    assert "9 feeds added" in done.stdout and "import:" not in done.stdout
    assert settings.read_text(encoding="utf-8").count("[[feeds]]") == 9


def test_feeds_import_draws_a_bar_on_a_terminal(tmp_path: Path) -> None:
    settings = settings_file(tmp_path)
    opml = opml_file(tmp_path, 6)
    code, shown, out = on_terminal("--settings", str(settings), "feeds", "import", str(opml))
    assert code == 0, shown
    assert "import: 100%|" in shown and "6/6" in shown
    assert "import: 6/6 feeds" not in shown
    assert "6 feeds added" in out
