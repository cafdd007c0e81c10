"""Publisher-declared metadata of an HTML page: JSON-LD ``NewsArticle`` and OpenGraph.

What the publisher declares beats what an extractor infers (a headline without the site
suffix, the real publication time with its zone, every author), so these are read first and
the extractor only fills what they leave empty.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

_ARTICLE_TYPES = frozenset(
    {
        "NewsArticle", "Article", "ReportageNewsArticle", "AnalysisNewsArticle",
        "OpinionNewsArticle", "BackgroundNewsArticle", "BlogPosting", "LiveBlogPosting",
        "Report", "ScholarlyArticle", "TechArticle",
    }
)  # fmt: skip


@dataclass(slots=True)
class PageMeta:
    """Everything the page head says about the article, as found (not yet normalised)."""

    meta: dict[str, list[str]] = field(default_factory=dict)
    ld_article: dict[str, Any] | None = None
    lang: str | None = None
    canonical: str | None = None
    figcaptions: list[str] = field(default_factory=list)
    title_tag: str | None = None  # the <title> element, site name and all
    heading: str | None = None  # the first <h1>

    def first(self, *keys: str) -> str | None:
        for key in keys:
            values = self.meta.get(key)
            if values and values[0].strip():
                return values[0].strip()
        return None

    def every(self, key: str) -> list[str]:
        return [v.strip() for v in self.meta.get(key, []) if v.strip()]


class _HeadReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = PageMeta()
        self.ld_blocks: list[str] = []
        self._capture: str | None = None
        self._buffer: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.lower(): (v or "") for k, v in attrs}
        if tag == "meta":
            key = (a.get("property") or a.get("name") or a.get("itemprop") or "").lower()
            if key and "content" in a:
                self.page.meta.setdefault(key, []).append(a["content"])
        elif tag == "html" and a.get("lang"):
            self.page.lang = a["lang"]
        elif tag == "link" and "canonical" in a.get("rel", "").lower().split():
            self.page.canonical = a.get("href") or None
        elif tag == "script" and a.get("type", "").lower() == "application/ld+json":
            self._start("ld")
        elif tag == "figcaption":
            self._start("figcaption")
        elif tag == "title" and self.page.title_tag is None and self._capture is None:
            self._start("title")
        elif tag == "h1" and self.page.heading is None and self._capture is None:
            self._start("h1")

    def handle_endtag(self, tag: str) -> None:
        if self._capture == "ld" and tag == "script":
            self.ld_blocks.append("".join(self._buffer))
            self._capture = None
        elif self._capture == "figcaption" and tag == "figcaption":
            text = " ".join("".join(self._buffer).split())
            if text:
                self.page.figcaptions.append(text)
            self._capture = None
        elif self._capture in ("title", "h1") and tag == self._capture:
            found = " ".join("".join(self._buffer).split()) or None
            if tag == "title":
                self.page.title_tag = found
            else:
                self.page.heading = found
            self._capture = None

    def handle_data(self, data: str) -> None:
        if self._capture:
            self._buffer.append(data)

    def _start(self, what: str) -> None:
        self._capture = what
        self._buffer = []


def read_meta(html: str) -> PageMeta:
    reader = _HeadReader()
    reader.feed(html)
    reader.close()
    page = reader.page
    page.ld_article = _find_article(reader.ld_blocks)
    return page


def _find_article(blocks: list[str]) -> dict[str, Any] | None:
    for block in blocks:
        try:
            data = json.loads(block, strict=False)
        except json.JSONDecodeError:
            continue
        for node in _nodes(data):
            types = node.get("@type")
            names = {types} if isinstance(types, str) else set(types or [])
            if names & _ARTICLE_TYPES:
                return node
    return None


def _nodes(data: Any) -> Iterator[dict[str, Any]]:
    if isinstance(data, list):
        for item in data:
            yield from _nodes(item)
    elif isinstance(data, dict):
        yield data
        if "@graph" in data:
            yield from _nodes(data["@graph"])


def ld_names(value: Any) -> list[str]:
    """Authors in JSON-LD: a string, a Person, or a list of either."""
    if isinstance(value, str):
        return [value.strip()] if value.strip() else []
    if isinstance(value, dict):
        name = value.get("name")
        return [name.strip()] if isinstance(name, str) and name.strip() else []
    if isinstance(value, list):
        return [n for item in value for n in ld_names(item)]
    return []


def ld_strings(value: Any) -> list[str]:
    """Keywords and sections: a comma string or a list of strings."""
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, list):
        return [v.strip() for v in value if isinstance(v, str) and v.strip()]
    return []


def ld_images(value: Any) -> list[tuple[str, str, str | None]]:
    """(caption, credit, url) of each ImageObject in JSON-LD ``image``."""
    items = value if isinstance(value, list) else [value]
    found: list[tuple[str, str, str | None]] = []
    for item in items:
        if isinstance(item, dict):
            caption = str(item.get("caption") or item.get("description") or "").strip()
            credit = item.get("creditText") or item.get("copyrightHolder") or item.get("author")
            credit_text = ld_names(credit)[0] if ld_names(credit) else ""
            if caption or credit_text:
                found.append((caption, credit_text, item.get("url") or item.get("contentUrl")))
    return found
