"""Parsing: any input (text dump, HTML page, JSON record, feed) into ``Article`` values.

The front door picks the parser by what the bytes are, not by the file name, because drop
folders collect files whose extensions lie (``.txt`` pages that are HTML, ``.json`` files
that are JSON Lines). Every refusal is a ``ParseError`` whose message is the quarantine
reason shown to users.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from daemon.errors import ParseError
from daemon.parse.dates import Clock
from daemon.parse.decode import DEFAULT_MAX_BYTES, check_size, decode
from daemon.parse.dumppage import Verdict
from daemon.parse.feeds import ParsedFeed, is_json_feed, load_json_feed, parse_json_feed
from daemon.parse.feeds import parse_xml_feed as _parse_xml_feed
from daemon.parse.htmlpage import parse_html
from daemon.parse.records import load_json, parse_records
from daemon.parse.sniff import Shape, sniff
from daemon.parse.textdump import explain_text, parse_text
from storage.types import Article

__all__ = [
    "DEFAULT_MAX_BYTES",
    "ParsedFeed",
    "Shape",
    "Verdict",
    "explain_bytes",
    "parse_bytes",
    "parse_feed",
]

log = logging.getLogger("newswatch.parse")


def parse_bytes(
    data: bytes,
    *,
    name: str = "",
    timezone: ZoneInfo | None = None,
    captured: datetime | date | None = None,
    source: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> list[Article]:
    """Articles in one input; JSON Lines and feed documents may hold many."""
    check_size(data, max_bytes)
    text = decode(data)
    shape = sniff(text, name)
    zone = timezone or UTC
    clock = (
        Clock(zone, now=captured) if isinstance(captured, datetime) else Clock(zone, day=captured)
    )
    log.debug("parsing %s as %s", name or "<bytes>", shape.value)
    if shape is Shape.FEED:
        return _feed_articles(_xml_feed(data, clock, source))
    if shape is Shape.JSON:
        values = load_json(text)
        if len(values) == 1 and is_json_feed(values[0]):
            return _feed_articles(parse_json_feed(values[0], clock, source))
        articles = parse_records(values, clock, source=source)
    elif shape is Shape.HTML:
        articles = [parse_html(text, clock, source=source)]
    else:
        articles = [parse_text(text, zone=zone, captured=captured, source=source)]
    return [_with_capture(a, captured) for a in articles]


def explain_bytes(
    data: bytes, *, name: str = "", timezone: ZoneInfo | None = None
) -> tuple[Shape, list[Verdict], ParseError | None]:
    """How each line of a text dump was read; other shapes have no lines to explain, so
    only their shape is given."""
    text = decode(data)
    shape = sniff(text, name)
    if shape is not Shape.TEXT:
        return shape, [], None
    verdicts, refusal = explain_text(text, zone=timezone or UTC)
    return shape, verdicts, refusal


def parse_feed(
    data: bytes,
    *,
    source: str | None = None,
    timezone: ZoneInfo | None = None,
    known: Callable[[str], bool] | None = None,
) -> ParsedFeed:
    """A polled feed document: RSS, Atom, RDF, or JSON Feed 1.0/1.1 (told apart by content).
    ``known``: see :func:`daemon.parse.feeds.parse_xml_feed` (a JSON Feed is read whole:
    they are rare among polled feeds)."""
    clock = Clock(timezone or UTC)
    document = load_json_feed(data) if data.lstrip()[:1] in (b"{", b"\xef") else None
    if document is not None:
        return parse_json_feed(document, clock, source)
    return _xml_feed(data, clock, source, known=known)


def _xml_feed(
    data: bytes, clock: Clock, source: str | None, known: Callable[[str], bool] | None = None
) -> ParsedFeed:
    """feedparser's own failures (ValueError from inside its parsers) refuse the document
    like any other unreadable input, instead of escaping to the poller or the drop scanner
    as a crash."""
    try:
        return _parse_xml_feed(data, clock, source, known=known)
    except ValueError as exc:
        raise ParseError(f"feed document cannot be read: {exc}") from exc


def _feed_articles(feed: ParsedFeed) -> list[Article]:
    if not feed.articles:
        reason = f" ({feed.bozo_error})" if feed.bozo_error else ""
        raise ParseError(f"feed document holds no entries{reason}")
    return feed.articles


def _with_capture(article: Article, captured: datetime | date | None) -> Article:
    if captured is None or article.captured is not None:
        return article
    return article.replace(captured=captured)
