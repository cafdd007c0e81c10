"""When to poll a feed next: pure decisions, no clock, no network, no database.

Everything the poller learned (new items, publishing dates, ``<ttl>``, ``Cache-Control``,
``Retry-After``, the error streak) goes in; a delay comes out. Randomness is an argument so
tests can pin it and the jitter stays provable.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from storage.feeds import FeedStatus

# How much a quiet poll stretches the interval, and a busy one shrinks it.
GROW, SHRINK = 1.5, 0.5
# The fraction of a back-off delay that jitter may take away (never adds: the cap holds).
JITTER = 0.25
_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*\"?(\d+)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Bounds:
    """A feed's polling limits, already resolved from ``[[feeds]]`` over ``[polling]``."""

    start: float
    minimum: float
    maximum: float

    @classmethod
    def resolve(
        cls,
        *,
        interval: float | None,
        min_interval: float | None,
        max_interval: float | None,
        default_interval: float,
        default_min: float,
        default_max: float,
    ) -> Bounds:
        """A feed with only ``interval`` is polled at exactly that pace (the user said so);
        with ``min_interval``/``max_interval`` it adapts between them."""
        if interval is not None and min_interval is None and max_interval is None:
            return cls(interval, interval, interval)
        # A default never overrides what the user wrote: it gives way to their other values.
        given = [v for v in (interval, min_interval, max_interval) if v is not None]
        low = min_interval if min_interval is not None else min([default_min, *given])
        high = max_interval if max_interval is not None else max([default_max, *given])
        high = max(high, low)
        start = interval if interval is not None else default_interval
        return cls(_clamp(start, low, high), low, high)


@dataclass(frozen=True, slots=True)
class Backoff:
    base: float
    cap: float


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


def publishing_gap(published: Iterable[datetime | None], recent: int = 10) -> float | None:
    """The median gap in seconds between a feed's newest entries, or None without dates."""
    stamps = sorted({p for p in published if p is not None}, reverse=True)[: recent + 1]
    gaps = sorted((a - b).total_seconds() for a, b in itertools.pairwise(stamps))
    gaps = [g for g in gaps if g > 0]
    if not gaps:
        return None
    return gaps[len(gaps) // 2]


def adapt_interval(
    current: float | None, bounds: Bounds, *, new_items: int, gap: float | None
) -> float:
    """Poll about twice per publishing gap when dates tell it; else stretch when quiet and
    shrink when busy. Always within the feed's bounds."""
    base = current if current is not None else bounds.start
    if gap is not None and new_items:
        target = gap / 2
    elif new_items:
        target = base * SHRINK
    else:
        target = base * GROW
    return _clamp(target, bounds.minimum, bounds.maximum)


def honour_hints(interval: float, bounds: Bounds, *hints: float | None) -> float:
    """``<ttl>`` and ``max-age`` ask us not to come back sooner; the user's maximum still
    wins, so a feed that says "once a day" is not allowed to go stale past what was asked."""
    floor = max((h for h in hints if h is not None), default=0.0)
    return max(interval, min(floor, bounds.maximum))


def backoff_delay(errors: int, policy: Backoff, rand: float) -> float:
    """Exponential in the error streak, capped, with jitter below the step (``rand`` in [0,1))."""
    exponent = min(max(errors - 1, 0), 60)
    step = min(policy.cap, policy.base * (2.0**exponent))
    return step * (1.0 - JITTER * rand)


def retry_after_delay(retry_after: float | None, policy: Backoff) -> float | None:
    """The server's own ``Retry-After``, honoured but never beyond the back-off cap."""
    if retry_after is None:
        return None
    return _clamp(retry_after, 0.0, policy.cap)


def is_broken(first_error_at: datetime | None, now: datetime, broken_after: float) -> bool:
    return first_error_at is not None and now - first_error_at >= timedelta(seconds=broken_after)


def parse_max_age(headers: Mapping[str, str]) -> float | None:
    """``Cache-Control: max-age`` in seconds (``s-maxage`` is for shared caches, not us)."""
    match = _MAX_AGE.search(headers.get("Cache-Control", ""))
    return float(match.group(1)) if match else None


def feed_state(feed: FeedStatus, now: datetime, broken_after: float) -> str:
    """One word for a feed's health, the same in ``newswatch feeds``, the page and metrics."""
    if feed.disabled_reason:
        return "disabled"
    if not feed.enabled:
        return "not in settings"
    if is_broken(feed.first_error_at, now, broken_after):
        return "broken"
    return "failing" if feed.error_count else "ok"
