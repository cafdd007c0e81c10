"""``settings.toml``: loaded once, validated into typed objects, every mistake reported at once.

Each problem names where it is (``rules[2].channels``, 0-based like the TOML array) and the
line, so a person editing the file by hand can fix everything in one pass.
"""

from __future__ import annotations

import functools
import math
import os
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Annotated, Any, get_args, get_origin
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from alerts.channels import SETTINGS_BY_TYPE, ChannelSettings
from alerts.rules import Rule
from alerts.units import Duration, Size, parse_duration, parse_size
from daemon.errors import SettingsError
from daemon.settings_locate import describe_errors, locate, suggestion

DEFAULT_DATABASE = "sqlite+aiosqlite:///data/newswatch.db"
DEFAULT_RETRY_SCHEDULE = (5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 86400.0)
_HTTP_PATTERN = r"^(\[[0-9A-Fa-f:.]+\]|[^:\s\[\]]+):\d{1,5}$"
_HTTP_ADDRESS = re.compile(_HTTP_PATTERN)
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_zone(value: str | None) -> str | None:
    if value is not None:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (expected e.g. 'Europe/Kyiv')") from exc
    return value


class DaemonSettings(_Strict):
    database: str = DEFAULT_DATABASE
    data_dir: str = "data"
    poll_interval: Duration = 600.0
    scan_interval: Duration = 5.0
    delivery_interval: Duration = 2.0
    shutdown_timeout: Duration = 5.0
    log_level: str = Field(default="INFO", pattern=r"(?i)^(debug|info|warning|error)$")
    # The admin HTTP server (health, metrics, status page, JSON API): "host:port", off when
    # absent. A token, when set, is asked for everywhere but /healthz.
    http: str | None = Field(default=None, pattern=_HTTP_PATTERN)
    http_token: str | None = None
    # Where alerts about newswatch itself go (broken feeds, disabled channels, quarantined
    # files, a stuck outbox); repeated at most every ``ops_repeat`` while the trouble lasts.
    ops_channels: tuple[str, ...] = ()
    ops_outbox_age: Duration = 3600.0
    ops_repeat: Duration = 86400.0
    ops_interval: Duration = 60.0


class DeliverySettings(_Strict):
    retry_schedule: tuple[Duration, ...] = Field(default=DEFAULT_RETRY_SCHEDULE, min_length=1)
    batch_size: int = Field(default=50, ge=1, le=1000)
    concurrency: int = Field(default=8, ge=1, le=256)
    lease: Duration = 15.0  # renewed while the send runs: short, so a dead worker's are freed soon


class DropSettings(_Strict):
    name: str = Field(min_length=1)
    path: str = Field(min_length=1)
    timezone: str | None = None
    quarantine: str | None = None
    settle: Duration = 1.0
    max_file_size: Size = 5_000_000
    enabled: bool = True
    watch: bool = True
    watch_settle: Duration = 0.2

    _zone = field_validator("timezone")(_check_zone)


class FeedSettings(_Strict):
    url: str = Field(pattern=r"^https?://")
    name: str | None = None
    interval: Duration | None = None
    timezone: str | None = None
    full_text: bool = False
    headers: dict[str, str] = Field(default_factory=dict)
    enabled: bool = True
    min_interval: Duration | None = None
    max_interval: Duration | None = None

    _zone = field_validator("timezone")(_check_zone)

    @property
    def key(self) -> str:
        return self.name or self.url


class PollingSettings(_Strict):
    """How feeds are fetched and scheduled; per-feed keys in ``[[feeds]]`` override intervals."""

    tick: Duration = 5.0
    batch_size: int = Field(default=200, ge=1, le=10_000)
    lease: Duration = 15.0  # renewed while the poll runs, as [delivery] lease
    concurrency: int = Field(default=64, ge=1, le=4096)
    per_host_concurrency: int = Field(default=2, ge=1, le=256)
    per_host_delay: Duration = 1.0
    max_response_size: Size = 10_000_000
    connect_timeout: Duration = 10.0
    read_timeout: Duration = 30.0
    total_timeout: Duration = 60.0
    max_redirects: int = Field(default=5, ge=0, le=20)
    min_interval: Duration = 300.0
    max_interval: Duration = 3600.0
    error_backoff: Duration = 60.0
    error_backoff_cap: Duration = 21600.0
    broken_after: Duration = 86400.0
    parse_processes: int = Field(default=-1, ge=-1, le=64)
    full_text_limit: int = Field(default=20, ge=0, le=1000)


class StorySettings(_Strict):
    """``[dedup]``: how near-duplicates are grouped into stories, and how long articles stay."""

    threshold: float = Field(default=0.30, gt=0.0, le=1.0)
    window: Duration = 3 * 86400.0
    retention: Duration = 90 * 86400.0
    title_containment: float = Field(default=0.5, gt=0.0, le=1.0)
    lead_sentences: int = Field(default=2, ge=1, le=6)
    lead_containment: float = Field(default=0.6, gt=0.0, le=1.0)


_TABLES: dict[str, type[BaseModel]] = {
    "dedup": StorySettings,
    "daemon": DaemonSettings,
    "delivery": DeliverySettings,
    "polling": PollingSettings,
}
_ARRAYS: dict[str, type[BaseModel]] = {"feeds": FeedSettings, "drops": DropSettings, "rules": Rule}


class Settings(_Strict):
    """The validated settings, with paths made absolute against the settings file's folder."""

    path: Path
    daemon: DaemonSettings
    delivery: DeliverySettings
    polling: PollingSettings = Field(default_factory=PollingSettings)
    dedup: StorySettings = Field(default_factory=StorySettings)
    feeds: tuple[FeedSettings, ...]
    drops: tuple[DropSettings, ...]
    rules: tuple[Rule, ...]
    channels: dict[str, ChannelSettings]

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    def resolve(self, relative: str) -> Path:
        return (self.base_dir / relative).resolve()

    @property
    def data_dir(self) -> Path:
        return self.resolve(self.daemon.data_dir)

    @property
    def http_address(self) -> tuple[str, int] | None:
        """Where the admin server listens; ``NEWSWATCH_HTTP`` wins, as for the database."""
        value = os.environ.get("NEWSWATCH_HTTP") or self.daemon.http
        if not value:
            return None
        if not _HTTP_ADDRESS.match(value):
            raise SettingsError("NEWSWATCH_HTTP", [f"expected host:port, got {value!r}"])
        host, _, port = value.rpartition(":")
        return host.strip("[]"), int(port)

    @property
    def database_url(self) -> str:
        """The database URL; ``NEWSWATCH_DATABASE`` wins so containers need no edited file."""
        url = os.environ.get("NEWSWATCH_DATABASE") or self.daemon.database
        prefix, sep, rest = url.partition(":///")
        relative = sep and rest and not rest.startswith("/") and rest != ":memory:"
        if prefix.startswith("sqlite") and relative:
            return f"{prefix}:///{self.resolve(rest)}"
        return url


def load_settings(path: str | Path, env: Mapping[str, str] | None = None) -> Settings:
    """Read, expand ``${VAR}`` references, validate; raise SettingsError listing every problem."""
    path = Path(path).resolve()
    env = os.environ if env is None else env
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(str(path), [f"cannot read the settings file: {exc}"]) from exc
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(str(path), [f"not valid TOML: {exc}"]) from exc
    except RecursionError as exc:
        message = "not valid TOML: arrays or inline tables nested too deeply"
        raise SettingsError(str(path), [message]) from exc
    problems: list[str] = []
    raw = _expand(raw, env, (), problems, text)
    settings = _validate(raw, path, text, problems)
    if problems or settings is None:
        raise SettingsError(str(path), problems)
    return settings


def _expand(
    value: Any, env: Mapping[str, str], loc: tuple[str | int, ...], problems: list[str], text: str
) -> Any:
    """Replace ``${VAR}`` with the environment's value; a missing variable is a problem."""
    if isinstance(value, str):

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in env:
                problems.append(locate(text, loc, f"environment variable {name} is not set"))
                return ""
            return env[name]

        return _ENV_REF.sub(substitute, value)
    if isinstance(value, dict):
        return {k: _expand(v, env, (*loc, k), problems, text) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v, env, (*loc, i), problems, text) for i, v in enumerate(value)]
    return value


def _validate(raw: dict[str, Any], path: Path, text: str, problems: list[str]) -> Settings | None:
    """Validate each table and array item on its own, so one mistake hides no other."""
    known = [*_TABLES, *_ARRAYS, "channels"]
    for key in raw:
        if key not in known:
            problems.append(locate(text, (key,), "unknown table" + suggestion(key, known)))
    tables = {
        key: _one(model, raw.get(key, {}), (key,), text, problems) for key, model in _TABLES.items()
    }
    arrays = {key: _many(model, raw, key, text, problems) for key, model in _ARRAYS.items()}
    raw_channels = raw.get("channels", {})
    if not isinstance(raw_channels, dict):
        problems.append(locate(text, ("channels",), "expected a table of channels"))
        raw_channels = {}
    channels = _validate_channels(raw_channels, text, problems)
    _cross_check(raw, set(raw_channels), text, problems)
    if problems:
        return None
    return Settings.model_validate({"path": path, **tables, **arrays, "channels": channels})


def _one(
    model: type[BaseModel], value: Any, loc: tuple[str | int, ...], text: str, problems: list[str]
) -> BaseModel | None:
    if isinstance(value, dict):
        value = _without_bad_units(model, value, loc, text, problems)
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        problems.extend(describe_errors(exc, text, prefix=loc, model=model))
        return None


def _many(
    model: type[BaseModel], raw: dict[str, Any], key: str, text: str, problems: list[str]
) -> tuple[BaseModel, ...]:
    items = raw.get(key, [])
    if not isinstance(items, list):
        problems.append(locate(text, (key,), f"expected [[{key}]] tables"))
        return ()
    validated = (_one(model, item, (key, i), text, problems) for i, item in enumerate(items))
    return tuple(v for v in validated if v is not None)


def _validate_channels(
    raw: dict[str, dict[str, Any]], text: str, problems: list[str]
) -> dict[str, ChannelSettings]:
    channels: dict[str, ChannelSettings] = {}
    for name, table in raw.items():
        if not isinstance(table, dict):
            message = f"expected a table [channels.{name}], got {_kind_of(table)}"
            problems.append(locate(text, ("channels", name), message))
            continue
        kind = table.get("type")
        model = SETTINGS_BY_TYPE.get(kind) if isinstance(kind, str) else None
        if model is None:
            known = ", ".join(sorted(SETTINGS_BY_TYPE))
            message = f"unknown channel type {kind!r} (expected one of: {known})"
            problems.append(locate(text, ("channels", name, "type"), message))
            continue
        table = _without_bad_units(model, table, ("channels", name), text, problems)
        try:
            channels[name] = model.model_validate(table)
        except ValidationError as exc:
            problems.extend(describe_errors(exc, text, prefix=("channels", name), model=model))
    return channels


@dataclass(frozen=True)
class _Unit:
    """A duration or size as settings write it, and what its validator cannot take."""

    parse: Callable[[Any], float]
    what: str
    types: tuple[type, ...]
    largest: float


_LONGEST = 1000 * 365 * 86400.0  # any later moment is past the calendar's end (year 9999)
_UNITS: dict[Callable[..., Any], _Unit] = {
    parse_duration: _Unit(
        parse_duration, "a duration like '30s', '10m', '2h' or '1d'", (str, int, float), _LONGEST
    ),
    parse_size: _Unit(parse_size, "a size like '512KB' or '5MB'", (str, int), math.inf),
}


def _without_bad_units(
    model: type[BaseModel],
    table: dict[str, Any],
    loc: tuple[str | int, ...],
    text: str,
    problems: list[str],
) -> dict[str, Any]:
    """``table`` less the durations and sizes its unit validators would crash on or let by.

    Those validators fail with a TypeError on a TOML date, time, array or table (and a size
    on a float), with an OverflowError on a size of hundreds of digits, which pydantic does
    not turn into validation errors; and they accept durations of ``inf``, ``nan`` or
    millennia, on which the scheduler's date arithmetic fails later. Reported here, the rest
    of the table is still checked.
    """
    expected = _unit_keys(model)
    kept = dict(table)
    for key, value in table.items():
        if key not in expected:
            continue
        unit, many = expected[key]
        items = list(enumerate(value)) if many and isinstance(value, list) else [(None, value)]
        for index, item in items:
            problem = _unit_problem(unit, item)
            if problem is not None:
                where = (*loc, key) if index is None else (*loc, key, index)
                problems.append(locate(text, where, problem))
                kept.pop(key, None)
    return kept


def _unit_problem(unit: _Unit, value: Any) -> str | None:
    if not isinstance(value, unit.types):
        return f"expected {unit.what}, got {_kind_of(value)}"
    try:
        amount = unit.parse(value)
    except ValueError:
        return None  # the model reports it, in the validator's words
    except OverflowError:
        return f"expected {unit.what}, got {value!r}"
    if not amount <= unit.largest:
        return f"expected {unit.what} of at most {unit.largest / 86400:.0f}d, got {value!r}"
    return None


@functools.cache
def _unit_keys(model: type[BaseModel]) -> dict[str, tuple[_Unit, bool]]:
    """Keys of ``model`` holding durations or sizes: their unit, and whether the key holds a
    list of them."""
    keys: dict[str, tuple[_Unit, bool]] = {}
    for name, info in model.model_fields.items():
        found = _unit_of(info.annotation, info.metadata)
        if found is not None:
            keys[info.alias or name] = found
    return keys


def _unit_of(annotation: Any, metadata: Iterable[Any] = ()) -> tuple[_Unit, bool] | None:
    for item in metadata:
        func = getattr(item, "func", None)
        unit = _UNITS.get(func) if callable(func) else None
        if unit is not None:
            return unit, False
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return _unit_of(args[0], annotation.__metadata__)
    if origin is tuple:
        inner = _unit_of(args[0]) if args else None
        return (inner[0], True) if inner is not None else None
    for arg in args:
        found = _unit_of(arg)
        if found is not None:
            return found
    return None


def _kind_of(value: Any) -> str:
    """A TOML value as the person who wrote it would name it."""
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, datetime):
        return f"the date-time {value.isoformat()}"
    if isinstance(value, date):
        return f"the date {value.isoformat()}"
    if isinstance(value, time):
        return f"the time {value.isoformat()}"
    return repr(value)


def _cross_check(
    raw: dict[str, Any], channel_names: set[str], text: str, problems: list[str]
) -> None:
    """Checks across tables, on the raw items so indices match the file even after errors."""
    known = ", ".join(sorted(channel_names)) or "none configured"
    for index, rule in _raw_items(raw, "rules"):
        channels = rule.get("channels")
        for channel in channels if isinstance(channels, list) else []:
            if isinstance(channel, str) and channel not in channel_names:
                message = f"unknown channel {channel!r} (configured: {known})"
                problems.append(locate(text, ("rules", index, "channels"), message))
    daemon = raw.get("daemon")
    ops = daemon.get("ops_channels") if isinstance(daemon, dict) else None
    for channel in ops if isinstance(ops, list) else []:
        if isinstance(channel, str) and channel not in channel_names:
            message = f"unknown channel {channel!r} (configured: {known})"
            problems.append(locate(text, ("daemon", "ops_channels"), message))
    for table, key in (("rules", "name"), ("drops", "name"), ("feeds", "name")):
        seen: set[str] = set()
        for index, item in _raw_items(raw, table):
            name = item.get(key) or item.get("url")
            if not isinstance(name, str):
                continue
            if name in seen:
                where = key if key in item else "url"
                problems.append(locate(text, (table, index, where), f"duplicate name {name!r}"))
            seen.add(name)


def _raw_items(raw: dict[str, Any], table: str) -> list[tuple[int, dict[str, Any]]]:
    items = raw.get(table)
    if not isinstance(items, list):
        return []
    return [(i, item) for i, item in enumerate(items) if isinstance(item, dict)]
