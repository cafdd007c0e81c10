"""Turn validation errors into ``table[i].key: message (line N)`` for people editing TOML."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ValidationError

Loc = tuple[str | int, ...]
_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")


def format_loc(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def locate(text: str, loc: Loc, message: str) -> str:
    line = find_line(text, loc)
    where = f" (line {line})" if line else ""
    return f"{format_loc(loc) or 'settings'}: {message}{where}"


def describe_errors(
    exc: ValidationError, text: str, prefix: Loc = (), model: type[BaseModel] | None = None
) -> list[str]:
    """One line per error; with the ``model`` validated, an unknown key names the known key
    it is closest to, since most unknown keys are typos."""
    problems = []
    for error in exc.errors():
        inner: Loc = tuple(p for p in error["loc"] if isinstance(p, str | int))
        message = _message(error)
        if error["type"] == "extra_forbidden" and model is not None and inner:
            message += suggestion(str(inner[-1]), _keys_at(model, inner[:-1]))
        problems.append(locate(text, (*prefix, *inner), message))
    return problems


def suggestion(key: str, known: Iterable[str]) -> str:
    """``"; did you mean 'database'?"`` for a misspelt key, or nothing when none is close."""
    close = difflib.get_close_matches(key, list(known), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _keys_at(model: type[BaseModel], loc: Loc) -> list[str]:
    """The keys the table at ``loc`` inside ``model`` accepts (none where it is no model)."""
    for part in loc:
        info = model.model_fields.get(str(part))
        annotation = info.annotation if info is not None else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return [field.alias or name for name, field in model.model_fields.items()]


def _message(error: Any) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required key is missing"
    message = str(error["msg"]).removeprefix("Value error, ")
    given = error.get("input")
    if given is not None and not isinstance(given, dict | list) and repr(given) not in message:
        message += f", got {given!r}"
    return message


def _header_name(raw: str) -> str:
    return ".".join(part.strip().strip("\"'") for part in raw.split("."))


def find_line(text: str, loc: Loc) -> int | None:
    """1-based line of the key at ``loc``, else of its table header; None if not found."""
    table, index, key = _split(loc)
    lines = text.splitlines()
    if not table and key is not None:  # a name at the top: its [table] header, else its key
        header = _table_start(lines, key, None)
        if header is not None:
            return header + 1
    start = _table_start(lines, table, index)
    if start is None and key is None and index is None and "." in table:
        table, _, key = table.rpartition(".")  # [channels] with desk = … inside it
        start = _table_start(lines, table, None)
    if start is None:
        return None
    if key is None:
        return start + 1 if start >= 0 else None
    key_re = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
    for number in range(start + 1, len(lines)):
        if _HEADER.match(lines[number]):
            break
        if key_re.match(lines[number]):
            return number + 1
    return start + 1 if start >= 0 else None


def _split(loc: Loc) -> tuple[str, int | None, str | None]:
    """(table header name, array index, first key inside it) for the common shapes we emit."""
    parts = list(loc)
    if not parts:
        return "", None, None
    if parts[0] == "channels" and len(parts) >= 2:
        key = parts[2] if len(parts) > 2 and isinstance(parts[2], str) else None
        return f"channels.{parts[1]}", None, key
    if len(parts) >= 2 and isinstance(parts[1], int):
        key = parts[2] if len(parts) > 2 and isinstance(parts[2], str) else None
        return str(parts[0]), parts[1], key
    if len(parts) >= 2 and isinstance(parts[1], str):
        return str(parts[0]), None, parts[1]
    return "", None, str(parts[0])


def _table_start(lines: list[str], table: str, index: int | None) -> int | None:
    """Line index of the header; -1 for top-level keys (before any header)."""
    if not table:
        return -1
    seen = 0
    for number, line in enumerate(lines):
        match = _HEADER.match(line)
        if not match or _header_name(match.group(2)) != table:
            continue
        if index is None or seen == index:
            return number
        seen += 1
    return None
