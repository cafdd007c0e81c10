"""Where sketches are looked up: the interface the store implements, and an in-memory one.

The store keeps one row per (lookup key, article) with the article's story and time; finding
candidates is ``WHERE band_key IN (…) AND published >= :since`` on an index, so its cost grows
with the number of near-duplicates, not with the size of the archive.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import NamedTuple, Protocol

from daemon.dedup.sketch import Sketch

# A key shared by very many articles (a feed whose every item says only "Live updates") would
# make one lookup return all of them; only the most recent ones per key are worth comparing.
DEFAULT_PER_KEY_LIMIT = 50


class Candidate(NamedTuple):
    """A stored article that shares a lookup key with the one being placed."""

    story_id: int
    article_id: int
    sketch: Sketch
    published: datetime


class SketchIndex(Protocol):
    async def candidates(self, keys: Sequence[int], since: datetime) -> list[Candidate]:
        """Articles published at or after ``since`` sharing any key, each listed once."""
        ...

    async def add(
        self,
        story_id: int,
        article_id: int,
        keys: Sequence[int],
        sketch: Sketch,
        published: datetime,
    ) -> None: ...

    async def merge(self, story_id: int, others: Sequence[int]) -> None:
        """These stories are one from now on, kept under the oldest (lowest) id."""
        ...


class MemorySketchIndex:
    """A ``SketchIndex`` in a dict of key -> entries kept in published order.

    Used by tests and the benchmark; the store's index has the same behaviour, with the per
    key limit as ``LIMIT`` on the index scan.
    """

    def __init__(self, per_key_limit: int = DEFAULT_PER_KEY_LIMIT) -> None:
        self._per_key_limit = per_key_limit
        self._by_key: dict[int, list[Candidate]] = {}
        self._count = 0
        self._into: dict[int, int] = {}  # a merged story -> the story it went into

    def __len__(self) -> int:
        return self._count

    async def candidates(self, keys: Sequence[int], since: datetime) -> list[Candidate]:
        found: dict[int, Candidate] = {}
        for key in keys:
            for entry in self._recent(self._by_key.get(key, ()), since):
                found.setdefault(entry.article_id, entry)
        if not self._into:
            return list(found.values())
        return [c._replace(story_id=self.story_of(c.story_id)) for c in found.values()]

    def story_of(self, story_id: int) -> int:
        """The story a stored story id stands for now, after merges."""
        while story_id in self._into:
            story_id = self._into[story_id]
        return story_id

    async def merge(self, story_id: int, others: Sequence[int]) -> None:
        roots = sorted({self.story_of(s) for s in (story_id, *others)})
        for other in roots[1:]:  # the oldest survives, as in the store
            self._into[other] = roots[0]

    def _recent(self, entries: Sequence[Candidate], since: datetime) -> Iterable[Candidate]:
        start = bisect.bisect_left(entries, since, key=lambda c: c.published)
        return entries[max(start, len(entries) - self._per_key_limit) :]

    async def add(
        self,
        story_id: int,
        article_id: int,
        keys: Sequence[int],
        sketch: Sketch,
        published: datetime,
    ) -> None:
        entry = Candidate(story_id, article_id, sketch, published)
        by_key = self._by_key
        for key in set(keys):
            entries = by_key.get(key)
            # Most keys are new, and articles mostly come in published order: a store group
            # adds 67 keys an article, and sorting each in cost a call per comparison.
            if entries is None:
                by_key[key] = [entry]
            elif entries[-1].published <= published:
                entries.append(entry)
            else:
                bisect.insort_right(entries, entry, key=lambda c: c.published)
        self._count += 1

    async def prune(self, before: datetime) -> int:
        """Forget articles published before ``before`` (retention); returns how many."""
        gone: set[int] = set()
        for key in list(self._by_key):
            entries = self._by_key[key]
            cut = bisect.bisect_left(entries, before, key=lambda c: c.published)
            if cut:
                gone.update(e.article_id for e in entries[:cut])
                if cut == len(entries):
                    del self._by_key[key]
                else:
                    del entries[:cut]
        self._count -= len(gone)
        return len(gone)
