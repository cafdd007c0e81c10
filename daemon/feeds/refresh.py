"""One poll of one feed, top to bottom: fetch, decide by status, parse if changed, store.

Every way a poll can end becomes state values (``daemon.feeds.state``); nothing a server
does escapes as an exception, so one feed can never stop the others.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from alerts.http import parse_retry_after
from daemon import metrics
from daemon.errors import FetchError, ParseError
from daemon.feeds import state as st
from daemon.feeds.fetch import Fetcher, Response, Validators
from daemon.feeds.fulltext import add_full_text, wanted_pages
from daemon.feeds.parsing import ParsePool, PreparedFeed
from daemon.feeds.schedule import (
    Backoff,
    Bounds,
    parse_max_age,
    publishing_gap,
    retry_after_delay,
)
from daemon.feeds.writer import StoreWriter
from daemon.ingest import IngestResult, Pipeline
from daemon.prepared import Entry, article_of, key_of, prepare
from daemon.settings import FeedSettings, PollingSettings
from storage import feeds as store
from storage.articles import previous_items

log = logging.getLogger("newswatch.feeds")
THROTTLED = frozenset({429, 503})
# Feeds parsed or being parsed whose entries are not stored yet. Fetching outruns storing when
# many feeds have news at once; without a cap the parsed entries pile up in memory, and every
# full garbage collection walks all of them, pausing the event loop. The cap keeps both parser
# workers and several store groups supplied.
PARSE_AHEAD = 48
# Feeds waiting to be stored that make a group without more waiting: half the parse-ahead, so
# the other half go on parsing while the group is written.
STORE_READY_AT = PARSE_AHEAD // 2


@dataclass(slots=True)
class Polled:
    """A finished poll: ``values`` to record, unless the poll recorded them with its articles."""

    values: dict[str, Any] | None
    new: int = 0
    failed: bool = False
    alert_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Job:
    state: store.FeedState
    feed: FeedSettings

    @property
    def zone(self) -> ZoneInfo | None:
        return ZoneInfo(self.feed.timezone) if self.feed.timezone else None


class Refresher:
    def __init__(
        self,
        *,
        fetcher: Fetcher,
        parser: ParsePool,
        sessions: async_sessionmaker[AsyncSession],
        pipeline: Callable[[], Pipeline],
        polling: PollingSettings,
        default_interval: float,
        owner: str,
        store_slots: asyncio.Semaphore,
        clock: Callable[[], datetime],
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.fetcher = fetcher
        self.parser = parser
        self.sessions = sessions
        self.pipeline = pipeline
        self.polling = polling
        self.default_interval = default_interval
        self.owner = owner
        self.store_slots = store_slots
        self.clock = clock
        self.rand = rand
        self.backoff = Backoff(polling.error_backoff, polling.error_backoff_cap)
        self.writer = StoreWriter(
            sessions, pipeline, owner=owner, slots=store_slots, rand=rand, ready_at=STORE_READY_AT
        )
        self.ahead = asyncio.Semaphore(PARSE_AHEAD)
        # Per feed, digests of the entries its last stored poll listed (see parse_feed_job).
        self.seen: dict[int, bytes] = {}
        self._bounds: dict[str, tuple[FeedSettings, Bounds]] = {}

    def bounds(self, feed: FeedSettings) -> Bounds:
        """Resolved once per feed's settings: every poll needs them, mostly for a 304."""
        known = self._bounds.get(feed.key)
        if known is not None and known[0] is feed:
            return known[1]
        bounds = Bounds.resolve(
            interval=feed.interval,
            min_interval=feed.min_interval,
            max_interval=feed.max_interval,
            default_interval=self.default_interval,
            default_min=self.polling.min_interval,
            default_max=self.polling.max_interval,
        )
        self._bounds[feed.key] = (feed, bounds)
        return bounds

    async def refresh(self, job: Job) -> Polled:
        state, feed = job.state, job.feed
        validators = Validators(state.etag, state.last_modified)
        try:
            with metrics.FETCH_SECONDS.time():
                response = await self.fetcher.fetch(state.url, validators, feed.headers)
        except FetchError as exc:
            return self.failed(job, "network", str(exc))
        metrics.FETCHED_BYTES.inc(len(response.body))
        if response.moved_to:
            log.warning(
                "feed moved permanently source=%s from=%s to=%s (settings still say %s; "
                "polling the new address)",
                state.name,
                state.url,
                response.moved_to,
                state.configured_url,
            )
        return await self._answer(job, response)

    async def _answer(self, job: Job, response: Response) -> Polled:
        status = response.status
        if status == 304:
            return self._succeeded(job, response, st.NOT_MODIFIED, None)
        if status == 410:
            return self._gone(job, response)
        if status in THROTTLED:
            delay = retry_after_delay(
                parse_retry_after(response.headers.get("Retry-After"), self.clock()), self.backoff
            )
            if delay is not None:
                return self._throttled(job, status, delay)
        if not 200 <= status < 300:
            return self.failed(job, str(status), f"HTTP {status} from {response.url}")
        return await self._document(job, response)

    async def _document(self, job: Job, response: Response) -> Polled:
        digest = hashlib.sha256(response.body).hexdigest()
        if digest == job.state.body_hash:
            return self._succeeded(job, response, st.UNCHANGED, digest)
        async with self.ahead:
            return await self._parse(job, response, digest)

    async def _parse(self, job: Job, response: Response, digest: str) -> Polled:
        try:
            seen = self.seen.get(job.state.id, b"")
            prepared = await self.parser.feed(response.body, job.state.name, job.zone, seen)
        except ParseError as exc:
            return self.failed(job, "unreadable", str(exc))
        except Exception as exc:  # a parser bug must cost one poll, never the poller
            log.exception("parser failed source=%s url=%s", job.state.name, response.url)
            return self.failed(job, "unreadable", f"parser error: {exc!r}")
        parsed = prepared.feed
        if not parsed.articles and not parsed.known and parsed.bozo_error:
            return self.failed(job, "unreadable", f"not a readable feed: {parsed.bozo_error}")
        return await self._store(job, response, prepared, digest)

    async def _store(
        self, job: Job, response: Response, prepared: PreparedFeed, digest: str
    ) -> Polled:
        parsed, items, _ = prepared
        if job.feed.full_text and items:
            items = await self._full_text(job, await self._fresh(job, items))
        ttl = parsed.ttl_minutes * 60.0 if parsed.ttl_minutes else None
        result = st.Success(
            status=st.OK,
            etag=response.etag,
            last_modified=response.last_modified,
            body_hash=digest,
            gap=publishing_gap(
                [article_of(item).published for item in items]
                + [published for _, published in parsed.known]
            ),
            hints=(ttl, parse_max_age(response.headers)),
            warning=parsed.bozo_error,
            moved_to=response.moved_to,
        )
        outcome = await self._commit(job, items, result)
        self.seen[job.state.id] = prepared.seen
        level = logging.INFO if outcome.new else logging.DEBUG
        log.log(
            level,
            "polled source=%s status=200 entries=%d new=%d alerts=%d",
            job.state.name,
            len(parsed.articles) + len(parsed.known),
            outcome.new,
            len(outcome.alert_ids),
        )
        metrics.POLLS.labels("ok").inc()
        if outcome.new:
            metrics.ARTICLES.labels(job.state.name, "feed").inc(outcome.new)
        return Polled(None, outcome.new, alert_ids=outcome.alert_ids)

    async def _commit(self, job: Job, items: list[Entry], result: st.Success) -> IngestResult:
        """Entries, alerts and the feed's new state are written in one transaction."""
        bounds = self.bounds(job.feed)

        def state(new: int) -> dict[str, Any]:
            done = dataclasses.replace(result, new_items=new)
            return st.after_success(job.state, bounds, self.clock(), done)

        return await self.writer.store(job.state.name, job.state.id, items, state)

    async def _fresh(self, job: Job, items: list[Entry]) -> list[Entry]:
        """Entries not stored yet, found in one query, so only their pages are fetched.
        Storage's unique key still decides in the end: a race with another replica stores
        nothing twice."""
        keys = [key_of(item) for item in items]
        async with self.sessions() as session:
            known = await previous_items(session, [(job.state.id, key) for key in keys])
        return [
            item for item, key in zip(items, keys, strict=True) if (job.state.id, key) not in known
        ]

    async def _full_text(self, job: Job, items: list[Entry]) -> list[Entry]:
        articles = [article_of(item) for item in items]
        indices = wanted_pages(articles, (), self.polling.full_text_limit)
        if not indices:
            return items
        fuller = await add_full_text(
            articles,
            indices,
            fetcher=self.fetcher,
            parser=self.parser,
            source=job.state.name,
            zone=job.zone,
        )
        return [
            item if article is article_of(item) else prepare(article)
            for item, article in zip(items, fuller, strict=True)
        ]

    def _succeeded(self, job: Job, response: Response, status: str, digest: str | None) -> Polled:
        result = st.Success(
            status=status,
            etag=response.etag,
            last_modified=response.last_modified,
            body_hash=digest,
            hints=(parse_max_age(response.headers),),
            moved_to=response.moved_to,
        )
        log.debug("polled source=%s status=%s", job.state.name, status)
        metrics.POLLS.labels("not_modified" if status == st.NOT_MODIFIED else "unchanged").inc()
        return Polled(st.after_success(job.state, self.bounds(job.feed), self.clock(), result))

    def _gone(self, job: Job, response: Response) -> Polled:
        reason = f"410 Gone: the publisher removed the feed at {response.url}"
        log.warning("feed disabled source=%s reason=%s", job.state.name, reason)
        metrics.POLLS.labels("gone").inc()
        return Polled(st.after_gone(job.state, self.clock(), reason))

    def _throttled(self, job: Job, status: int, delay: float) -> Polled:
        error = f"HTTP {status}: the server asked to wait {delay:g}s (Retry-After)"
        log.info("throttled source=%s status=%d retry_in=%gs", job.state.name, status, delay)
        metrics.POLLS.labels("throttled").inc()
        return Polled(st.after_throttle(job.state, self.clock(), str(status), error, delay))

    def failed(self, job: Job, status: str, error: str) -> Polled:
        """A counted error: back off, and say so loudly once the feed counts as broken."""
        metrics.POLLS.labels("http_error" if status.isdigit() else f"{status}_error").inc()
        now = self.clock()
        values = st.after_error(job.state, now, status, error, self.backoff, self.rand())
        retry_in = (values["next_poll_at"] - now).total_seconds()
        log.warning(
            "poll failed source=%s url=%s status=%s errors=%d retry_in=%.0fs error=%s",
            job.state.name,
            job.state.url,
            status,
            values["error_count"],
            retry_in,
            error,
        )
        if st.newly_broken(job.state, now, self.polling.broken_after):
            log.error(
                "feed broken source=%s url=%s failing_since=%s errors=%d last_error=%s "
                "(still retried every %.0fs at most)",
                job.state.name,
                job.state.url,
                values["first_error_at"].isoformat(timespec="seconds"),
                values["error_count"],
                error,
                self.backoff.cap,
            )
        return Polled(values, failed=True)
