"""When held alerts go out: digest schedules and quiet hours, as pure functions of time.

``digest = "hourly"`` sends at the top of every hour, ``"daily@08:00"`` once a day at that
local time, ``"every 15m"`` on a fixed period counted from midnight; all in the channel's
``timezone``. ``quiet_hours = "22:00-07:00"`` is a daily local window (it may cross midnight).
Local times are computed with ``zoneinfo``, so a daylight-saving change moves them correctly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from alerts.units import parse_duration

_DAILY = re.compile(r"^daily@(\d{1,2}):(\d{2})$")
_WINDOW = re.compile(r"^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$")


def _clock(hour: str, minute: str, spec: str) -> time:
    try:
        return time(int(hour), int(minute))
    except ValueError as exc:
        raise ValueError(f"{spec!r}: {hour}:{minute} is not a time of day") from exc


@dataclass(frozen=True, slots=True)
class DigestSchedule:
    """Digest send times: every ``period`` seconds from local midnight, or daily at ``at``."""

    period: float | None = None
    at: time | None = None

    @classmethod
    def parse(cls, spec: str) -> DigestSchedule:
        text = spec.strip().lower()
        if text == "hourly":
            return cls(period=3600.0)
        if match := _DAILY.match(text):
            return cls(at=_clock(match.group(1), match.group(2), spec))
        if text.startswith("every "):
            period = parse_duration(text.removeprefix("every ").strip())
            if not 60 <= period <= 86400 or 86400 % period:
                raise ValueError(f"{spec!r}: the period must divide a day and be at least 1m")
            return cls(period=period)
        raise ValueError(f"expected 'hourly', 'daily@08:00' or 'every 15m', got {spec!r}")

    def next_after(self, now: datetime, zone: ZoneInfo) -> datetime:
        """The first send time strictly after ``now`` (an aware datetime)."""
        local = now.astimezone(zone)
        midnight = datetime.combine(local.date(), time(), zone)
        if self.at is not None:
            send = datetime.combine(local.date(), self.at, zone)
            if send <= local:
                send = datetime.combine(local.date() + timedelta(days=1), self.at, zone)
            return send
        assert self.period is not None
        elapsed = (local.replace(tzinfo=None) - midnight.replace(tzinfo=None)).total_seconds()
        slots = int(elapsed // self.period) + 1
        wall = midnight.replace(tzinfo=None) + timedelta(seconds=slots * self.period)
        return wall.replace(tzinfo=zone)


@dataclass(frozen=True, slots=True)
class QuietHours:
    """A daily local window during which nothing is sent; ``start == end`` is never quiet."""

    start: time
    end: time

    @classmethod
    def parse(cls, spec: str) -> QuietHours:
        match = _WINDOW.match(spec.strip())
        if not match:
            raise ValueError(f"expected quiet hours like '22:00-07:00', got {spec!r}")
        hours = match.groups()
        return cls(_clock(hours[0], hours[1], spec), _clock(hours[2], hours[3], spec))

    def contains(self, now: datetime, zone: ZoneInfo) -> bool:
        clock = now.astimezone(zone).time()
        if self.start <= self.end:
            return self.start <= clock < self.end
        return clock >= self.start or clock < self.end

    def end_after(self, now: datetime, zone: ZoneInfo) -> datetime:
        """When the quiet window holding ``now`` ends (the next ``end`` local time)."""
        local = now.astimezone(zone)
        end = datetime.combine(local.date(), self.end, zone)
        if end <= local:
            end = datetime.combine(local.date() + timedelta(days=1), self.end, zone)
        return end
