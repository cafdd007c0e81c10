"""``--log-format json``: one object per line with the line's identifiers as fields; and no
secret in any log line, in either format."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import pytest

from daemon.logs import JsonFormatter, Redactor, TextFormatter, fields_of, secrets_of
from daemon.settings import load_settings
from tests.support import DaemonProcess, Receiver, free_port, toml_str

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
TOKEN = "admin-token-7c0ffee-1234"
PASSWORD = "hunter2secret"
HOOK_PATH = "/services/T0000/B0000/XXXXXXXXXXXXXXXX"


def leaky_settings(tmp_path: Path, hook: str) -> Path:
    (tmp_path / "inbox").mkdir(exist_ok=True)
    feed = f"http://reader:{PASSWORD}@127.0.0.1:{free_port()}/feed.xml"  # nobody listens
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
""",
        encoding="utf-8",
    )
    return settings


@pytest.mark.parametrize("fmt", ["json", "text"])
async def test_a_running_daemon_logs_no_secret_and_json_lines_carry_fields(
    tmp_path: Path, fmt: str
) -> None:
    receiver = await Receiver(statuses=[500]).start()
    hook = f"http://127.0.0.1:{receiver.port}"
    settings = leaky_settings(tmp_path, hook)
    daemon = await DaemonProcess(settings, env={"NEWSWATCH_LOG_FORMAT": fmt}).start()
    try:
        await daemon.wait_log(lambda line: "poll failed" in line)
        (tmp_path / "inbox" / "ferry.txt").write_text(
            "Ferry sails again\n\nThe ferry sailed again on Monday after repairs.\n", "utf-8"
        )
        await daemon.wait_log(lambda line: "delivery failed" in line)
        await daemon.wait_log(lambda line: "delivered alert_id" in line)
    finally:
        assert await daemon.stop() == 0
        await receiver.stop()
    output = daemon.log()
    for secret in (SECRET, TOKEN, PASSWORD, HOOK_PATH, SECRET.removeprefix("whsec_")):
        assert secret not in output
    assert "reader:***@127.0.0.1" in output
    if fmt == "text":
        return
    entries = [json.loads(line) for line in daemon.lines]  # every line is one object
    failed = next(e for e in entries if e["message"].startswith("poll failed"))
    assert failed["level"] == "WARNING" and failed["logger"] == "newswatch.feeds"
    assert failed["source"] == "Locked Gazette"
    assert failed["url"].startswith("http://reader:***@127.0.0.1:")
    assert failed["errors"] == 1 and isinstance(failed["errors"], int)
    delivered = next(e for e in entries if e["message"].startswith("delivered alert_id"))
    assert delivered["alert_id"] == 1 and delivered["rule"] == "Ferries"
    assert delivered["channel"] == "desk" and delivered["uid"].startswith("msg_")
    assert all(e["time"].endswith("+00:00") for e in entries)


def record(msg: str, *args: object, exc: bool = False) -> logging.LogRecord:
    info = None
    if exc:
        try:
            raise ValueError(f"boom with Bearer {TOKEN}")
        except ValueError:
            info = sys.exc_info()
    return logging.LogRecord("newswatch.test", logging.ERROR, __file__, 1, msg, args, info)


def test_fields_keep_their_values_and_exceptions_are_redacted() -> None:
    line = record("match rule=%r article_id=%s score=%.2f n=%d of %s", "Ferries", 7, 0.5, 3, "x")
    assert fields_of(line) == {"rule": "Ferries", "article_id": 7, "score": 0.5, "n": 3}
    formatter = JsonFormatter(Redactor([TOKEN]))
    entry = json.loads(formatter.format(record("failed url=%s", "https://u:pw@h/x", exc=True)))
    assert entry["url"] == "https://u:***@h/x"
    assert "ValueError" in entry["exception"] and TOKEN not in entry["exception"]
    text = TextFormatter(Redactor([TOKEN])).format(record("token %s", TOKEN))
    assert TOKEN not in text and "***" in text


def test_secrets_are_found_in_the_settings(tmp_path: Path) -> None:
    settings = load_settings(leaky_settings(tmp_path, "http://127.0.0.1:9"))
    found = secrets_of(settings)
    assert TOKEN in found and SECRET in found and HOOK_PATH in found
    assert f"Bearer {TOKEN}-hook" in found
