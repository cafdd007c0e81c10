"""Prometheus metrics: counters the work bumps as it goes, gauges read when scraped.

Counters live in one registry of our own, not prometheus-client's global one, so a test or a
command that imports the code twice never meets "duplicated timeseries". What the database
knows better than any counter (the outbox's depth, alerts by status, drop files by status) is
read at scrape time by ``daemon.admin``, so it is right even after a restart or with other
replicas writing.
"""

from __future__ import annotations

import time

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
)

from alerts.channels import DeliveryError, Outbound
from storage.periodic import Periodic

disable_created_metrics()  # type: ignore[no-untyped-call] # a "_created" series per counter doubles the page for nothing
REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)

_FETCH_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
_DELIVERY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

POLLS = Counter(
    "newswatch_polls",
    "Feed polls by how they ended (ok, not_modified, unchanged, gone, throttled, or the error).",
    ["outcome"],
    registry=REGISTRY,
)
FETCH_SECONDS = Histogram(
    "newswatch_fetch_seconds",
    "Time to fetch a feed, redirects included.",
    buckets=_FETCH_BUCKETS,
    registry=REGISTRY,
)
FETCHED_BYTES = Counter(
    "newswatch_fetched_bytes",
    "Bytes of feed documents fetched (after decompression).",
    registry=REGISTRY,
)
ARTICLES = Counter(
    "newswatch_articles",
    "New articles stored, by source and its kind (feed or drop).",
    ["source", "kind"],
    registry=REGISTRY,
)
STORIES = Counter("newswatch_stories", "Stories started by a new article.", registry=REGISTRY)
MATCHES = Counter(
    "newswatch_matches", "Articles a rule matched, by rule.", ["rule"], registry=REGISTRY
)
DELIVERIES = Counter(
    "newswatch_deliveries",
    "Delivery attempts by channel and result (delivered or failed).",
    ["channel", "result"],
    registry=REGISTRY,
)
DELIVERY_SECONDS = Histogram(
    "newswatch_delivery_seconds",
    "Time a channel took to accept or refuse a message.",
    ["channel"],
    buckets=_DELIVERY_BUCKETS,
    registry=REGISTRY,
)
DELIVERY_ATTEMPTS = Histogram(
    "newswatch_delivery_attempts",
    "Attempts a message needed until it was delivered.",
    buckets=(1, 2, 3, 4, 5, 6, 8, 10),
    registry=REGISTRY,
)
LOOP_LAG = Gauge(
    "newswatch_event_loop_lag_seconds",
    "How late the event loop ran a timer, measured twice a second (the last value).",
    registry=REGISTRY,
)
LOOP_LAG_MAX = Gauge(
    "newswatch_event_loop_lag_max_seconds",
    "The largest event-loop lag seen since the previous scrape.",
    registry=REGISTRY,
)
PARSERS_BUSY = Gauge(
    "newswatch_parser_workers_busy", "Parser workers parsing a document now.", registry=REGISTRY
)
PARSERS = Gauge("newswatch_parser_workers", "Parser workers available.", registry=REGISTRY)

# Read from the database when scraped.
ALERTS = Gauge(
    "newswatch_alerts",
    "Alerts in the outbox by channel and status.",
    ["channel", "status"],
    registry=REGISTRY,
)
OUTBOX_DEPTH = Gauge(
    "newswatch_outbox_pending", "Alerts waiting to be delivered.", registry=REGISTRY
)
OUTBOX_OLDEST = Gauge(
    "newswatch_outbox_oldest_pending_seconds",
    "Age of the oldest alert waiting to be delivered (0 when none waits).",
    registry=REGISTRY,
)
DROP_FILES = Gauge(
    "newswatch_drop_files",
    "Drop files by status (ingested, quarantined, ...).",
    ["status"],
    registry=REGISTRY,
)
FEEDS = Gauge(
    "newswatch_feeds",
    "Configured feeds by state (ok, failing, broken, disabled).",
    ["state"],
    registry=REGISTRY,
)


class LagMonitor:
    """Measures how late the loop runs a timer: a loop held by one slow callback shows here
    before any fetch times out."""

    def __init__(self, every: float = 0.5) -> None:
        self.every = every
        self.worst = 0.0
        self._since = time.perf_counter()
        self._timer = Periodic("loop-lag", self._measure, every)

    def start(self) -> None:
        self._since = time.perf_counter()
        self._timer.start()

    async def _measure(self) -> None:
        now = time.perf_counter()
        lag = max(0.0, now - self._since - self.every)  # woken this late after its sleep
        self._since = now
        self.worst = max(self.worst, lag)
        LOOP_LAG.set(lag)
        LOOP_LAG_MAX.set(self.worst)

    def scraped(self) -> None:
        """A scrape read the worst lag: the next interval starts from nothing."""
        self.worst = 0.0

    async def close(self) -> None:
        await self._timer.stop()


def delivery_attempted(message: Outbound, seconds: float, error: DeliveryError | None) -> None:
    """The delivery worker's hook (``alerts`` knows nothing of Prometheus)."""
    DELIVERY_SECONDS.labels(message.channel).observe(seconds)
    DELIVERIES.labels(message.channel, "failed" if error else "delivered").inc()
    if error is None:
        DELIVERY_ATTEMPTS.observe(message.attempt)
