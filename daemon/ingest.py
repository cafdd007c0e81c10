"""The shared tail of every source: place each article in its story, match it, enqueue alerts.

Everything for one input happens in the caller's transaction, so an article, its sketch bands
and the alerts it caused are committed together or not at all.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import NamedTuple

from sqlalchemy.ext.asyncio import AsyncSession

from alerts.match import Matcher
from alerts.payload import build_payload
from daemon import metrics
from daemon.dedup import (
    Candidate,
    Decision,
    Kind,
    MemorySketchIndex,
    Sketch,
    StoryDecider,
    alert_round,
)
from daemon.prepared import Entry, Prepared, key_of, prepare
from storage import outbox, sketches
from storage.articles import (
    NewArticle,
    PreviousItem,
    create_stories,
    insert_articles,
    previous_items,
    touch_stories,
    update_article,
)
from storage.backlog import BandBacklog, Indexed
from storage.sql import serialize_placement
from storage.stories import current_stories, merge_stories
from storage.types import Article

log = logging.getLogger("newswatch.ingest")
DEFAULT_DECIDER = StoryDecider()


@dataclass(slots=True)
class IngestResult:
    new: int = 0
    seen: int = 0
    updated: int = 0
    alert_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Pipeline:
    """What the settings in force make of each new article: its rules and its story grouping.

    Sources take a callable returning the current one, so a settings reload reaches the next
    article without touching work under way.
    """

    matcher: Matcher
    decider: StoryDecider = DEFAULT_DECIDER
    bands: BandBacklog | None = None  # where new articles' bands wait (SQLite), if anywhere


class Placed(NamedTuple):
    kind: Kind
    story_id: int
    article_id: int
    updates: int


# Stories and articles placed in this batch have no ids until it is written; these stand in
# for them. They sort after every real id, as the newest stories do, and the two kinds never
# share a number.
PENDING_ID = 1 << 62
PENDING_ARTICLE = 3 << 61
# Placing and matching a large batch is CPU work: the event loop gets a turn this often.
YIELD_EVERY = 16


class _Batch:
    """The articles of one input placed in their stories, then written in a few statements.

    Lookups for the whole batch are one query; the articles placed earlier in the batch are
    found in memory, so a batch groups its own copies exactly as one-by-one storage would.
    """

    def __init__(
        self, session: AsyncSession, decider: StoryDecider, backlog: BandBacklog | None
    ) -> None:
        self.session = session
        self.decider = decider
        self.backlog = backlog
        # What the lookup found, each decoded once, and where to find it by band key.
        self.stored: list[Candidate] = []
        self.by_key: dict[int, list[int]] = {}
        self.fresh = MemorySketchIndex()
        self.new_stories: dict[int, str] = {}  # pending id -> title
        self.counts: dict[int, int] = {}  # story -> articles added by this batch
        # (source, item, pending story, pending article), then the same once stored, real ids
        self.inserts: list[tuple[int, Prepared, int, int]] = []
        self.written: list[tuple[Prepared, int, int]] = []
        self.rebuild = False  # ``fresh`` still holds pending ids of written articles
        # Stories an article of this batch showed to be one (pending or stored ids), applied
        # to the store when the batch is written; ``into`` maps each merged id to its survivor.
        self.merges: list[set[int]] = []
        self.into: dict[int, int] = {}
        self.moved: dict[int, int] = {}  # stored story -> survivor, after the last write

    async def look_up(self, items: Sequence[Prepared]) -> None:
        keys = {key for item in items for key in item.bands}
        if not keys:
            return
        since = min(self.decider.since(item.published) for item in items)
        rows = await sketches.band_candidates(self.session, list(keys), since, backlog=self.backlog)
        # Band rows keep the story they were written under; a merge since then is read here.
        merged = await current_stories(self.session, {row.story_id for row in rows})
        for row in rows:
            for key in row.keys:
                self.by_key.setdefault(key, []).append(len(self.stored))
            sketch = Sketch.from_bytes(row.sketch)
            story = merged.get(row.story_id, row.story_id)
            self.stored.append(Candidate(story, row.article_id, sketch, row.published))

    def root(self, story: int) -> int:
        while story in self.into:
            story = self.into[story]
        return story

    async def decide(self, item: Prepared, previous: Candidate | None) -> Decision:
        if previous is not None:
            return self.decider.decide(item.sketch, item.published, [], previous)
        if self.rebuild:
            self.fresh, self.rebuild = MemorySketchIndex(), False
            for done, story, article in self.written:
                await self.fresh.add(story, article, done.bands, done.sketch, done.published)
        shared = {index for key in item.bands for index in self.by_key.get(key, ())}
        found = [self.stored[index] for index in sorted(shared)]  # in the lookup's order
        found += await self.fresh.candidates(item.bands, self.decider.since(item.published))
        if self.into:
            found = [c._replace(story_id=self.root(c.story_id)) for c in found]
        decision = self.decider.decide(item.sketch, item.published, found)
        if not decision.merges or decision.story_id is None:
            return decision
        group = {decision.story_id, *decision.merges}
        # Stored ids are below pending ones, so the oldest stored story survives, as in the store.
        survivor = min(group)
        for story in group - {survivor}:
            self.into[story] = survivor
        await self.fresh.merge(survivor, sorted(group - {survivor}))
        self.merges.append(group)
        return replace(decision, story_id=survivor)

    async def add(self, source: int, item: Prepared, decision: Decision) -> tuple[int, int]:
        """Pending ids for a new article; stories are created and counted when written."""
        if decision.kind is Kind.JOIN and decision.story_id is not None:
            story = decision.story_id
        else:
            story = PENDING_ID + len(self.new_stories)
            self.new_stories[story] = item.article.title
        self.counts[story] = self.counts.get(story, 0) + 1
        article = PENDING_ARTICLE + len(self.inserts)
        self.inserts.append((source, item, story, article))
        await self.fresh.add(story, article, item.bands, item.sketch, item.published)
        return story, article

    async def write(self) -> dict[int, int]:
        """Store what was added; real ids for the pending ones (articles a concurrent writer
        stored first are missing)."""
        pending = list(self.new_stories)
        titles = [(self.new_stories[story], self.counts[story]) for story in pending]
        created = await create_stories(self.session, titles)
        ids = dict(zip(pending, created, strict=True))
        rows = [
            NewArticle(
                source_id=source,
                story_id=ids.get(story, story),
                item_key=item.key,
                content_hash=item.content_hash,
                canonical_url=item.canonical_url,
                sketch=item.sketch_bytes,
                article=item.article,
            )
            for source, item, story, _ in self.inserts
        ]
        stored = await insert_articles(self.session, rows)
        joined = {story: n for story, n in self.counts.items() if story not in self.new_stories}
        await touch_stories(self.session, joined)
        survivors = await self._merge(ids)
        bands = []
        for source, item, story, placeholder in self.inserts:
            row = stored.get((source, item.key))
            if row is not None:
                ids[placeholder] = row
                real = ids.get(story, story)
                real = survivors.get(real, real)
                bands.append(Indexed(real, row, item.bands, item.published, item.sketch_bytes))
                # Later articles of the batch must still find it, now under its real ids.
                self.written.append((item, real, row))
        await sketches.index_articles(self.session, bands, self.backlog)
        self.rebuild = True
        self.new_stories, self.counts, self.inserts = {}, {}, []
        return ids

    async def _merge(self, ids: dict[int, int]) -> dict[int, int]:
        """Apply the batch's merges to the store: real story id -> the story it is now part of.

        Pending stories merged away are mapped in ``ids`` to their survivor, so the alerts of
        their articles are asked for under it and the unique key can stop a repeat."""
        survivors: dict[int, int] = {}
        for group in self.merges:
            real = {survivors.get(ids.get(s, s), ids.get(s, s)) for s in group}
            into = await merge_stories(self.session, real)
            # Values stay survivors, never merged ids: what pointed into the group now points
            # at the group's survivor, so one lookup always gives the story as it is now.
            survivors.update({k: into for k, v in survivors.items() if v in real})
            survivors.update({story: into for story in real if story != into})
        for pending in self.new_stories:
            if ids[pending] in survivors:
                ids[pending] = survivors[ids[pending]]
        if survivors:
            self.stored = [
                c._replace(story_id=survivors.get(c.story_id, c.story_id)) for c in self.stored
            ]
            self.written = [(i, survivors.get(s, s), a) for i, s, a in self.written]
        self.moved.update(survivors)
        self.merges, self.into = [], {}
        return survivors


async def ingest_articles(
    session: AsyncSession,
    *,
    source_id: int,
    articles: Sequence[Entry],
    pipeline: Pipeline,
    new_only: bool = False,
) -> IngestResult:
    """One source's articles: see :func:`ingest_many`."""
    batch = [(source_id, articles)]
    return (await ingest_many(session, batch, pipeline=pipeline, new_only=new_only))[0]


async def ingest_many(
    session: AsyncSession,
    inputs: Sequence[tuple[int, Sequence[Entry]]],
    *,
    pipeline: Pipeline,
    new_only: bool = False,
) -> list[IngestResult]:
    """Place, store and match the articles of several (source id, articles) inputs in a
    handful of statements: per-article round trips to the database, not the work itself,
    used to set the pace. Inputs are placed in order, each seeing the ones before it.

    Placement waits for any other transaction placing articles (``serialize_placement``):
    copies of one report stored at the same moment must find each other.

    ``new_only``: an item already stored is seen, whatever its text now (a feed's entries
    are compared by identity, since many feeds rewrite their old entries on every fetch).
    """
    results = [IngestResult() for _ in inputs]
    await serialize_placement(session)
    keyed = [
        (n, source, key_of(a), a) for n, (source, articles) in enumerate(inputs) for a in articles
    ]
    known = await previous_items(session, [(source, key) for _, source, key, _ in keyed])
    if new_only and known:
        for n, source, key, _ in keyed:
            results[n].seen += (source, key) in known
        keyed = [entry for entry in keyed if (entry[1], entry[2]) not in known]
    # Sketched here only if no parser worker did it already.
    work = [(n, source, a if isinstance(a, Prepared) else prepare(a)) for n, source, _, a in keyed]
    batch = _Batch(session, pipeline.decider, pipeline.bands)
    await batch.look_up([item for _, source, item in work if (source, item.key) not in known])
    placed: list[tuple[int, Article, Placed]] = []
    for done, (n, source, item) in enumerate(work, 1):
        if done % YIELD_EVERY == 0:
            await asyncio.sleep(0)
        result, at = results[n], (source, item.key)
        stored = known.get(at)
        previous = _as_candidate(stored)
        if stored is not None and previous is None:
            result.seen += 1  # stored before sketches existed: treat as already seen
            continue
        decision = await batch.decide(item, previous)
        if decision.kind is Kind.SAME:
            result.seen += 1
        elif decision.kind is Kind.UPDATE and stored is not None:
            if stored.article_id >= PENDING_ID:
                # The same item twice in one batch, changed: write the first, then update it.
                _resolve(placed, known, await batch.write(), batch.moved)
                stored = known[at]
            update = await _update(session, item, stored, pipeline.bands)
            known[at] = stored._replace(sketch=item.sketch_bytes, update_count=update.updates)
            placed.append((n, item.article, update))
            result.updated += 1
        else:
            story, row = await batch.add(source, item, decision)
            known[at] = PreviousItem(row, story, item.sketch_bytes, item.published, 0)
            placed.append((n, item.article, Placed(decision.kind, story, row, 0)))
            _log_placed(row, story, decision)
    _resolve(placed, known, await batch.write(), batch.moved)
    await _raise_alerts(session, pipeline.matcher, placed, results)
    return results


async def _raise_alerts(
    session: AsyncSession,
    matcher: Matcher,
    placed: list[tuple[int, Article, Placed]],
    results: list[IngestResult],
) -> None:
    alerts: list[list[outbox.NewAlert]] = [[] for _ in results]
    for done, (n, article, where) in enumerate(placed, 1):
        if done % YIELD_EVERY == 0:
            await asyncio.sleep(0)
        if where.article_id >= PENDING_ID:
            continue  # a concurrent writer stored this item first
        if where.kind is not Kind.UPDATE:
            results[n].new += 1
        if where.kind is Kind.NEW:
            metrics.STORIES.inc()
        alerts[n].extend(_alerts(matcher, article, where))
    for result, wanted in zip(results, alerts, strict=True):
        result.alert_ids = await outbox.enqueue(session, wanted) if wanted else []


def _resolve(
    placed: list[tuple[int, Article, Placed]],
    known: dict[tuple[int, str], PreviousItem],
    ids: dict[int, int],
    moved: dict[int, int],
) -> None:
    """Swap pending ids for the stored ones once a batch is written, and merged stories for
    the ones they went into."""
    for index, (n, article, where) in enumerate(placed):
        story, row = ids.get(where.story_id, where.story_id), ids.get(where.article_id)
        story = moved.get(story, story)
        if row is not None or story != where.story_id:
            where = where._replace(story_id=story, article_id=row or where.article_id)
            placed[index] = (n, article, where)
    for key, item in known.items():
        if item.article_id >= PENDING_ID and item.article_id in ids:
            story = ids.get(item.story_id, item.story_id)
            known[key] = item._replace(article_id=ids[item.article_id], story_id=story)


async def _update(
    session: AsyncSession, item: Prepared, stored: PreviousItem, backlog: BandBacklog | None
) -> Placed:
    updates = await update_article(
        session,
        stored.article_id,
        content_hash=item.content_hash,
        canonical_url=item.canonical_url,
        sketch=item.sketch_bytes,
        article=item.article,
    )
    await sketches.add_bands(
        session,
        story_id=stored.story_id,
        article_id=stored.article_id,
        keys=item.bands,
        published=item.published,
        replace=True,
        sketch=item.sketch_bytes,
        backlog=backlog,
    )
    return Placed(Kind.UPDATE, stored.story_id, stored.article_id, updates)


def _log_placed(article_id: int, story_id: int, decision: Decision) -> None:
    log.debug(
        "placed article=%s story=%s kind=%s reason=%s score=%.2f",
        article_id,
        story_id,
        decision.kind.value,
        decision.reason.value,
        decision.score,
    )


def _as_candidate(stored: PreviousItem | None) -> Candidate | None:
    if stored is None or stored.sketch is None:
        return None
    sketch = Sketch.from_bytes(stored.sketch)
    return Candidate(stored.story_id, stored.article_id, sketch, stored.published)


def _alerts(matcher: Matcher, article: Article, placed: Placed) -> list[outbox.NewAlert]:
    alerts: list[outbox.NewAlert] = []
    for hit in matcher.match(article):
        metrics.MATCHES.labels(hit.rule.name).inc()
        round_ = alert_round(placed.kind, hit.rule.on_update, placed.updates)
        if round_ is None:
            continue
        payload = build_payload(hit, article, placed.story_id)
        if placed.kind is Kind.UPDATE:
            payload["update"] = placed.updates
        alerts.extend(
            outbox.NewAlert(
                rule=hit.rule.name,
                story_id=placed.story_id,
                article_id=placed.article_id,
                channel=channel,
                payload=payload,
                round=round_,
            )
            for channel in hit.rule.channels
        )
        log.info(
            "match rule=%r article_id=%s story_id=%s kind=%s title=%r terms=%s",
            hit.rule.name,
            placed.article_id,
            placed.story_id,
            placed.kind.value,
            article.title,
            ", ".join(hit.terms),
        )
    return alerts
