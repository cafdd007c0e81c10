"""Human-friendly durations and sizes as written in settings.toml ("10m", "5 MB")."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BeforeValidator

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$", re.IGNORECASE)
_DURATION_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(b|kb|kib|mb|mib|gb|gib)?\s*$", re.IGNORECASE)
_SIZE_UNITS = {
    "b": 1,
    "kb": 1000,
    "kib": 1024,
    "mb": 1000**2,
    "mib": 1024**2,
    "gb": 1000**3,
    "gib": 1024**3,
}


def parse_duration(value: str | int | float) -> float:
    """Seconds from ``"90s"``, ``"10m"``, ``"2h"``, ``"1d"`` or a bare number of seconds."""
    if isinstance(value, bool):
        raise ValueError(f"expected a duration like '10m', got {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        match = _DURATION.match(value)
        if not match:
            raise ValueError(f"expected a duration like '30s', '10m', '2h' or '1d', got {value!r}")
        seconds = float(match.group(1)) * _DURATION_UNITS[(match.group(2) or "s").lower()]
    if seconds < 0:
        raise ValueError(f"a duration cannot be negative, got {value!r}")
    return seconds


def parse_size(value: str | int) -> int:
    """Bytes from ``"5MB"``, ``"512 KiB"`` or a bare number of bytes."""
    if isinstance(value, bool):
        raise ValueError(f"expected a size like '5MB', got {value!r}")
    if isinstance(value, int):
        size = value
    else:
        match = _SIZE.match(value)
        if not match:
            raise ValueError(f"expected a size like '512KB' or '5MB', got {value!r}")
        size = int(float(match.group(1)) * _SIZE_UNITS[(match.group(2) or "b").lower()])
    if size <= 0:
        raise ValueError(f"a size must be positive, got {value!r}")
    return size


Duration = Annotated[float, BeforeValidator(parse_duration)]
"""Seconds, written in settings as ``"10m"`` and validated by pydantic."""

Size = Annotated[int, BeforeValidator(parse_size)]
"""Bytes, written in settings as ``"5MB"``."""
