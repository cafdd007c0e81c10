"""Settings a person got wrong: each mistake is refused with a message that names the file,
the table and key (and so the rule), and the line, and nothing half-applies.

People edit settings.toml by hand, often on a running daemon. A message that only says
"invalid" sends them hunting; one that says ``delivery.retyr_schedule: unknown key; did you
mean 'retry_schedule'? (line 14)`` is fixed in a second. So every message here is asserted
whole. A refused file must also stop ``check`` and ``run`` with exit code 2, and leave a
running daemon on the settings it had.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from alerts.regions import Gazetteer
from daemon.errors import SettingsError
from daemon.rulecheck import build_matcher
from daemon.settings import Settings, load_settings
from storage.types import Article
from tests.support import ROOT, DaemonProcess, Receiver
from tests.test_reload import CITIES, drop, settings_text

BASE = """[[rules]]
name = "Army"
keywords = ["army"]
channels = ["desk"]

[channels.desk]
type = "file"
path = "alerts.jsonl"
"""


def write(folder: Path, text: str) -> Path:
    path = folder / "settings.toml"
    path.write_text(text, encoding="utf-8")
    return path


def problems(folder: Path, text: str) -> list[str]:
    """What load_settings refuses ``text`` with; the error names the file it read."""
    path = write(folder, text)
    with pytest.raises(SettingsError) as caught:
        load_settings(path, env={})
    assert caught.value.path == str(path)
    assert str(caught.value).startswith(f"{path}: ")
    return caught.value.problems


def line_of(text: str, fragment: str, nth: int = 0) -> int:
    """The 1-based line of the ``nth`` line holding ``fragment``."""
    found = [n for n, line in enumerate(text.splitlines(), 1) if fragment in line]
    return found[nth]


DURATION = "expected a duration like '30s', '10m', '2h' or '1d'"
WRONG_TYPES = [
    (
        '[[feeds]]\nurl = "https://example.org/feed"\ninterval = "soon"\n',
        [f"feeds[0].interval: {DURATION}, got 'soon' (line 12)"],
    ),
    (
        '[channels.mail]\ntype = "email"\nto = ["a@example.org"]\nhost = "localhost"\nport = "x"\n',
        [
            "channels.mail.port: Input should be a valid integer, unable to parse string as an "
            "integer, got 'x' (line 14)"
        ],
    ),
    (
        '[delivery]\nbatch_size = "many"\n',
        [
            "delivery.batch_size: Input should be a valid integer, unable to parse string as an "
            "integer, got 'many' (line 11)"
        ],
    ),
    (
        "[daemon]\nscan_interval = 2025-01-01\n",
        [f"daemon.scan_interval: {DURATION}, got the date 2025-01-01 (line 11)"],
    ),
    (
        '[delivery]\nretry_schedule = ["5s", 07:30:00]\n',
        [f"delivery.retry_schedule[1]: {DURATION}, got the time 07:30:00 (line 11)"],
    ),
    (
        '[[drops]]\nname = "inbox"\npath = "drops"\nmax_file_size = [5]\nsettle = "soon"\n',
        [
            "drops[0].max_file_size: expected a size like '512KB' or '5MB', got an array (line 13)",
            f"drops[0].settle: {DURATION}, got 'soon' (line 14)",
        ],
    ),
    (
        '[[drops]]\nname = "inbox"\npath = "drops"\nmax_file_size = 1.5\nsettle = inf\n',
        [
            "drops[0].max_file_size: expected a size like '512KB' or '5MB', got 1.5 (line 13)",
            f"drops[0].settle: {DURATION} of at most 365000d, got inf (line 14)",
        ],
    ),
    (
        f'[polling]\ntick = nan\nmax_response_size = "{"9" * 400}"\nlease = "365001d"\n',
        [
            f"polling.tick: {DURATION} of at most 365000d, got nan (line 11)",
            "polling.max_response_size: expected a size like '512KB' or '5MB', "
            f"got '{'9' * 400}' (line 12)",
            f"polling.lease: {DURATION} of at most 365000d, got '365001d' (line 13)",
        ],
    ),
    (
        '[channels.hook]\ntype = "webhook"\nurl = "https://x.org"\ntimeout = {seconds = 5}\n',
        [f"channels.hook.timeout: {DURATION}, got a table (line 13)"],
    ),
    (
        "[polling]\ntick = 1979-05-27T07:32:00Z\n",
        [f"polling.tick: {DURATION}, got the date-time 1979-05-27T07:32:00+00:00 (line 11)"],
    ),
    (
        "[channels]\nmail = 5\n",
        ["channels.mail: expected a table [channels.mail], got 5 (line 11)"],
    ),
    (
        '[daemon]\nops_channels = [["desk"]]\n',
        ["daemon.ops_channels[0]: Input should be a valid string (line 11)"],
    ),
]


@pytest.mark.parametrize(("extra", "expected"), WRONG_TYPES)
def test_a_value_of_the_wrong_type_is_named_with_its_key_and_line(
    tmp_path: Path, extra: str, expected: list[str]
) -> None:
    assert problems(tmp_path, BASE + "\n" + extra) == expected


TYPOS = [
    (
        '[daemon]\ndatabse = "sqlite+aiosqlite:///x.db"\n',
        ["daemon.databse: unknown key; did you mean 'database'? (line 11)"],
    ),
    (
        '[delivery]\nretyr_schedule = ["5s", "1m"]\n',
        ["delivery.retyr_schedule: unknown key; did you mean 'retry_schedule'? (line 11)"],
    ),
    (
        '[[feeds]]\nurl = "https://example.org/feed"\nintervall = "5m"\n',
        ["feeds[0].intervall: unknown key; did you mean 'interval'? (line 12)"],
    ),
    (
        '[channels.hook]\ntype = "webhook"\nurl = "https://x.org"\nscret = "whsec_c2VjcmV0"\n',
        ["channels.hook.scret: unknown key; did you mean 'secret'? (line 13)"],
    ),
    (
        '[channels.mail]\ntype = "email"\nto = ["a@b.org"]\nform = "newswatch@b.org"\n',
        ["channels.mail.form: unknown key; did you mean 'from'? (line 13)"],
    ),
    ('[deamon]\nlog_level = "INFO"\n', ["deamon: unknown table; did you mean 'daemon'? (line 10)"]),
    (
        '[[rule]]\nname = "Navy"\n',
        ["rule: unknown table; did you mean 'rules'? (line 10)"],
    ),
    ('[daemon]\ncolour = "red"\n', ["daemon.colour: unknown key (line 11)"]),
]


@pytest.mark.parametrize(("extra", "expected"), TYPOS)
def test_a_misspelt_key_or_table_is_refused_with_the_key_it_was_meant_to_be(
    tmp_path: Path, extra: str, expected: list[str]
) -> None:
    assert problems(tmp_path, BASE + "\n" + extra) == expected


def test_a_misspelt_key_in_a_rule_names_the_rule_and_the_key(tmp_path: Path) -> None:
    text = BASE.replace('channels = ["desk"]', 'chanels = ["desk"]')
    assert problems(tmp_path, text) == [
        "rules[0].channels: required key is missing (line 1)",
        "rules[0].chanels: unknown key; did you mean 'channels'? (line 4)",
    ]


def test_duplicate_rule_names_and_unknown_channels_name_the_rule(tmp_path: Path) -> None:
    text = BASE + '\n[[rules]]\nname = "Army"\nkeywords = ["navy"]\nchannels = ["desk", "deks"]\n'
    assert problems(tmp_path, text) == [
        "rules[1].channels: unknown channel 'deks' (configured: desk) (line 13)",
        "rules[1].name: duplicate name 'Army' (line 11)",
    ]


def test_a_rule_channel_of_the_wrong_type_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    text = BASE.replace('channels = ["desk"]', "channels = [[1], {a = 1}]")
    assert problems(tmp_path, text) == [
        "rules[0].channels[0]: Input should be a valid string (line 4)",
        "rules[0].channels[1]: Input should be a valid string (line 4)",
        "rules[0].channels: Tuple should have at least 1 item after validation, not 0 (line 4)",
    ]


def compiled(folder: Path, text: str) -> Settings:
    """Settings that load, for the rule checks that only compiling the rules makes."""
    return load_settings(write(folder, text), env={})


def rule_problems(folder: Path, text: str, gazetteer: Gazetteer | None = None) -> list[str]:
    settings = compiled(folder, text)
    with pytest.raises(SettingsError) as caught:
        build_matcher(settings, gazetteer)
    assert caught.value.path == str(settings.path)
    return caught.value.problems


REGIONS = (
    BASE
    + """
[[rules]]
name = "Border"
regions = ["Ukraine", "Westeros"]
exclude_regions = ["Crimeaa"]
channels = ["desk"]
"""
)


@pytest.mark.slow
def test_an_unknown_region_names_the_rule_the_region_and_close_names(
    tmp_path: Path, gazetteer: Gazetteer
) -> None:
    assert rule_problems(tmp_path, REGIONS, gazetteer) == [
        "rules[1].regions: unknown region 'Westeros': not an ISO 3166 code nor a known place "
        "name; did you mean 'Westerlo', 'Western', 'Webster', 'Esteros', 'Westerhorn'? (line 12)",
        "rules[1].exclude_regions: unknown region 'Crimeaa': not an ISO 3166 code nor a known "
        "place name; did you mean 'Crimea', 'Creaca', 'Primera', 'Curimeo', 'Crimora'? (line 13)",
    ]


@pytest.mark.slow
def test_check_refuses_an_unknown_region_with_exit_code_2(
    tmp_path: Path, gazetteer: Gazetteer, cache_dir: Path
) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "cache").symlink_to(cache_dir, target_is_directory=True)
    path = write(tmp_path, REGIONS)
    done = newswatch("--settings", str(path), "check")
    assert done.returncode == 2, done.stderr
    lines = done.stderr.splitlines()
    assert [line.split(": unknown region ")[0] for line in lines] == [
        f"{path}: rules[1].regions",
        f"{path}: rules[1].exclude_regions",
    ]
    assert lines[0].endswith(
        "'Westeros': not an ISO 3166 code nor a known place name; did you "
        "mean 'Westerlo', 'Western', 'Webster', 'Esteros', 'Westerhorn'? (line 12)"
    )


def test_ten_thousand_nested_parentheses_are_a_rule_error_not_a_crash(tmp_path: Path) -> None:
    query = "(" * 10_000 + "army" + ")" * 10_000
    text = BASE.replace('keywords = ["army"]', f'query = "{query}"')
    [problem] = rule_problems(tmp_path, text)
    first, shown, caret = problem.split("\n")
    assert first == "rules[0].query: query nested more than 40 levels deep (column 1) (line 3)"
    assert shown == f"    query: {query}"
    assert caret == "           ^ query nested more than 40 levels deep"


def test_ten_thousand_nots_are_a_rule_error_not_a_crash(tmp_path: Path) -> None:
    text = BASE.replace('keywords = ["army"]', 'query = "' + "NOT " * 10_000 + 'army"')
    [problem] = rule_problems(tmp_path, text)
    assert problem.startswith(
        "rules[0].query: query nested more than 40 levels deep (column 1) (line 3)\n"
    )


@pytest.mark.slow
def test_a_query_of_a_hundred_thousand_terms_is_compiled_and_matches(tmp_path: Path) -> None:
    query = " OR ".join(f"w{n}" for n in range(100_000))
    text = BASE.replace('keywords = ["army"]', f'query = "{query}"')
    started = time.perf_counter()
    matcher = build_matcher(compiled(tmp_path, text))
    assert time.perf_counter() - started < 60.0
    [hit] = matcher.match(Article(title="Report", body=["Only w99999 is here."]))
    assert hit.rule.name == "Army"
    assert matcher.match(Article(title="Report", body=["Nothing to see."])) == []


def newswatch(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "daemon", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


BROKEN = (
    BASE.replace('keywords = ["army"]', 'keyword = ["army"]')
    + '\n[daemon]\ndatabse = "sqlite+aiosqlite:///x.db"\nscan_interval = 2025-01-01\n'
    + '\n[delivery]\nretyr_schedule = ["5s"]\n'
)
BROKEN_PROBLEMS = [
    f"daemon.scan_interval: {DURATION}, got the date 2025-01-01 (line 12)",
    "daemon.databse: unknown key; did you mean 'database'? (line 11)",
    "delivery.retyr_schedule: unknown key; did you mean 'retry_schedule'? (line 15)",
    "rules[0].keyword: unknown key; did you mean 'keywords'? (line 3)",
]


def test_load_settings_reports_every_mistake_of_a_file(tmp_path: Path) -> None:
    assert problems(tmp_path, BROKEN) == BROKEN_PROBLEMS


@pytest.mark.parametrize("command", [["check"], ["run"]])
def test_check_and_run_refuse_bad_settings_with_exit_code_2(
    tmp_path: Path, command: list[str]
) -> None:
    path = write(tmp_path, BROKEN)
    done = newswatch("--settings", str(path), *command)
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [f"{path}: {problem}" for problem in BROKEN_PROBLEMS]
    assert done.stdout == ""
    assert not (tmp_path / "data").exists()


async def test_a_rejected_edit_leaves_the_running_daemon_on_its_settings(
    tmp_path: Path, database_url: str, receiver: Receiver
) -> None:
    (tmp_path / "drops").mkdir()
    path = tmp_path / "settings.toml"
    path.write_text(settings_text(database_url, receiver.url, CITIES), encoding="utf-8")
    daemon = await DaemonProcess(path).start()
    try:
        broken = settings_text(database_url, receiver.url, CITIES, 'chanels = ["desk"]\n')
        broken += "\n[polling]\ntick = 2025-01-01\n"
        path.write_text(broken, encoding="utf-8")
        rejected = await daemon.wait_log(lambda line: "settings rejected" in line)
        assert rejected.endswith(
            "settings rejected, the previous settings stay in force: "
            f"polling.tick: {DURATION}, got the date 2025-01-01 "
            f"(line {line_of(broken, 'tick = ')}) | "
            "rules[0].chanels: unknown key; did you mean 'channels'? "
            f"(line {line_of(broken, 'chanels = ')})"
        ), rejected
        title = drop(tmp_path / "drops", "one.json", "odesa")
        [request] = await receiver.wait_for(1)
        assert request.json()["article"]["title"] == title
        assert request.json()["rule"] == "Watch"
        assert not any("settings reloaded" in line for line in daemon.lines)
    finally:
        code = await daemon.stop()
    assert code == 0, daemon.log()
