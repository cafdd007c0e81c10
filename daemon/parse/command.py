"""``newswatch parse FILE [--timezone ZONE] [--explain]``: show how a file will be read.

It prints exactly the JSON other tools consume (``Article.to_json``), one object per article,
so checking a new source and scripting against the output use the same contract. With
``--explain`` a text dump is shown line by line instead: its number in the file, the label it
got (headline, byline, date, lead, body, caption, tags, section, furniture, cut, …) and the
main reason, so a user can see why a line was kept or dropped.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from daemon.errors import ParseError
from daemon.parse import Shape, Verdict, explain_bytes, parse_bytes

_TEXT_WIDTH = 70


def main(path: str, timezone: str | None, *, explain: bool = False) -> int:
    try:
        zone = ZoneInfo(timezone) if timezone else None
    except (ZoneInfoNotFoundError, ValueError):
        print(
            f"error: unknown timezone {timezone!r} (use an IANA name such as Europe/Kyiv)",
            file=sys.stderr,
        )
        return 2
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        print(f"error: {path}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    if explain:
        return _explain(path, data, zone)
    try:
        articles = parse_bytes(data, name=Path(path).name, timezone=zone)
    except ParseError as exc:
        print(f"error: {path}: {exc}", file=sys.stderr)
        return 1
    for article in articles:
        print(json.dumps(article.to_json(), ensure_ascii=False))
    return 0


def _explain(path: str, data: bytes, zone: ZoneInfo | None) -> int:
    try:
        shape, verdicts, refusal = explain_bytes(data, name=Path(path).name, timezone=zone)
    except ParseError as exc:
        print(f"error: {path}: {exc}", file=sys.stderr)
        return 1
    if shape is not Shape.TEXT:
        print(f"{path}: read as {shape.value}; --explain shows the lines of text dumps only")
        return 0
    for verdict in verdicts:
        print(_row(verdict))
    if refusal is not None:
        print(f"error: {path}: {refusal}", file=sys.stderr)
        return 1
    return 0


def _row(verdict: Verdict) -> str:
    text = verdict.text
    if len(text) > _TEXT_WIDTH:
        text = text[: _TEXT_WIDTH - 1] + "…"
    return f"{verdict.line:>5}  {verdict.label:<10} {text:<{_TEXT_WIDTH}}  {verdict.reason}"
