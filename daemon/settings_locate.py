"""Turn validation errors into ``table[i].key: message (line N)`` for people editing TOML."""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

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


def describe_errors(exc: ValidationError, text: str, prefix: Loc = ()) -> list[str]:
    problems = []
    for error in exc.errors():
        loc: Loc = (*prefix, *(p for p in error["loc"] if isinstance(p, str | int)))
        problems.append(locate(text, loc, _message(error)))
    return problems


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
    start = _table_start(lines, table, index)
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
