"""Dates and times as pages print them, turned into timezone-aware UTC.

Fast explicit formats (ISO 8601, RFC 2822, English month names, numeric dates, relative
times) are tried first because they cover most inputs and cost microseconds; dateparser,
which knows month names in dozens of languages but costs milliseconds, is only the fallback
for a span that already looks like "day word year".
"""

from __future__ import annotations

import email.utils
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo

import dateparser

from daemon.parse.months import DAY_MONTH_YEAR, MONTH_DAY_YEAR, month_number

_MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
    "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
_MONTH = (
    r"(?P<mon>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_ISO = re.compile(
    r"(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})"
    r"(?:[T ](?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:\.\d+)?)?"
    r"\s*(?P<z>Z|[+-]\d{2}:?\d{2})?)?"
)
_MDY = re.compile(rf"\b{_MONTH}\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<y>\d{{4}})\b", re.I)
_DMY = re.compile(rf"\b(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\.?\s+{_MONTH},?\s+(?P<y>\d{{4}})\b", re.I)
_NUMERIC = re.compile(r"\b(?P<a>\d{1,2})(?P<sep>[./])(?P<b>\d{1,2})(?P=sep)(?P<y>\d{4})\b")
_FOREIGN = re.compile(
    r"\b(?:\d{1,2}\.?\s+(?:de\s+)?[^\W\d_]{3,12}\.?,?\s+(?:de\s+)?\d{4}"
    r"|[^\W\d_]{3,12}\.?\s+\d{1,2},?\s+\d{4})\b"
)
_TIME = re.compile(
    r"(?<![\d:])(?P<H>\d{1,2})[:.h](?P<M>\d{2})(?::(?P<S>\d{2}))?(?![\d:])"
    r"(?:\s*(?P<ampm>[ap]\.?\s?m\.?)(?![a-z]))?"
    r"(?:\s*(?P<tz>(?:GMT|UTC)\s?[+-]\d{1,2}(?::?\d{2})?\b|[A-Z]{2,5}\b|[+-]\d{2}:?\d{2}\b))?",
    re.I,
)
_GAP = re.compile(
    r"^(?:\s*(?:р\.|г\.|року|года))?[\s,|·•—–-]*(?:at|um|à|a las|о|в|об)?[\s,|·•—–-]*$", re.I
)
_RELATIVE = re.compile(
    r"\b(?P<n>\d+|an?|one)\s+(?P<unit>sec|min|hour|hr|day|week)[a-z]*\s+ago\b"
    r"|\b(?P<n2>\d+)\s+(?P<unit2>хвилин|хв|годин|год|дн|день|днів|минут|мин|час|дней|дня)"
    r"[а-яіїєґ]*\.?\s+(?:тому|назад)",
    re.I,
)
_UNIT_SECONDS = {
    "sec": 1, "min": 60, "hour": 3600, "hr": 3600, "day": 86400, "week": 604800,
    "хвилин": 60, "хв": 60, "минут": 60, "мин": 60, "годин": 3600, "год": 3600, "час": 3600,
    "дн": 86400, "день": 86400, "днів": 86400, "дней": 86400, "дня": 86400,
}  # fmt: skip
_OFFSETS = {
    "UTC": 0, "GMT": 0, "Z": 0, "WET": 0, "BST": 1, "CET": 1, "CEST": 2, "EET": 2,
    "EEST": 3, "MSK": 3, "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6,
    "PST": -8, "PDT": -7,
}  # fmt: skip
_CYRILLIC = re.compile(r"[а-яіїєґё]", re.I)


@dataclass(frozen=True, slots=True)
class Found:
    """A moment found in a line, with where it was, so bylines can be cut around it."""

    when: datetime
    start: int
    end: int
    # The date came with a time that cannot be (25:61): the day alone was kept.
    flawed: bool = False


@dataclass(frozen=True, slots=True)
class Clock:
    """What "local" and "now" mean for one input: its zone and its capture time."""

    zone: tzinfo = UTC
    now: datetime | None = None
    day: date | None = None

    def localize(self, naive: datetime) -> datetime:
        return naive.replace(tzinfo=self.zone).astimezone(UTC)

    @property
    def today(self) -> date | None:
        """The capture day: bare times ("Updated 14:05 GMT") happened on it."""
        if self.now is not None:
            return self.now.astimezone(self.zone).date()
        return self.day


def find_when(text: str, clock: Clock) -> Found | None:
    """The first moment printed in ``text``: a date (with its time), a relative time, or
    a bare time on the capture day. Never raises: an impossible value (hour 25, an offset
    of a day) is no moment, and one bad date must not cost the rest of a feed or a file."""
    try:
        return _find_when(text, clock)
    except (ValueError, OverflowError):
        return None


def _find_when(text: str, clock: Clock) -> Found | None:
    found = _find_date(text, clock)
    if found is not None:
        return found
    relative = _RELATIVE.search(text)
    if relative and clock.now is not None:
        return Found(clock.now.astimezone(UTC) - _relative_delta(relative), *relative.span())
    return _bare_time(text, clock)


def parse_when(value: str, clock: Clock) -> datetime | None:
    """A whole string that should be a moment (metadata, JSON fields, feed dates); None when
    it is not one, or names an impossible one ("25:61:60"), rather than a guess."""
    try:
        return _parse_when(value, clock)
    except (ValueError, OverflowError):
        return None


def impossible(value: str) -> bool:
    """Whether a date string names a moment that cannot be (hour 25, minute 61, 31 June), so
    a more lenient reader's answer (feedparser rolls 25:61 into the next day) is a guess;
    an offset of a day or more is as impossible."""
    for match in _TIME.finditer(value):
        if int(match["H"]) > 24 or int(match["M"]) > 59 or int(match["S"] or 0) > 60:
            return True
    for pattern in (_MDY, _DMY):
        named = pattern.search(value)
        if named is not None:
            month = _MONTHS[named["mon"][:3].lower()]
            if _safe_date(int(named["y"]), month, int(named["d"])) is None:
                return True
    iso = _ISO.search(value)
    if iso is None:
        return False
    if iso["z"] and iso["z"] != "Z" and abs(_offset_minutes(iso["z"])) >= 24 * 60:
        return True
    return _safe_date(int(iso["y"]), int(iso["m"]), int(iso["d"])) is None


def _parse_when(value: str, clock: Clock) -> datetime | None:
    value = value.strip()
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        parsed = None
    if parsed is None and value[:3].isalpha() and "," in value[:5]:
        try:
            parsed = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            parsed = None
    if parsed is not None:
        return parsed.astimezone(UTC) if parsed.tzinfo else clock.localize(parsed)
    if impossible(value):  # dateparser would only spend 0.1 s (3 s the first time) on it
        return None
    found = _find_when(value, clock)
    if found is not None and found.flawed:
        return None
    return found.when if found else _dateparser(value, clock)


def _find_date(text: str, clock: Clock) -> Found | None:
    iso = _ISO.search(text)
    if iso is not None:
        return _from_iso(iso, clock)
    for pattern in (_MDY, _DMY):
        match = pattern.search(text)
        if match is not None:
            day = _safe_date(int(match["y"]), _MONTHS[match["mon"][:3].lower()], int(match["d"]))
            if day is not None:
                return _with_time(text, day, match.start(), match.end(), clock)
    numeric = _NUMERIC.search(text)
    if numeric is not None:
        a, b = int(numeric["a"]), int(numeric["b"])
        day_first = numeric["sep"] == "." or a > 12
        day = _safe_date(int(numeric["y"]), b if day_first else a, a if day_first else b)
        if day is not None:
            return _with_time(text, day, numeric.start(), numeric.end(), clock)
    return _foreign(text, clock)


def _from_iso(match: re.Match[str], clock: Clock) -> Found | None:
    day = _safe_date(int(match["y"]), int(match["m"]), int(match["d"]))
    if day is None:
        return None
    if match["H"] is None:
        return _with_time(match.string, day, match.start(), match.end(), clock)
    moment = _combine(day, int(match["H"]), int(match["M"]), int(match["S"] or 0))
    if moment is None:
        midnight = clock.localize(datetime.combine(day, time()))
        return Found(midnight, match.start(), match.end(), flawed=True)
    zone = match["z"]
    if zone:
        offset = 0 if zone == "Z" else _offset_minutes(zone)
        aware = moment.replace(tzinfo=_fixed_zone(offset)).astimezone(UTC)
    else:
        aware = clock.localize(moment)
    return Found(aware, match.start(), match.end())


def _with_time(text: str, day: date, start: int, end: int, clock: Clock) -> Found:
    """Join a date with a time printed just after it (or just before it)."""
    midnight = clock.localize(datetime.combine(day, time()))
    after = _TIME.search(text, end, min(len(text), end + 40))
    if after and _GAP.match(text[end : after.start()]):
        moment = _moment(day, after, clock)
        if moment is None:
            return Found(midnight, start, end, flawed=True)
        return Found(moment, start, after.end())
    for before in _TIME.finditer(text, max(0, start - 40), start):
        if _GAP.match(text[before.end() : start]):
            moment = _moment(day, before, clock)
            if moment is None:
                return Found(midnight, start, end, flawed=True)
            return Found(moment, before.start(), end)
    return Found(midnight, start, end)


def _combine(day: date, hour: int, minute: int, second: int) -> datetime | None:
    """A day and a clock time; 24:00 is the next midnight and :60 a leap second (both are
    valid in RFC 3339), anything else out of range is no time at all."""
    second = min(second, 59) if second == 60 else second
    if (hour, minute, second) == (24, 0, 0):
        return datetime.combine(day, time()) + timedelta(days=1)
    if hour > 23 or minute > 59 or second > 59:
        return None
    return datetime.combine(day, time(hour, minute, second))


def _moment(day: date, match: re.Match[str], clock: Clock) -> datetime | None:
    hour, minute, second = int(match["H"]), int(match["M"]), int(match["S"] or 0)
    ampm = (match["ampm"] or "").replace(".", "").replace(" ", "").lower()
    if ampm and not 1 <= hour <= 12:
        return None
    if ampm == "pm" and hour < 12:
        hour += 12
    elif ampm == "am" and hour == 12:
        hour = 0
    naive = _combine(day, hour, minute, second)
    if naive is None:
        return None
    zone = re.sub(r"^(?:GMT|UTC)\s?(?=[+-])", "", (match["tz"] or "").upper())
    if zone[:1] in "+-" and zone:
        return naive.replace(tzinfo=_fixed_zone(_offset_minutes(zone))).astimezone(UTC)
    if zone in _OFFSETS:
        return naive.replace(tzinfo=_fixed_zone(_OFFSETS[zone] * 60)).astimezone(UTC)
    return clock.localize(naive)


def _bare_time(text: str, clock: Clock) -> Found | None:
    """ "Updated 14:05 GMT" says only the hour; the day is the capture day."""
    today = clock.today
    match = _TIME.search(text)
    if today is None or match is None or not (match["tz"] or match["ampm"]):
        return None
    if match["tz"] and match["tz"][0].isalpha() and match["tz"].upper() not in _OFFSETS:
        return None
    moment = _moment(today, match, clock)
    return Found(moment, match.start(), match.end()) if moment is not None else None


def _foreign(text: str, clock: Clock) -> Found | None:
    """Month names in other languages: the table first, dateparser for what it lacks."""
    for pattern in (DAY_MONTH_YEAR, MONTH_DAY_YEAR):
        for match in pattern.finditer(text):
            month = month_number(match["mon"])
            day = _safe_date(int(match["y"]), month, int(match["d"])) if month else None
            if day is not None:
                return _with_time(text, day, match.start(), match.end(), clock)
    for match in _FOREIGN.finditer(text):
        parsed = _dateparser(match.group(), clock)
        if parsed is not None:
            return _with_time(text, parsed.astimezone(clock.zone).date(), *match.span(), clock)
    return None


def _dateparser(value: str, clock: Clock) -> datetime | None:
    languages = ["uk", "ru"] if _CYRILLIC.search(value) else None
    settings: dict[str, object] = {"DATE_ORDER": "DMY", "PREFER_DAY_OF_MONTH": "first"}
    if clock.now is not None:
        settings["RELATIVE_BASE"] = clock.now.astimezone(clock.zone).replace(tzinfo=None)
    parsed = dateparser.parse(value, languages=languages, settings=settings)
    if parsed is None:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else clock.localize(parsed)


def _relative_delta(match: re.Match[str]) -> timedelta:
    count = match["n"] or match["n2"]
    unit = (match["unit"] or match["unit2"]).lower()
    number = 1 if count.lower() in {"a", "an", "one"} else int(count)
    return timedelta(seconds=number * _UNIT_SECONDS[unit])


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _offset_minutes(zone: str) -> int:
    """Minutes east of UTC in "+02:00", "+0530" or "+2" (as in "GMT+2")."""
    sign = -1 if zone[0] == "-" else 1
    hours, _, minutes = zone[1:].partition(":")
    if not minutes and len(hours) > 2:
        hours, minutes = hours[:-2], hours[-2:]
    return sign * (int(hours) * 60 + int(minutes or 0))


def _fixed_zone(minutes: int) -> tzinfo:
    """Raises ValueError for an offset of a day or more, which the public functions turn
    into "no moment"."""
    return UTC if minutes == 0 else timezone(timedelta(minutes=minutes))
