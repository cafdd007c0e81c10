"""``newswatch stories [--limit N]``: the newest stories, each article with what joined it;
``newswatch stories explain FILE…``: which story each file would join, and why, or why none.

Grouping is the step users most need to check ("why did these two reports alert twice?"), so
each article after a story's first shows the decision that joins it to an earlier one: the
reason (same text, same address, same headline, sketch similarity, or a shared lead over
a text inside the other) and its score.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from daemon.commands.alerts import cut, open_sessions
from daemon.dedup import Candidate, Kind, Sketch, StoryDecider, containment, similarity
from daemon.errors import ParseError
from daemon.parse import parse_bytes
from daemon.prepared import prepare
from daemon.runtime import story_decider
from daemon.settings import Settings
from storage.sketches import band_candidates
from storage.stories import StoredArticle, StoredStory, newest_stories
from storage.types import Article

_TITLE = 60
_SOURCE = 16


def list_stories(settings: Settings, limit: int) -> int:
    return asyncio.run(_list(settings, limit))


async def _list(settings: Settings, limit: int) -> int:
    async with open_sessions(settings) as sessions, sessions() as session:
        stories = await newest_stories(session, limit)
    for line in story_lines(stories, story_decider(settings)):
        print(line)
    if not stories:
        print("no stories yet")
    return 0


def story_lines(stories: list[StoredStory], decider: StoryDecider) -> list[str]:
    lines: list[str] = []
    for story in stories:
        count = len(story.articles)
        lines.append(
            f"story {story.id} · {count} article{'s' if count != 1 else ''} · updated "
            f"{_stamp(story.updated_at)} · {cut(story.title, _TITLE)}"
        )
        for n, article in enumerate(story.articles):
            joined = _joined(article, story.articles[:n], decider) if n else "started the story"
            lines.append(
                f"  article {article.id:<6} {cut(article.source, _SOURCE):<{_SOURCE}} "
                f"published {_stamp(article.published):<16}  {joined:<28}  "
                f"{cut(article.title, _TITLE)}"
            )
    return lines


def _joined(article: StoredArticle, earlier: list[StoredArticle], decider: StoryDecider) -> str:
    """The best match among the articles that were there before it, as the decider sees it
    today (the time window included)."""
    if article.sketch is None:
        return "joined (no sketch kept)"
    mine = Sketch.from_bytes(article.sketch)
    candidates = [
        Candidate(0, other.id, Sketch.from_bytes(other.sketch), _when(other))
        for other in earlier
        if other.sketch is not None
    ]
    decision = decider.decide(mine, _when(article), candidates)
    if decision.kind is not Kind.JOIN:
        return "joined (no match now)"
    return f"joined {decision.article_id}: {decision.reason.value} {decision.score:.2f}"


def _when(article: StoredArticle) -> datetime:
    return article.published or article.created_at


def _stamp(when: datetime | None) -> str:
    return when.strftime("%Y-%m-%d %H:%M") if when else "-"


def explain(settings: Settings, files: Sequence[str]) -> int:
    """Exit 1 if a file could not be read; nothing is stored."""
    read: list[tuple[str, list[Article] | str]] = []
    for name in files:
        path = Path(name)
        try:
            # As the drop scanner reads it: a page that prints no date is placed by the
            # file's modification time.
            captured = datetime.fromtimestamp(path.stat().st_mtime, UTC)
            read.append((name, parse_bytes(path.read_bytes(), name=path.name, captured=captured)))
        except OSError as exc:
            read.append((name, exc.strerror or str(exc)))
        except ParseError as exc:
            read.append((name, str(exc)))
    return asyncio.run(_explain(settings, read))


async def _explain(settings: Settings, read: list[tuple[str, list[Article] | str]]) -> int:
    decider = story_decider(settings)
    status = 0
    async with open_sessions(settings) as sessions, sessions() as session:
        for name, articles in read:
            if isinstance(articles, str):
                print(f"{name}: cannot be read: {articles}")
                status = 1
                continue
            for article in articles:
                print(f"{name}: {cut(article.title, _TITLE)}")
                print(f"  {await _verdict(session, article, decider)}")
    return status


async def _verdict(session: AsyncSession, article: Article, decider: StoryDecider) -> str:
    item = prepare(article)
    rows = await band_candidates(session, item.bands, decider.since(item.published))
    candidates = [
        Candidate(r.story_id, r.article_id, Sketch.from_bytes(r.sketch), r.published) for r in rows
    ]
    decision = decider.decide(item.sketch, item.published, candidates)
    if decision.kind is Kind.JOIN:
        return (
            f"would join story {decision.story_id} through article {decision.article_id}: "
            f"{decision.reason.value} {decision.score:.2f} "
            f"(threshold {decider.settings.threshold:.2f})"
        )
    if not candidates:
        return "would start a new story: no stored article in the window shares a band with it"
    best = max(candidates, key=lambda c: similarity(item.sketch, c.sketch))
    score = similarity(item.sketch, best.sketch)
    apart = abs(best.published - item.published)
    if apart > decider.settings.window:
        why = f"published {_span(apart)} apart, outside the {_span(decider.settings.window)} window"
    else:
        why = f"below the threshold {decider.settings.threshold:.2f}"
    return (
        f"would start a new story: closest is story {best.story_id} (article {best.article_id}, "
        f"published {_stamp(best.published)}) at similarity {score:.2f}, containment "
        f"{containment(item.sketch, best.sketch):.2f}: {why}"
    )


def _span(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours / 24:.1f} days" if hours >= 48 else f"{hours:.1f} hours"
