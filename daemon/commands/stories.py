"""``newswatch stories [--limit N]``: the newest stories, each article with what joined it.

Grouping is the step users most need to check ("why did these two reports alert twice?"), so
each article after a story's first shows the decision that joins it to an earlier one: the
reason (same text, same address, same headline, or sketch similarity) and its score.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from daemon.commands.alerts import cut, open_sessions
from daemon.dedup import Candidate, Kind, Sketch, StoryDecider
from daemon.settings import Settings
from storage.stories import StoredArticle, StoredStory, newest_stories

_TITLE = 60
_SOURCE = 16


def list_stories(settings: Settings, limit: int) -> int:
    return asyncio.run(_list(settings, limit))


async def _list(settings: Settings, limit: int) -> int:
    async with open_sessions(settings) as sessions, sessions() as session:
        stories = await newest_stories(session, limit)
    for line in story_lines(stories, StoryDecider()):
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
