"""Log lines on stderr: ``time level logger message key=value …`` by default, greppable by
key, or one JSON object per line (``--log-format json``) for log collectors.

In JSON each ``key=%s`` of a message becomes a field holding its argument's own value, so
``source``, ``url``, ``alert_id``, ``rule`` or ``path`` can be filtered on without parsing
the text. Every line, in either format, passes through the redactor first: known secrets
(the admin token, webhook secrets, SMTP passwords, authorization headers) and the password
part of URLs never reach the log.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import math
import re
import sys
from collections.abc import Iterable, Mapping
from contextlib import suppress
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, TextIO
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel

if TYPE_CHECKING:
    from daemon.settings import Settings

FORMATS = ("text", "json")
MASK = "***"
# Shorter values ("abc", "1") occur in ordinary words and numbers: masking them would
# garble every line while protecting nothing anyone could not guess.
MIN_SECRET = 4
# The fields every JSON line has; a message's own ``message=%s`` must not replace them.
CORE = ("time", "level", "logger", "message", "exception", "stack")

# One printf conversion, as ``%`` formatting reads it: ``%(key)`` ``#0 +-`` width precision.
_SPEC = re.compile(
    r"%(?:\((?P<key>[^)]*)\))?[#0 +-]*(?P<width>\*|\d+)?(?:\.(?P<precision>\*|\d*))?"
    r"[hlL]?(?P<conversion>[diouxXeEfFgGcrsa%])"
)
_NAMED = re.compile(r"(\w+)=['\"]?\Z")
_URL_PASSWORD = re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@\"']*:)[^/\s@]+(@)")
_BEARER = re.compile(r"(?i)\b(bearer)(\s+)[A-Za-z0-9._~+/-]+=*")
_BASIC = re.compile(r"\b(Basic)(\s+)([A-Za-z0-9+/]{4,}={0,2})")
_AUTHORIZATION = re.compile(
    r"(?i)(\bauthorization['\"]?\s*[:=]\s*['\"]?(?:[A-Za-z][\w-]*\s+)?)([^\s'\",;}\\]+)"
)
_SECRET_KEY = re.compile(r"(?i)(?:password|passwd|secret|token|api_?key)\Z")
_KEYED = re.compile(
    r"(?i)\b(\w*(?:password|passwd|secret|token|api_?key)=)(?!\*{3})('[^']*'|\"[^\"]*\"|[^\s,;]+)"
)
_FIELD_WORDS = ("secret", "password", "passwd", "token")
_HEADER_WORDS = ("auth", "token", "key", "secret", "password", "cookie")
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class Redactor:
    """The one place that decides what a log line may not show, shared by both formats."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        forms: set[str] = set()
        for secret in secrets:
            if len(secret) >= MIN_SECRET:
                # A secret with a quote or backslash is spelled differently once ``%r`` or
                # JSON has escaped it; each spelling must be caught.
                forms |= {secret, repr(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1]}
        self.secrets = sorted(forms, key=len, reverse=True)

    def clean(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        text = _KEYED.sub(rf"\1{MASK}", text)
        return mask_credentials(text)


def mask_credentials(text: str) -> str:
    """URL passwords and authorization credentials, whoever's they are. Safe on JSON text
    too: no pattern starts or ends a match inside an escape sequence."""
    text = _URL_PASSWORD.sub(rf"\1{MASK}\2", text)
    text = _BEARER.sub(rf"\1\2{MASK}", text)
    text = _BASIC.sub(_basic, text)
    return _AUTHORIZATION.sub(rf"\1{MASK}", text)


def _basic(match: re.Match[str]) -> str:
    """Only what decodes to ``user:password`` is a credential; "Basic settings" is prose."""
    try:
        decoded = base64.b64decode(match.group(3), validate=True)
    except (binascii.Error, ValueError):
        return match.group(0)
    return f"{match.group(1)}{match.group(2)}{MASK}" if b":" in decoded else match.group(0)


class TextFormatter(logging.Formatter):
    def __init__(self, redactor: Redactor) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s", "%Y-%m-%dT%H:%M:%S")
        self.redactor = redactor

    def format(self, record: logging.LogRecord) -> str:
        return self.redactor.clean(super().format(renderable(record)))


class JsonFormatter(logging.Formatter):
    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def format(self, record: logging.LogRecord) -> str:
        record = renderable(record)
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name, value in (*fields_of(record).items(), *extras_of(record).items()):
            hidden = value is not None and _SECRET_KEY.search(name) is not None
            entry.setdefault(f"{name}_" if name in CORE else name, MASK if hidden else value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        # Values are cleaned one by one, where their text is still unescaped; the dumped line
        # is then passed through the escape-safe patterns as well.
        line = json.dumps(self._cleaned(plain(entry)), ensure_ascii=False)
        return mask_credentials(line)

    def _cleaned(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.redactor.clean(value)
        if isinstance(value, dict):
            return {self.redactor.clean(k): self._cleaned(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._cleaned(v) for v in value]
        return value


def renderable(record: logging.LogRecord) -> logging.LogRecord:
    """The record, or when its arguments do not fit its format, a copy without them. The
    stock error report would print those arguments raw, past every redaction."""
    try:
        record.getMessage()
    except Exception as exc:
        msg = record.msg if isinstance(record.msg, str) else type(record.msg).__name__
        note = f"{msg} [arguments do not fit the message: {type(exc).__name__}: {exc}]"
        return logging.makeLogRecord({**vars(record), "msg": note, "args": ()})
    return record


def fields_of(record: logging.LogRecord) -> dict[str, Any]:
    """``key=%s`` pairs of the message's format string, with the arguments they print."""
    if not isinstance(record.msg, str) or not record.args:
        return {}
    if isinstance(record.args, Mapping):
        return _mapped_fields(record.msg, record.args)
    fields: dict[str, Any] = {}
    args = iter(record.args)
    for match in _SPEC.finditer(record.msg):
        if match["conversion"] == "%":
            continue
        for _ in range((match["width"] == "*") + (match["precision"] == "*")):
            next(args, None)
        value = next(args, None)
        name = _NAMED.search(record.msg, 0, match.start())
        if name:
            fields.setdefault(name.group(1), value)
    return fields


def _mapped_fields(msg: str, args: Mapping[str, Any]) -> dict[str, Any]:
    """``%(name)s`` style: each key names its field, unless ``label=`` before it does."""
    fields: dict[str, Any] = {}
    for match in _SPEC.finditer(msg):
        key = match["key"]
        if key is not None and key in args:
            name = _NAMED.search(msg, 0, match.start())
            fields.setdefault(name.group(1) if name else key, args[key])
    return fields


def extras_of(record: logging.LogRecord) -> dict[str, Any]:
    """What the caller passed with ``extra=``: every attribute a plain record lacks."""
    return {
        key: value
        for key, value in vars(record).items()
        if key not in _STANDARD and not key.startswith("_")
    }


def plain(value: Any, depth: int = 0) -> Any:
    """A JSON-ready copy: only str, int, float, bool, None, lists and str-keyed dicts, so
    that nothing becomes text after redaction has run (as ``json.dumps(default=str)`` would
    make it), and no ``NaN`` that strict JSON readers reject."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if depth < 8 and isinstance(value, Mapping):
        return {str(k): plain(v, depth + 1) for k, v in value.items()}
    if depth < 8 and isinstance(value, list | tuple | set | frozenset):
        return [plain(v, depth + 1) for v in value]
    try:
        return str(value)
    except Exception:
        return f"<unprintable {type(value).__name__}>"


def secrets_of(settings: Settings) -> list[str]:
    """Values in the settings that must never be logged: the admin token, every channel
    field or header whose name says it holds a credential, and the passwords and
    credential headers of the database and feed addresses (an error may quote them bare)."""
    found = [settings.daemon.http_token or "", *_url_password(settings.daemon.database)]
    for feed in settings.feeds:
        found.extend((*_url_password(feed.url), *_header_secrets(feed.headers)))
    for channel in settings.channels.values():
        found.extend(_secret_values(channel))
    return list(dict.fromkeys(s for s in found if len(s) >= MIN_SECRET))


def _secret_values(model: BaseModel) -> list[str]:
    found: list[str] = []
    for name, value in model:
        if hasattr(value, "get_secret_value"):
            found.append(str(value.get_secret_value()))
        elif isinstance(value, str) and any(w in name.lower() for w in _FIELD_WORDS):
            # The base64 after ``whsec_`` is the signing key itself.
            found.extend((value, value.removeprefix("whsec_")))
        elif isinstance(value, str) and name == "url":
            found.extend(_url_secrets(value))
        elif isinstance(value, Mapping):
            found.extend(_header_secrets(value))
        elif isinstance(value, BaseModel):
            found.extend(_secret_values(value))
        elif isinstance(value, list | tuple):
            for item in value:
                if isinstance(item, BaseModel):
                    found.extend(_secret_values(item))
    return found


def _url_secrets(url: str) -> list[str]:
    """A hook's password, and its path: hook addresses often carry their credential there
    (chat services' hooks). Feed paths are not secret; only hooks get this."""
    try:
        parts = urlsplit(url)
    except ValueError:  # a malformed address: the URL pattern still masks what it can
        return []
    found = _url_password(url)
    hidden = parts.path + (f"?{parts.query}" if parts.query else "")
    if len(hidden) >= 12:
        found.append(hidden)
    return found


def _url_password(url: str) -> list[str]:
    """As written (``p%40ss``) and as sent (``p@ss``): either may end up in a message."""
    try:
        password = urlsplit(url).password
    except ValueError:
        return []
    return list(dict.fromkeys((password, unquote(password)))) if password else []


def _header_secrets(headers: Mapping[Any, Any]) -> list[str]:
    """Whole values of credential headers, and the credential alone after a scheme word
    (``Bearer abc`` → ``abc``), which a client may log without its scheme."""
    found: list[str] = []
    for name, value in headers.items():
        if any(word in str(name).lower() for word in _HEADER_WORDS):
            text = str(value).strip()
            if text:
                found.extend((text, text.split(None, 1)[-1]))
    return found


class _Handler(logging.StreamHandler[TextIO]):
    def handleError(self, record: logging.LogRecord) -> None:
        """The stock report dumps the record's raw arguments to stderr, unredacted."""
        if logging.raiseExceptions:
            with suppress(Exception):
                kind = type(sys.exc_info()[1]).__name__
                sys.stderr.write(f"--- logging error ({kind}) in logger {record.name}\n")


def configure(level: str = "INFO", fmt: str = "text", secrets: Iterable[str] = ()) -> None:
    if fmt not in FORMATS:
        raise ValueError(f"log format {fmt!r} is not one of {', '.join(FORMATS)}")
    redactor = Redactor(secrets)
    handler = _Handler(sys.stderr)
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
    return "maximum number of running instances reached" not in str(record.msg)
