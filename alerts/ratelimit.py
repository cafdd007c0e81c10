"""Per-channel flood control: at most N messages per period, a sliding window in memory.

The window is per daemon process (replicas each allow N). What does not fit is not dropped:
the outbox holds it into one batch sent when the window has room again.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field

_SPEC = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*(s|sec|second|m|min|minute|h|hour|d|day)\s*$")
_PERIODS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60}
_PERIODS |= {"h": 3600, "hour": 3600, "d": 86400, "day": 86400}


@dataclass(frozen=True, slots=True)
class RateLimit:
    count: int
    period: float

    @classmethod
    def parse(cls, spec: str) -> RateLimit:
        """``"30/min"``, ``"100/hour"``, ``"5/10s"``."""
        match = _SPEC.match(spec.lower())
        if not match or int(match.group(1)) < 1:
            raise ValueError(f"expected a rate like '30/min' or '500/hour', got {spec!r}")
        multiple = int(match.group(2) or 1)
        return cls(int(match.group(1)), float(multiple * _PERIODS[match.group(3)]))


@dataclass
class RateLimiter:
    """A sliding-window counter over monotonic-free timestamps (seconds, caller's clock)."""

    limit: RateLimit
    _sent: deque[float] = field(default_factory=deque)

    def _expire(self, now: float) -> None:
        while self._sent and self._sent[0] <= now - self.limit.period:
            self._sent.popleft()

    def try_acquire(self, now: float) -> bool:
        """Count one message if the window has room; False means hold it."""
        self._expire(now)
        if len(self._sent) >= self.limit.count:
            return False
        self._sent.append(now)
        return True

    def record(self, now: float) -> None:
        """Count a message that goes regardless (a batch of what was held)."""
        self._expire(now)
        self._sent.append(now)

    def settle(self, admitted: float, delivered: float) -> None:
        """Move a message's stamp from when it was let through to when the receiver had it.

        Receivers count arrivals, and a slow first request would otherwise let the next
        window open before the receiver saw the first message leave its own.
        """
        try:
            self._sent.remove(admitted)
        except ValueError:
            return
        index = len(self._sent)
        while index and self._sent[index - 1] > delivered:
            index -= 1
        self._sent.insert(index, delivered)

    def free_at(self, now: float) -> float:
        """When the next message would fit."""
        self._expire(now)
        if len(self._sent) < self.limit.count:
            return now
        return self._sent[-self.limit.count] + self.limit.period
