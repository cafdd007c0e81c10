"""``--log-format json``: one object per line with the line's identifiers as fields; and no
secret in any log line, in either format."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from daemon.cli import build_parser
from daemon.logs import (
    JsonFormatter,
    Redactor,
    TextFormatter,
    configure,
    fields_of,
    secrets_of,
)
from daemon.settings import load_settings
from tests.support import DaemonProcess, Receiver, free_port, toml_str
from tests.test_delivery_kit import SECRET

TOKEN = "admin-token-7c0ffee-1234"
PASSWORD = "hunter2secret"
SMTP_PASSWORD = 'smtp-"pass\\word-42'  # a quote and a backslash: escaped by %r and JSON
HOOK_PATH = "/services/T0000/B0000/XXXXXXXXXXXXXXXX"
FERRY = "Ferry sails again\n\nThe ferry sailed again on Monday after repairs.\n"
ALL_SECRETS = (SECRET, SECRET.removeprefix("whsec_"), TOKEN, PASSWORD, SMTP_PASSWORD, HOOK_PATH)


def leaky_settings(tmp_path: Path, hook: str) -> Path:
    (tmp_path / "inbox").mkdir(exist_ok=True)
    feed = f"http://user:{PASSWORD}@127.0.0.1:{free_port()}/feed.xml"  # nobody listens
    settings = tmp_path / "settings.toml"
    settings.write_text(
        f"""
[daemon]
database = {toml_str(f"sqlite+aiosqlite:///{tmp_path / 'nw.db'}")}
http = "127.0.0.1:{free_port()}"
http_token = {toml_str(TOKEN)}
delivery_interval = "0.3s"
scan_interval = "0.3s"

[polling]
tick = "0.3s"
parse_processes = 0

[[drops]]
name = "inbox"
path = "inbox"
settle = "0.1s"

[[feeds]]
name = "Locked Gazette"
url = {toml_str(feed)}

[[rules]]
name = "Ferries"
keywords = ["ferry"]
channels = ["desk"]

[channels.desk]
type = "webhook"
url = {toml_str(hook + HOOK_PATH)}
secret = {toml_str(SECRET)}
headers = {{ Authorization = "Bearer {TOKEN}-hook" }}

[channels.mail]
type = "email"
to = ["desk@example.org"]
host = "127.0.0.1"
port = {free_port()}
username = "desk"
password = {toml_str(SMTP_PASSWORD)}
""",
        encoding="utf-8",
    )
    return settings


def json_started(line: str) -> bool:
    return bool(json.loads(line)["message"].startswith("started "))


async def test_a_daemon_run_with_json_logs_writes_only_json_and_no_secret(tmp_path: Path) -> None:
    receiver = await Receiver(statuses=[500]).start()
    settings = leaky_settings(tmp_path, f"http://127.0.0.1:{receiver.port}")
    # The flag after the command, where people type it.
    options = ("--log-format", "json")
    daemon = await DaemonProcess(settings, ready=json_started, options=options).start()
    try:
        await daemon.wait_log(lambda line: "poll failed" in line)
        (tmp_path / "inbox" / "ferry.txt").write_text(FERRY, "utf-8")
        await daemon.wait_log(lambda line: "delivery failed" in line)
        await daemon.wait_log(lambda line: "delivered alert_id" in line)
    finally:
        assert await daemon.stop() == 0
        await receiver.stop()
    output = daemon.log()
    for secret in ALL_SECRETS:
        assert secret not in output
    entries = [json.loads(line) for line in daemon.lines]  # every line is one object
    failed = next(e for e in entries if e["message"].startswith("poll failed"))
    assert failed["level"] == "WARNING" and failed["logger"] == "newswatch.feeds"
    assert failed["source"] == "Locked Gazette"
    assert failed["url"].startswith("http://user:***@127.0.0.1:")
    assert failed["errors"] == 1 and isinstance(failed["errors"], int)
    delivered = next(e for e in entries if e["message"].startswith("delivered alert_id"))
    assert delivered["alert_id"] == 1 and delivered["rule"] == "Ferries"
    assert delivered["channel"] == "desk" and delivered["uid"].startswith("msg_")
    for entry in entries:
        assert {"time", "level", "logger", "message"} <= entry.keys()
        assert datetime.fromisoformat(entry["time"]).utcoffset() == timedelta(0)


async def test_text_logs_of_a_daemon_run_hold_no_secret_either(tmp_path: Path) -> None:
    receiver = await Receiver(statuses=[500]).start()
    settings = leaky_settings(tmp_path, f"http://127.0.0.1:{receiver.port}")
    daemon = await DaemonProcess(settings, env={"NEWSWATCH_LOG_FORMAT": "text"}).start()
    try:
        await daemon.wait_log(lambda line: "poll failed" in line)
        (tmp_path / "inbox" / "ferry.txt").write_text(FERRY, "utf-8")
        await daemon.wait_log(lambda line: "delivery failed" in line)
    finally:
        assert await daemon.stop() == 0
        await receiver.stop()
    output = daemon.log()
    for secret in ALL_SECRETS:
        assert secret not in output
    assert "user:***@127.0.0.1" in output
    assert not output.lstrip().startswith("{")


def record(msg: str, *args: object, exc: bool = False, **extra: Any) -> logging.LogRecord:
    info = None
    if exc:
        try:
            raise ValueError(f"boom with Bearer {TOKEN} at https://u:{PASSWORD}@h/x")
        except ValueError:
            info = sys.exc_info()
    line = logging.LogRecord("newswatch.test", logging.ERROR, __file__, 1, msg, args, info)
    line.__dict__.update(extra)
    return line


@pytest.mark.parametrize(
    ("msg", "args", "fields"),
    [
        (
            "match rule=%r article_id=%s score=%.2f n=%d of %s",
            ("Ferries", 7, 0.5, 3, "x"),
            {"rule": "Ferries", "article_id": 7, "score": 0.5, "n": 3},
        ),
        (
            "poll round seconds=%.1f parsers_full=%.0f%% failed=%d",
            (1.25, 50.0, 2),
            {"seconds": 1.25, "parsers_full": 50.0, "failed": 2},
        ),
        ("n=%5d name=%-8s pad=%*d", (4, "ab", 3, 9), {"n": 4, "name": "ab", "pad": 9}),
        ("quoted title='%s' rule=\"%s\"", ("T", "R"), {"title": "T", "rule": "R"}),
        (
            "mapped source=%(src)s %(kind)s",
            ({"src": "inbox", "kind": "new"},),
            {"source": "inbox", "kind": "new"},
        ),
        ("no fields %s %d", ("a", 1), {}),
    ],
)
def test_each_key_of_the_format_string_gets_its_own_argument(
    msg: str, args: tuple[object, ...], fields: dict[str, object]
) -> None:
    assert fields_of(record(msg, *args)) == fields


def test_a_json_line_has_the_core_fields_the_arguments_and_the_extras() -> None:
    formatter = JsonFormatter(Redactor([TOKEN]))
    line = record(
        "notify failed socket=%s message=%s rule=%r n=%d",
        "/run/notify",
        "READY=1",
        "Ferries",
        3,
        extra_field="kept",
        level="from extra",
    )
    entry = json.loads(formatter.format(line))
    assert entry["message"] == "notify failed socket=/run/notify message=READY=1 rule='Ferries' n=3"
    assert entry["message_"] == "READY=1" and entry["level"] == "ERROR"
    assert entry["level_"] == "from extra" and entry["extra_field"] == "kept"
    assert entry["rule"] == "Ferries" and entry["n"] == 3 and entry["socket"] == "/run/notify"
    assert entry["logger"] == "newswatch.test" and entry["time"].endswith("+00:00")


def test_exceptions_go_in_their_own_field_redacted() -> None:
    formatter = JsonFormatter(Redactor([TOKEN]))
    entry = json.loads(formatter.format(record("failed url=%s", "https://u:pw@h/x", exc=True)))
    assert entry["url"] == "https://u:***@h/x"
    assert "ValueError" in entry["exception"] and "Traceback" in entry["exception"]
    assert TOKEN not in entry["exception"] and PASSWORD not in entry["exception"]
    assert "Bearer ***" in entry["exception"] and "u:***@h" in entry["exception"]
    text = TextFormatter(Redactor([TOKEN])).format(record("failed", exc=True))
    assert "ValueError" in text and TOKEN not in text and PASSWORD not in text


def test_values_json_cannot_hold_are_written_as_text() -> None:
    line = record(
        "odd ratio=%s when=%s path=%s keys=%s",
        float("nan"),
        datetime(2026, 1, 2, 3, 4),
        Path("/tmp/x"),
        {(1, 2): {3}},
    )
    entry = json.loads(JsonFormatter(Redactor()).format(line), parse_constant=reject)
    assert entry["ratio"] == "nan" and entry["when"] == "2026-01-02T03:04:00"
    assert entry["path"] == "/tmp/x" and entry["keys"] == {"(1, 2)": [3]}


def reject(constant: str) -> None:
    raise AssertionError(f"{constant} is not JSON")


@pytest.mark.parametrize("fmt", ["text", "json"])
@pytest.mark.parametrize(
    ("msg", "args", "shown", "hidden"),
    [
        ("login with %r", (SMTP_PASSWORD,), "login with", SMTP_PASSWORD),
        ("headers=%r", ({"Authorization": f"Bearer {TOKEN}"},), "Bearer ***", TOKEN),
        ("headers=%r", ({"Authorization": "token ghp_abcdefgh1234"},), "token ***", "ghp_"),
        ("redis at %s", ("redis://:hunter2secret@h:6379/0",), "redis://:***@h", "hunter2"),
        ("got Basic %s", ("dXNlcjpwYXNz",), "Basic ***", "dXNlcjpwYXNz"),
        ("login password=%s ok", ("sesame-open",), "password=***", "sesame-open"),
        ("bad args n=%d", (TOKEN,), "arguments do not fit", TOKEN),
    ],
)
def test_secrets_are_masked_however_they_are_spelled(
    fmt: str, msg: str, args: tuple[object, ...], shown: str, hidden: str
) -> None:
    redactor = Redactor([TOKEN, SMTP_PASSWORD])
    formatter = JsonFormatter(redactor) if fmt == "json" else TextFormatter(redactor)
    line = formatter.format(record(msg, *args))
    assert hidden not in line
    assert shown in (json.loads(line)["message"] if fmt == "json" else line)


@pytest.mark.parametrize(
    "prose",
    [
        "Basic settings loaded",
        "token expired for channel=desk",
        "feed at https://example.org:8443/feed.xml answered 304",
    ],
)
def test_ordinary_words_are_not_masked(prose: str) -> None:
    assert TextFormatter(Redactor(["abc", ""])).format(record(prose)).endswith(prose)


@pytest.fixture
def root_logger() -> Iterator[logging.Logger]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        yield root
    finally:
        root.handlers[:], root.level = handlers, level


def test_a_message_whose_arguments_do_not_fit_is_logged_without_them(
    root_logger: logging.Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    configure("INFO", "json", [])
    logging.getLogger("newswatch.test").warning("rule=%s count=%d", "Ferries", TOKEN)
    err = capsys.readouterr().err
    assert TOKEN not in err and "Logging error" not in err
    assert "arguments do not fit" in json.loads(err)["message"]


def test_secrets_are_found_in_the_settings(tmp_path: Path) -> None:
    settings = load_settings(leaky_settings(tmp_path, "http://127.0.0.1:9"))
    found = secrets_of(settings)
    for secret in (TOKEN, SECRET, SECRET.removeprefix("whsec_"), HOOK_PATH, SMTP_PASSWORD):
        assert secret in found
    assert f"Bearer {TOKEN}-hook" in found and f"{TOKEN}-hook" in found
    assert PASSWORD in found  # the feed address's own password
    assert "desk" not in found and all(len(s) >= 4 for s in found)


@pytest.mark.parametrize(
    ("argv", "env", "expected"),
    [
        (["run"], None, "text"),
        (["run"], "json", "json"),
        (["--log-format", "json", "run"], None, "json"),
        (["run", "--log-format", "json"], None, "json"),
        (["ingest", "DIR", "--log-format", "json"], "text", "json"),
        (["--log-format", "json", "ingest", "DIR", "--log-format", "text"], None, "text"),
        (["check"], " JSON ", "json"),
    ],
)
def test_the_log_format_is_read_before_or_after_the_command_or_from_the_environment(
    argv: list[str], env: str | None, expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if env is None:
        monkeypatch.delenv("NEWSWATCH_LOG_FORMAT", raising=False)
    else:
        monkeypatch.setenv("NEWSWATCH_LOG_FORMAT", env)
    assert build_parser().parse_args(argv).log_format == expected


@pytest.mark.parametrize(
    ("argv", "env"), [(["run"], "xml"), (["run", "--log-format", "yaml"], None)]
)
def test_an_unknown_log_format_is_a_usage_error(
    argv: list[str], env: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NEWSWATCH_LOG_FORMAT", raising=False)
    if env is not None:
        monkeypatch.setenv("NEWSWATCH_LOG_FORMAT", env)
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(argv)
    assert exit_.value.code == 2
