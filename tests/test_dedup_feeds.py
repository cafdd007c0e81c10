"""The same articles carried by an RSS feed and an Atom feed make one story each, not two.

The two saved feeds hold the same blog posts; the RSS items carry the full post in
``description`` while the Atom entries carry a short ``summary`` and the full ``content``.
Each is ingested as its own source, so nothing at the item level (GUIDs are per source) can
join them: the article and story levels must.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import feedparser
import pytest

from daemon.dedup import (
    Candidate,
    Kind,
    MemorySketchIndex,
    StoryDecider,
    band_keys,
    content_hash,
    item_key,
    place,
    sketch,
)

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "testdata" / "feeds"
_BLOCKS = {"p", "div", "br", "li", "pre", "h1", "h2", "h3", "h4", "blockquote", "tr"}


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def _text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return "".join(parser.parts).strip()


@dataclass
class Ingest:
    """The dedup path as the store will run it, with dicts standing in for tables."""

    index: MemorySketchIndex = field(default_factory=MemorySketchIndex)
    decider: StoryDecider = field(default_factory=StoryDecider)
    items: dict[tuple[str, str], Candidate] = field(default_factory=dict)
    hashes: set[str] = field(default_factory=set)
    stories: int = 0

    async def add(self, source: str, entry: Any, body: str, with_link: bool) -> Kind:
        link = entry.get("link") if with_link else None
        guid = entry.get("id") if with_link else None
        key = item_key(guid, link, entry.title, body)
        s = sketch(entry.title, body, link)
        published = datetime.fromtimestamp(calendar.timegm(entry.published_parsed), UTC)
        previous = self.items.get((source, key))
        decision = await place(self.index, self.decider, s, published, previous)
        if decision.kind is Kind.SAME:
            return decision.kind
        story = decision.story_id
        if story is None:
            self.stories += 1
            story = self.stories
        article_id = len(self.items) + 1
        self.items[(source, key)] = Candidate(story, article_id, s, published)
        self.hashes.add(content_hash(body))
        await self.index.add(story, article_id, band_keys(s), s, published)
        return decision.kind


def _feed(name: str) -> Any:
    path = SHARED / name
    if not SHARED.is_dir():
        pytest.skip("../shared/testdata is not available")
    return feedparser.parse(path.read_bytes())


def _atom_body(entry: Any, part: str) -> str:
    return _text(entry.content[0].value if part == "content" else entry.summary)


@pytest.mark.parametrize("atom_part", ["content", "summary"])
@pytest.mark.parametrize("with_link", [True, False], ids=["links", "no-links"])
async def test_rss_and_atom_of_the_same_posts_make_one_story_each(
    atom_part: str, with_link: bool
) -> None:
    rss, atom = _feed("large_rss.xml"), _feed("large_atom.xml")
    # The issue speaks of 26 articles; both files hold 25 entries (the 26th <title> is the
    # channel's). What matters is one story per distinct post.
    posts = {e.link for e in rss.entries}
    assert len(rss.entries) == len(atom.entries) == len(posts) == 25
    ingest = Ingest()
    for entry in rss.entries:
        assert await ingest.add("rss", entry, _text(entry.summary), with_link) is Kind.NEW
    kinds = [
        await ingest.add("atom", entry, _atom_body(entry, atom_part), with_link)
        for entry in atom.entries
    ]
    assert ingest.stories == len(posts)
    assert set(kinds) == {Kind.JOIN}


async def test_polling_the_same_feed_again_changes_nothing() -> None:
    rss = _feed("large_rss.xml")
    ingest = Ingest()
    for entry in rss.entries:
        await ingest.add("rss", entry, _text(entry.summary), True)
    again = [await ingest.add("rss", e, _text(e.summary), True) for e in rss.entries]
    assert set(again) == {Kind.SAME}
    assert ingest.stories == 25
