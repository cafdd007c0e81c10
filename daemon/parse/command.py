"""``newswatch parse FILE [--timezone ZONE]``: show how a file will be read.

It prints exactly the JSON other tools consume (``Article.to_json``), one object per article,
so checking a new source and scripting against the output use the same contract.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from daemon.errors import ParseError
from daemon.parse import parse_bytes


def main(path: str, timezone: str | None) -> int:
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
    try:
        articles = parse_bytes(data, name=Path(path).name, timezone=zone)
    except ParseError as exc:
        print(f"error: {path}: {exc}", file=sys.stderr)
        return 1
    for article in articles:
        print(json.dumps(article.to_json(), ensure_ascii=False))
    return 0
