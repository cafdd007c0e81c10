"""JSON records (one object, an array, or JSON Lines) into Articles.

The schema is small and documented (url, title, text or html, published, authors, tags,
language, plus section, captured, guid, images); anything else is kept verbatim in
``Article.extra`` so a scraper's own fields survive the trip without a schema change.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from daemon.errors import ParseError
from daemon.parse.dates import Clock, parse_when
from daemon.parse.fields import clean_line, detect_language, estimate_reading_time, unique
from daemon.parse.htmltext import html_paragraphs, text_paragraphs
from storage.types import Article, Image

KNOWN_KEYS = frozenset(
    {
        "url", "title", "text", "html", "published", "authors", "author", "tags", "language",
        "section", "captured", "guid", "id", "images", "lead", "source",
    }
)  # fmt: skip


def load_json(text: str) -> list[Any]:
    """Values in a JSON document or JSON Lines file, with the line of a syntax error."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as whole_error:
        lines = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
        if len(lines) < 2:
            raise _syntax(whole_error) from whole_error
        return [_json_line(n, line) for n, line in lines]
    return value if isinstance(value, list) else [value]


def _json_line(number: int, line: str) -> Any:
    try:
        return json.loads(line)
    except json.JSONDecodeError as exc:
        raise ParseError(
            f"invalid JSON Lines: line {number}: {exc.msg} (column {exc.colno})"
        ) from exc


def _syntax(exc: json.JSONDecodeError) -> ParseError:
    message = exc.msg.removesuffix(" at")  # "Unterminated string starting at" ends in "at"
    return ParseError(f"invalid JSON: {message} at line {exc.lineno}, column {exc.colno}")


def parse_records(values: list[Any], clock: Clock, *, source: str | None = None) -> list[Article]:
    if not values:
        raise ParseError("JSON holds no records (empty array)")
    articles = []
    for number, value in enumerate(values, 1):
        where = f"record {number}" if len(values) > 1 else "record"
        if not isinstance(value, dict):
            raise ParseError(f"JSON {where} is a {type(value).__name__}, not an object")
        articles.append(parse_record(value, clock, source=source, where=where))
    return articles


def parse_record(
    record: dict[str, Any], clock: Clock, *, source: str | None = None, where: str = "record"
) -> Article:
    body = _body(record, where)
    title = clean_line(_string(record, "title", where))
    if not title and not body:
        raise ParseError(f"JSON {where} has neither a title nor text/html")
    return Article(
        title=title,
        authors=unique(_strings(record, "authors", where) or _strings(record, "author", where)),
        published=_moment(record, "published", clock, where),
        captured=_moment(record, "captured", clock, where),
        section=_string(record, "section", where) or None,
        tags=unique(_strings(record, "tags", where)),
        lead=clean_line(_string(record, "lead", where)) or (body[0] if body else ""),
        body=body,
        images=_images(record.get("images"), where),
        reading_time=estimate_reading_time(body),
        url=_string(record, "url", where) or None,
        language=_string(record, "language", where) or detect_language(" ".join(body)),
        source=_string(record, "source", where) or source,
        guid=str(record.get("guid") or record.get("id") or "") or None,
        extra={k: v for k, v in record.items() if k not in KNOWN_KEYS},
    )


def _body(record: dict[str, Any], where: str) -> list[str]:
    text = _string(record, "text", where)
    if text:
        return text_paragraphs(text)
    html = _string(record, "html", where)
    return html_paragraphs(html) if html else []


def _string(record: dict[str, Any], key: str, where: str) -> str:
    value = record.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ParseError(f"JSON {where}: {key!r} must be a string, not {type(value).__name__}")
    return value.strip()


def _strings(record: dict[str, Any], key: str, where: str) -> list[str]:
    """A list of strings, or one comma-separated string ("A, B")."""
    value = record.get(key)
    if value is None:
        return []
    if isinstance(value, str):
        return [clean_line(v) for v in value.split(",") if v.strip()]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return [clean_line(v) for v in value if v.strip()]
    raise ParseError(f"JSON {where}: {key!r} must be a list of strings or a string")


def _moment(record: dict[str, Any], key: str, clock: Clock, where: str) -> datetime | None:
    value = record.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value / 1000 if value > 1e11 else value, UTC)
    if isinstance(value, str) and (parsed := parse_when(value, clock)) is not None:
        return parsed
    raise ParseError(f"JSON {where}: {key!r} is not a date or time: {value!r}")


def _images(value: Any, where: str) -> list[Image]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ParseError(f"JSON {where}: 'images' must be a list of objects")
    return [
        Image(
            caption=str(v.get("caption") or ""),
            credit=str(v.get("credit") or ""),
            url=str(v["url"]) if v.get("url") else None,
        )
        for v in value
    ]
