"""Per-channel flow: digest, quiet hours and rate limit decide whether an alert goes now.

``FlowSettings`` is mixed into every channel's settings model. ``Flow`` is the pure decision
the delivery worker asks for each due alert: send it now, or hold it into the channel's next
batch until a given time. Nothing here touches the database or the network.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, field_validator

from alerts.digest import DigestSchedule, QuietHours
from alerts.ratelimit import RateLimit, RateLimiter

DIGEST, QUIET, RATE = "digest", "quiet", "rate"


class FlowSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    digest: str | None = None
    timezone: str = "UTC"
    quiet_hours: str | None = None
    rate_limit: str | None = None

    @field_validator("digest")
    @classmethod
    def _digest(cls, value: str | None) -> str | None:
        if value is not None:
            DigestSchedule.parse(value)
        return value

    @field_validator("quiet_hours")
    @classmethod
    def _quiet(cls, value: str | None) -> str | None:
        if value is not None:
            QuietHours.parse(value)
        return value

    @field_validator("rate_limit")
    @classmethod
    def _rate(cls, value: str | None) -> str | None:
        if value is not None:
            RateLimit.parse(value)
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (expected e.g. 'Europe/Kyiv')") from exc
        return value


@dataclass(frozen=True, slots=True)
class Hold:
    """Keep the alert for the channel's next batch, which goes at ``until``."""

    reason: str
    until: datetime


@dataclass
class Flow:
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    digest: DigestSchedule | None = None
    quiet: QuietHours | None = None
    limiter: RateLimiter | None = None

    @classmethod
    def from_settings(cls, settings: FlowSettings) -> Flow:
        rate = RateLimit.parse(settings.rate_limit) if settings.rate_limit else None
        return cls(
            zone=ZoneInfo(settings.timezone),
            digest=DigestSchedule.parse(settings.digest) if settings.digest else None,
            quiet=QuietHours.parse(settings.quiet_hours) if settings.quiet_hours else None,
            limiter=RateLimiter(rate) if rate else None,
        )

    def is_quiet(self, now: datetime) -> bool:
        return self.quiet is not None and self.quiet.contains(now, self.zone)

    def admit(self, now: datetime) -> Hold | None:
        """None: send this alert now (and count it against the rate limit)."""
        if self.digest is not None:
            return Hold(DIGEST, self.digest.next_after(now, self.zone))
        if self.quiet is not None and self.quiet.contains(now, self.zone):
            return Hold(QUIET, self.quiet.end_after(now, self.zone))
        if self.limiter is not None and not self.limiter.try_acquire(now.timestamp()):
            free = self.limiter.free_at(now.timestamp())
            return Hold(RATE, now + timedelta(seconds=free - now.timestamp()))
        return None

    def batch_wait(self, now: datetime) -> float:
        """Seconds a due batch waits for the window: at most one period, never held again."""
        if self.limiter is None:
            return 0.0
        wait = self.limiter.free_at(now.timestamp()) - now.timestamp()
        return min(max(wait, 0.0), self.limiter.limit.period)

    def batch_sent(self, now: datetime) -> None:
        """A batch is one message: it uses the rate window but is never held again."""
        if self.limiter is not None:
            self.limiter.record(now.timestamp())

    def delivered(self, admitted: datetime, at: datetime) -> None:
        """Count a sent message from when it reached the receiver (see RateLimiter.settle)."""
        if self.limiter is not None:
            self.limiter.settle(admitted.timestamp(), at.timestamp())
