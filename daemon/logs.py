"""Log lines on stderr: ``time level logger message key=value …`` by default, greppable by
key, or one JSON object per line (``--log-format json``) for log collectors.

In JSON each ``key=%s`` of a message becomes a field holding its argument's own value, so
``source``, ``url``, ``alert_id``, ``rule`` or ``path`` can be filtered on without parsing
the text. Every line, in either format, passes through the redactor first: known secrets
(the admin token, webhook secrets, SMTP passwords, authorization headers) and the password
part of URLs never reach the log.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel

FORMATS = ("text", "json")
_FIELD = re.compile(r"(\w+)=%(?:\.\d+)?[sdrfgi]|%(?:\.\d+)?[sdrfgi]")
_URL_PASSWORD = re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@]+:)[^/\s@]+(@)")
_BEARER = re.compile(r"(?i)\b(bearer|basic|token)(\s+)[A-Za-z0-9._~+/=-]{6,}")
_SECRET_NAMES = ("secret", "password", "token", "key", "auth")
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
MASK = "***"


class Redactor(logging.Filter):
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    def clean(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        text = _URL_PASSWORD.sub(rf"\1{MASK}\2", text)
        return _BEARER.sub(rf"\1\2{MASK}", text)


class TextFormatter(logging.Formatter):
    def __init__(self, redactor: Redactor) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s", "%Y-%m-%dT%H:%M:%S")
        self.redactor = redactor

    def format(self, record: logging.LogRecord) -> str:
        return self.redactor.clean(super().format(record))


class JsonFormatter(logging.Formatter):
    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(fields_of(record))
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry.setdefault(key, value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return self.redactor.clean(json.dumps(entry, ensure_ascii=False, default=str))


def fields_of(record: logging.LogRecord) -> dict[str, Any]:
    """``key=%s`` pairs of the message's format string, with the arguments they print."""
    if not isinstance(record.msg, str) or not isinstance(record.args, tuple):
        return {}
    fields: dict[str, Any] = {}
    for match, value in zip(_FIELD.finditer(record.msg), record.args, strict=False):
        if match.group(1):
            fields[match.group(1)] = value
    return fields


def secrets_of(settings: Any) -> list[str]:
    """Values in the settings that must never be logged: the admin token, and every channel
    field or header whose name says secret, password, token, key or auth."""
    found: list[str] = []
    token = settings.daemon.http_token
    if token:
        found.append(token)
    for channel in settings.channels.values():
        found.extend(_secret_values(channel))
    return found


def _secret_values(model: BaseModel) -> list[str]:
    found: list[str] = []
    for name, value in model:
        secretish = any(part in name.lower() for part in _SECRET_NAMES)
        if isinstance(value, str) and secretish:
            found.append(value)
        elif isinstance(value, str) and name == "url":
            # Hook addresses often carry their credential in the path (chat services' hooks).
            parts = urlsplit(value)
            hidden = parts.path + (f"?{parts.query}" if parts.query else "")
            if len(hidden) >= 12:
                found.append(hidden)
        elif isinstance(value, dict):
            found.extend(
                str(v)
                for k, v in value.items()
                if any(part in str(k).lower() for part in _SECRET_NAMES)
            )
        elif isinstance(value, BaseModel):
            found.extend(_secret_values(value))
        elif hasattr(value, "get_secret_value"):
            found.append(str(value.get_secret_value()))
    return found


def configure(level: str = "INFO", fmt: str = "text", secrets: Iterable[str] = ()) -> None:
    redactor = Redactor(secrets)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(redactor) if fmt == "json" else TextFormatter(redactor))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # APScheduler narrates every job run at INFO; keep its warnings and errors only.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("apscheduler.scheduler").addFilter(_skip_overlap)


def _skip_overlap(record: logging.LogRecord) -> bool:
    """A tick that finds its job still running is skipped by design (one run at a time: a
    first poll of many feeds outlasts several ticks); that is not worth a warning a tick."""
    return "maximum number of running instances reached" not in record.getMessage()
