"""OPML in and out, so people can bring their subscriptions and take them along.

Import never rewrites the settings file: it appends ``[[feeds]]`` tables after what is there,
so comments, order and formatting written by hand stay byte for byte. Export writes the feeds
as the settings declare them (settings are the source of truth, not the database).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from xml.sax.saxutils import quoteattr

from daemon.errors import ParseError
from daemon.settings import FeedSettings


@dataclass(frozen=True, slots=True)
class Outline:
    url: str
    title: str | None = None


def read_opml(data: bytes) -> list[Outline]:
    """Every outline with an ``xmlUrl``, at any depth (folders are flattened), in order."""
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise ParseError(f"not a readable OPML file: {exc}") from exc
    if root.tag.lower() != "opml":
        raise ParseError(f"not an OPML file (the root element is <{root.tag}>)")
    found: list[Outline] = []
    for node in root.iter("outline"):
        url = (node.get("xmlUrl") or node.get("xmlurl") or "").strip()
        if url.startswith(("http://", "https://")):
            title = (node.get("title") or node.get("text") or "").strip() or None
            found.append(Outline(url, title))
    return found


def _toml(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def plan_import(
    outlines: Iterable[Outline], feeds: Sequence[FeedSettings]
) -> tuple[list[tuple[str | None, str]], list[Outline]]:
    """(name, url) pairs to add, and the outlines skipped because the URL is there already.

    Names stay unique (settings refuse duplicates): a clash gets `` (2)``, `` (3)`` …
    """
    urls = {f.url for f in feeds}
    names = {f.key for f in feeds}
    added: list[tuple[str | None, str]] = []
    skipped: list[Outline] = []
    for outline in outlines:
        if outline.url in urls:
            skipped.append(outline)
            continue
        name = outline.title
        if name is not None:
            base, counter = name, 2
            while name in names:
                name, counter = f"{base} ({counter})", counter + 1
            names.add(name)
        names.add(outline.url)
        urls.add(outline.url)
        added.append((name, outline.url))
    return added, skipped


def feed_tables(added: Sequence[tuple[str | None, str]], origin: str) -> str:
    """TOML text to append: a comment saying where the feeds came from, then the tables."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    lines = [f"\n# Imported from {origin} on {stamp}"]
    for name, url in added:
        lines.append("\n[[feeds]]")
        if name is not None:
            lines.append(f"name = {_toml(name)}")
        lines.append(f"url = {_toml(url)}")
    return "\n".join(lines) + "\n"


def write_opml(feeds: Sequence[FeedSettings], title: str = "newswatch feeds") -> str:
    outlines = "\n".join(
        f'    <outline type="rss" text={quoteattr(f.key)} title={quoteattr(f.key)} '
        f"xmlUrl={quoteattr(f.url)}/>"
        for f in feeds
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<opml version="2.0">\n'
        f"  <head>\n    <title>{_escape(title)}</title>\n  </head>\n"
        f"  <body>\n{outlines}\n  </body>\n</opml>\n"
    )


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
