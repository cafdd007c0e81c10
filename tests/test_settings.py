from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from daemon.errors import SettingsError
from daemon.settings import load_settings
from tests.support import ROOT

GOOD = """
[daemon]
poll_interval = "15m"

[[drops]]
name = "inbox"
path = "drops/inbox"
timezone = "Europe/Kyiv"

[[rules]]
name = "Army"
keywords = ["army"]
channels = ["desk"]

[channels.desk]
type = "webhook"
url = "http://127.0.0.1:9/hook"
secret = "${DESK_SECRET}"
"""

THREE_MISTAKES = """
[[drops]]
name = "inbox"
path = "drops"
timezone = "Europe/Atlantis"

[[rules]]
name = "Army"
keywords = ["army"]
channels = ["desk"]

[[rules]]
name = "Drones"
keywords = ["drone"]
channels = ["deks"]

[channels.desk]
type = "webhook"
url = "http://127.0.0.1:9/hook"
retries = 3
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "settings.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_good_settings_become_typed_values(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, GOOD), env={"DESK_SECRET": "whsec_c2VjcmV0"})
    assert settings.daemon.poll_interval == 900.0
    assert settings.drops[0].timezone == "Europe/Kyiv"
    assert settings.resolve(settings.drops[0].path) == tmp_path / "drops" / "inbox"
    assert settings.channels["desk"].secret == "whsec_c2VjcmV0"  # type: ignore[union-attr]
    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path / 'data' / 'newswatch.db'}"


def test_missing_environment_variable_is_named(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(write(tmp_path, GOOD), env={})
    assert caught.value.problems == [
        "channels.desk.secret: environment variable DESK_SECRET is not set (line 18)"
    ]


def test_every_mistake_is_reported_with_its_location(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(write(tmp_path, THREE_MISTAKES), env={})
    problems = caught.value.problems
    assert len(problems) == 3, problems
    assert any(
        p.startswith("drops[0].timezone: unknown time zone 'Europe/Atlantis'")
        and p.endswith("(line 5)")
        for p in problems
    ), problems
    assert "rules[1].channels: unknown channel 'deks' (configured: desk) (line 15)" in problems
    assert "channels.desk.retries: unknown key (line 20)" in problems


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[daemon\n", "not valid TOML"),
        ("[daemon]\npoll_interval = 'soon'\n", "daemon.poll_interval: expected a duration"),
        (
            "[[rules]]\nname = 'x'\nchannels = ['a']\n[channels.a]\ntype = 'file'\npath = 'a'\n",
            "rules[0]: a rule needs at least one of",
        ),
        ("[channels.a]\ntype = 'pigeon'\n", "channels.a.type: unknown channel type 'pigeon'"),
        ("[channels.a]\ntype = 'webhook'\nurl = 'ftp://x'\n", "channels.a.url: String should"),
        (
            "[channels.a]\ntype = 'webhook'\nurl = 'http://x'\nsecret = 'whsec_!!'\n",
            "secret must be 'whsec_' followed by base64",
        ),
        (
            "[[drops]]\nname = 'a'\npath = 'x'\n[[drops]]\nname = 'a'\npath = 'y'\n",
            "drops[1].name: duplicate name 'a' (line 5)",
        ),
    ],
)
def test_bad_values_get_clear_errors(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(write(tmp_path, text), env={})
    assert any(expected in p for p in caught.value.problems), caught.value.problems


def test_check_command_prints_all_problems_and_exits_2(tmp_path: Path) -> None:
    path = write(tmp_path, THREE_MISTAKES)
    done = subprocess.run(
        [sys.executable, "-m", "daemon", "check", str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 3, done.stderr
    assert all(line.startswith(f"{path}: ") and "(line " in line for line in lines)


def test_check_command_accepts_the_default_settings() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "daemon", "check", "settings.toml"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "OK" in done.stdout


def test_version_flag() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "daemon", "--version"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert done.returncode == 0 and done.stdout.startswith("newswatch ")
