"""Deduplication: the same item, the same article and the same story are each recognised once.

Three levels, cheapest first:

- **item** (:func:`item_key`): per source, GUID, else canonical URL, else a text hash; the
  store enforces it with a unique (source, item_key) constraint.
- **article** (:func:`content_hash`, :func:`canonical_url`): the same body or the same page
  reached through another URL, feed or outlet.
- **story** (:func:`sketch`, :func:`band_keys`, :class:`StoryDecider`): syndicated,
  re-headlined and updated copies are grouped by sketch similarity within a time window.

Everything is pure except the :class:`SketchIndex` the caller passes to :func:`place`.
"""

from __future__ import annotations

import logging
from datetime import datetime

from daemon.dedup.decide import (
    DEFAULT_RETENTION,
    DEFAULT_THRESHOLD,
    DEFAULT_WINDOW,
    Decision,
    DedupSettings,
    Kind,
    OnUpdate,
    Reason,
    StoryDecider,
    alert_round,
)
from daemon.dedup.fingerprint import content_hash, item_key
from daemon.dedup.index import Candidate, MemorySketchIndex, SketchIndex
from daemon.dedup.sketch import Sketch, band_keys, containment, similarity, sketch
from daemon.dedup.urls import canonical_url

__all__ = [
    "DEFAULT_RETENTION",
    "DEFAULT_THRESHOLD",
    "DEFAULT_WINDOW",
    "Candidate",
    "Decision",
    "DedupSettings",
    "Kind",
    "MemorySketchIndex",
    "OnUpdate",
    "Reason",
    "Sketch",
    "SketchIndex",
    "StoryDecider",
    "alert_round",
    "band_keys",
    "canonical_url",
    "containment",
    "content_hash",
    "item_key",
    "place",
    "similarity",
    "sketch",
]

log = logging.getLogger("newswatch.dedup")


async def place(
    index: SketchIndex,
    decider: StoryDecider,
    s: Sketch,
    published: datetime,
    previous: Candidate | None = None,
) -> Decision:
    """Decide the story of an article; the caller stores it and then ``index.add``s it.

    ``previous`` is the stored article with the same (source, item_key): an item seen before
    stays in its story without a lookup.
    """
    found = [] if previous else await index.candidates(band_keys(s), decider.since(published))
    decision = decider.decide(s, published, found, previous)
    log.debug(
        "placed: kind=%s story_id=%s reason=%s score=%.2f candidates=%d",
        decision.kind.value,
        decision.story_id,
        decision.reason.value,
        decision.score,
        len(found),
    )
    return decision
