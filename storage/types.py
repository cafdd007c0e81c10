"""Value types shared by every layer.

They live in ``storage`` because it is the lowest layer that needs them: parsers in
``daemon`` produce them, rules in ``alerts`` read them, and repositories persist them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Image:
    """A picture in an article; caption and credit are kept apart so alerts can quote either."""

    caption: str = ""
    credit: str = ""
    url: str | None = None


@dataclass(slots=True)
class Article:
    """One parsed item, whatever it came from (feed entry, text dump, HTML page, JSON record).

    ``published`` is timezone-aware UTC; ``captured`` is too, or a bare date when the page
    only says which day it was saved; ``body`` is a list of clean
    paragraphs with boilerplate (banners, navigation, share buttons, footers) removed.
    """

    title: str = ""
    authors: list[str] = field(default_factory=list)
    published: datetime | None = None
    captured: datetime | date | None = None
    section: str | None = None
    tags: list[str] = field(default_factory=list)
    lead: str = ""
    body: list[str] = field(default_factory=list)
    images: list[Image] = field(default_factory=list)
    reading_time: int | None = None
    url: str | None = None
    language: str | None = None
    source: str | None = None
    guid: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def paragraphs(self) -> list[str]:
        """The lead, then the body; parsers often repeat the lead as the first paragraph."""
        if self.lead and (not self.body or self.body[0] != self.lead):
            return [self.lead, *self.body]
        return list(self.body)

    @property
    def text(self) -> str:
        """Title, lead and body as one string: what keyword rules and excerpts read.

        A title made of the first paragraph's opening words (a page that printed none) is
        left out, so nothing in the article is read twice."""
        paragraphs = self.paragraphs
        title = self.title
        if title and paragraphs and paragraphs[0].startswith(title.removesuffix("…")):
            title = ""
        return "\n\n".join(p for p in (title, *paragraphs) if p)

    def to_json(self) -> dict[str, Any]:
        """The public JSON shape (``newswatch parse`` prints it; other tools rely on it)."""
        return {
            "title": self.title,
            "authors": list(self.authors),
            "published": _iso(self.published),
            "captured": _iso(self.captured),
            "section": self.section,
            "tags": list(self.tags),
            "lead": self.lead,
            "body": list(self.body),
            "images": [
                {"caption": i.caption, "credit": i.credit, **({"url": i.url} if i.url else {})}
                for i in self.images
            ],
            "reading_time": self.reading_time,
            "url": self.url,
            "language": self.language,
            "source": self.source,
            "extra": dict(self.extra),
        }

    def replace(self, **changes: Any) -> Article:
        return dataclasses.replace(self, **changes)


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None
