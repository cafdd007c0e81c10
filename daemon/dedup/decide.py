"""Which story an article belongs to: a pure decision over the article and its candidates.

Nothing here touches the store; the caller fetches candidates from a ``SketchIndex`` and
records the outcome. Evidence is weighed strongest first: the same item of the same source,
the same body text, the same canonical URL, the same headline over a text that contains the
other (a feed's summary of the article another feed carries in full), sketch similarity for
syndicated, re-headlined and updated copies, and finally a shared lead over a text that lies
inside the other (a brief cut from the article under a headline of its own).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Final, Literal

from daemon.dedup.index import Candidate
from daemon.dedup.sketch import Sketch, containment, shared_lead, similarity

# Measured on tests/data/dedup/pairs.jsonl (tests/test_dedup_labelled.py prints the table):
# hard non-duplicates (same place and day, other event; follow-ups reusing a background
# paragraph) reach 0.22, the weakest syndicated or corrected copy 0.39; 0.30 splits the gap.
DEFAULT_THRESHOLD: Final = 0.30
DEFAULT_WINDOW: Final = timedelta(days=3)
DEFAULT_RETENTION: Final = timedelta(days=90)
# A summary and its full article share a headline and the summary lies inside the article.
DEFAULT_TITLE_CONTAINMENT: Final = 0.5
# A brief and its article share their opening sentences and the brief lies inside the article;
# a follow-up or a quoting article can repeat one paragraph, never the lead and the rest.
DEFAULT_LEAD_SENTENCES: Final = 2
DEFAULT_LEAD_CONTAINMENT: Final = 0.6

OnUpdate = Literal["ignore", "alert"]


class Kind(enum.Enum):
    NEW = "new"  # starts a story
    SAME = "same"  # the same item again, unchanged: nothing to store or alert
    UPDATE = "update"  # the same item with changed text: joins its story
    JOIN = "join"  # another article of an existing story: copy, syndication, re-headline


class Reason(enum.Enum):
    NONE = "none"
    ITEM = "item"
    CONTENT = "content"
    URL = "url"
    TITLE = "title"
    SKETCH = "sketch"
    LEAD = "lead"


@dataclass(frozen=True, slots=True)
class Decision:
    kind: Kind
    story_id: int | None = None
    article_id: int | None = None  # the stored article that decided it
    score: float = 0.0
    reason: Reason = Reason.NONE
    # Other stories this article matched too: it bridges them, so they are one story that
    # arrived in an order (brief, rewrite, then the original) that split it.
    merges: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class DedupSettings:
    threshold: float = DEFAULT_THRESHOLD
    window: timedelta = DEFAULT_WINDOW
    retention: timedelta = DEFAULT_RETENTION
    title_containment: float = DEFAULT_TITLE_CONTAINMENT
    lead_sentences: int = DEFAULT_LEAD_SENTENCES
    lead_containment: float = DEFAULT_LEAD_CONTAINMENT


@dataclass(frozen=True, slots=True)
class StoryDecider:
    """Places an article: joins the best-matching story within the window, or starts one."""

    settings: DedupSettings = DedupSettings()

    def since(self, published: datetime) -> datetime:
        """The earliest publication time a candidate may have."""
        return published - self.settings.window

    def decide(
        self,
        s: Sketch,
        published: datetime,
        candidates: list[Candidate],
        previous: Candidate | None = None,
    ) -> Decision:
        """``previous`` is the stored article with the same source and item key, if any."""
        if previous is not None:
            return _same_item(s, previous)
        best: Decision | None = None
        stories: set[int] = set()
        for cand in candidates:
            if abs(cand.published - published) > self.settings.window:
                continue
            found = self._match(s, cand)
            if found is None:
                continue
            stories.add(cand.story_id)
            if best is None or _rank(found) > _rank(best):
                best = found
        if best is None:
            return Decision(Kind.NEW)
        others = tuple(sorted(stories - {best.story_id or 0}))
        return replace(best, merges=others) if others else best

    def _match(self, s: Sketch, cand: Candidate) -> Decision | None:
        old = cand.sketch
        if s.text_key and s.text_key == old.text_key:
            return Decision(Kind.JOIN, cand.story_id, cand.article_id, 1.0, Reason.CONTENT)
        if s.url_key and s.url_key == old.url_key:
            return Decision(Kind.JOIN, cand.story_id, cand.article_id, 1.0, Reason.URL)
        score = similarity(s, old)
        if score >= self.settings.threshold:
            return Decision(Kind.JOIN, cand.story_id, cand.article_id, score, Reason.SKETCH)
        if s.title_key and s.title_key == old.title_key:
            inside = containment(s, old)
            if inside >= self.settings.title_containment:
                return Decision(Kind.JOIN, cand.story_id, cand.article_id, inside, Reason.TITLE)
        if shared_lead(s, old) >= self.settings.lead_sentences:
            inside = containment(s, old)
            if inside >= self.settings.lead_containment:
                return Decision(Kind.JOIN, cand.story_id, cand.article_id, inside, Reason.LEAD)
        return None


_STRENGTH: Final = {
    Reason.CONTENT: 3,
    Reason.URL: 2,
    Reason.TITLE: 1,
    Reason.SKETCH: 1,
    Reason.LEAD: 1,
}


def _rank(d: Decision) -> tuple[int, float, int]:
    """Exact evidence beats similarity; among equals the higher score, then the older story."""
    return (_STRENGTH.get(d.reason, 0), d.score, -(d.story_id or 0))


def _same_item(s: Sketch, previous: Candidate) -> Decision:
    old = previous.sketch
    unchanged = s.signature == old.signature and s.text_key == old.text_key
    kind = Kind.SAME if unchanged else Kind.UPDATE
    score = 1.0 if unchanged else similarity(s, old)
    return Decision(kind, previous.story_id, previous.article_id, score, Reason.ITEM)


def alert_round(kind: Kind, on_update: OnUpdate, updates: int) -> int | None:
    """Which alert of the story a matching article may raise, or None for no alert at all.

    Alerts are unique per (rule, story, channel, round). Round 0 is the story's alert: every
    article of the story asks for it and the unique constraint lets only the first through,
    so a copy that matches a rule the first article missed still alerts once. An update asks
    for round ``updates`` (the item's 1-based update count) only when the rule wants updates.
    """
    if kind is Kind.SAME:
        return None
    if kind is Kind.UPDATE and on_update == "alert":
        return updates
    return 0
