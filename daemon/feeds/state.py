"""What a poll's outcome does to a feed's stored state: pure functions over plain values.

Each returns the full set of state columns (``storage.feeds.STATE_COLUMNS``), so results of
many polls are written in one batch and nothing about a feed is ever left half-updated.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from daemon.feeds.schedule import (
    Backoff,
    Bounds,
    adapt_interval,
    backoff_delay,
    honour_hints,
    is_broken,
)
from storage.feeds import FeedState

OK, UNCHANGED, NOT_MODIFIED = "200", "200 unchanged", "304"


@dataclass(slots=True)  # not frozen: one is made per poll, and a frozen one costs 3x as much
class Success:
    """A poll that reached the feed: new validators, what it held, the server's hints."""

    status: str
    etag: str | None
    last_modified: str | None
    body_hash: str | None
    new_items: int = 0
    gap: float | None = None
    hints: tuple[float | None, ...] = ()
    warning: str | None = None
    moved_to: str | None = None


def _base(state: FeedState, now: datetime) -> dict[str, Any]:
    return {
        "id": state.id,
        "url": state.url,
        "etag": state.etag,
        "last_modified": state.last_modified,
        "body_hash": state.body_hash,
        "last_poll_at": now,
        "last_success_at": state.last_success_at,
        "error_count": state.error_count,
        "first_error_at": state.first_error_at,
        "items_seen": state.items_seen,
        "interval_seconds": state.interval_seconds,
        "enabled": True,
        "disabled_reason": None,
        "last_error": None,
    }


def after_success(
    state: FeedState, bounds: Bounds, now: datetime, result: Success
) -> dict[str, Any]:
    """The error streak ends; the interval adapts; a 304 keeps the validators we had."""
    interval = adapt_interval(
        state.interval_seconds, bounds, new_items=result.new_items, gap=result.gap
    )
    delay = honour_hints(interval, bounds, *result.hints)
    # Every column at once, not _base() updated: this runs for every poll, mostly 304s.
    return {
        "id": state.id,
        "url": result.moved_to or state.url,
        "etag": result.etag or state.etag,
        "last_modified": result.last_modified or state.last_modified,
        "body_hash": result.body_hash or state.body_hash,
        "last_poll_at": now,
        "last_success_at": now,
        "last_status": result.status,
        "last_error": result.warning,
        "error_count": 0,
        "first_error_at": None,
        "items_seen": state.items_seen + result.new_items,
        "interval_seconds": interval,
        "enabled": True,
        "disabled_reason": None,
        "next_poll_at": now + timedelta(seconds=delay),
    }


def after_error(
    state: FeedState, now: datetime, status: str, error: str, policy: Backoff, rand: float
) -> dict[str, Any]:
    """One more counted error; the wait grows with the streak, and the feed is never dropped.

    The body hash is forgotten so the next good answer is parsed even if its bytes match
    the document that failed.
    """
    errors = state.error_count + 1
    values = _base(state, now)
    values.update(
        body_hash=None,
        last_status=status,
        last_error=error[:2000],
        error_count=errors,
        first_error_at=state.first_error_at or now,
        next_poll_at=now + timedelta(seconds=backoff_delay(errors, policy, rand)),
    )
    return values


def after_throttle(
    state: FeedState, now: datetime, status: str, error: str, delay: float
) -> dict[str, Any]:
    """The server asked us to come back later (429/503 with ``Retry-After``): we do exactly
    that, without counting an error: it answered, and said when."""
    values = _base(state, now)
    values.update(
        last_status=status,
        last_error=error[:2000],
        next_poll_at=now + timedelta(seconds=delay),
    )
    return values


def after_gone(state: FeedState, now: datetime, reason: str) -> dict[str, Any]:
    """410: the publisher removed the feed; it stays visible, disabled, with the reason."""
    values = _base(state, now)
    values.update(
        last_status="410",
        last_error=reason,
        enabled=False,
        disabled_reason=reason,
        next_poll_at=None,
    )
    return values


def newly_broken(state: FeedState, now: datetime, broken_after: float) -> bool:
    """True on the one failure that pushes the streak past ``broken_after`` (logged once)."""
    first = state.first_error_at or now
    return is_broken(first, now, broken_after) and not is_broken(
        state.first_error_at, state.last_poll_at or now, broken_after
    )
