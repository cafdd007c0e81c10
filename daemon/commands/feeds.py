"""``newswatch feeds`` (status table), ``feeds import FILE.opml``, ``feeds export``.

``import`` appends ``[[feeds]]`` tables to the settings file (the rest of the file stays byte
for byte; URLs already configured are skipped) after checking that the result still loads.
``export`` prints the configured feeds as OPML 2.0 on stdout; it reads only the settings.
"""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import datetime
from pathlib import Path

from pydantic import ValidationError

from daemon.errors import ParseError, SettingsError
from daemon.feeds.opml import feed_tables, plan_import, read_opml, write_opml
from daemon.feeds.schedule import feed_state
from daemon.progress import Progress
from daemon.settings import FeedSettings, Settings, load_settings
from storage.feeds import FeedStatus, list_feeds
from storage.models import utcnow

COLUMNS = ("name", "url", "last success", "status", "errors", "next poll", "items", "state")


def status(settings: Settings) -> int:
    """Print the table; exit status 1 when any feed is broken, so scripts can alert on it."""
    feeds = asyncio.run(_load_status(settings))
    if not feeds:
        print("no feeds configured (add [[feeds]] tables or run `newswatch feeds import`)")
        return 0
    now = utcnow()
    rows = [_row(feed, now, settings.polling.broken_after) for feed in feeds]
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(COLUMNS)]
    for line in (COLUMNS, *rows):
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())
    troubled = [f for f in feeds if f.enabled and f.last_error]
    for feed in troubled:
        print(f"\n{feed.name}: {feed.last_error}")
    return 1 if any(r[-1] == "BROKEN" for r in rows) else 0


async def _load_status(settings: Settings) -> list[FeedStatus]:
    from daemon.runtime import Runtime

    runtime = await Runtime.open(settings)
    try:
        async with runtime.sessions() as session:
            return await list_feeds(session)
    finally:
        await runtime.close()


def _row(feed: FeedStatus, now: datetime, broken_after: float) -> tuple[str, ...]:
    url = feed.url or ""
    if feed.configured_url and feed.url != feed.configured_url:
        url += " (moved; settings say " + feed.configured_url + ")"
    return (
        feed.name,
        url,
        _when(feed.last_success_at, now),
        feed.last_status or "-",
        str(feed.error_count),
        _when(feed.next_poll_at, now) if feed.enabled else "-",
        str(feed.items_seen),
        _state_word(feed_state(feed, now, broken_after)),
    )


def _state_word(state: str) -> str:
    return "BROKEN" if state == "broken" else state  # the one a person must not miss


def _when(moment: datetime | None, now: datetime) -> str:
    """Relative times read faster in a table than timestamps: "12m ago", "in 3m"."""
    if moment is None:
        return "-"
    seconds = (moment - now).total_seconds()
    text = _span(abs(seconds))
    return f"in {text}" if seconds > 0 else f"{text} ago"


def _span(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f}{unit}"
    return f"{seconds:.0f}s"


def import_opml(settings_path: Path, opml_path: Path) -> int:
    settings = load_settings(settings_path)
    try:
        outlines = read_opml(opml_path.read_bytes())
    except (OSError, ParseError) as exc:
        print(f"error: {opml_path}: {exc}", file=sys.stderr)
        return 1
    added, skipped = plan_import(outlines, settings.feeds)
    for outline in skipped:
        print(f"skipped (already configured): {outline.url}")
    added = _valid(added) if added else added
    if added:
        _append_checked(settings_path, feed_tables(added, opml_path.name))
    print(f"{len(added)} feeds added to {settings_path}, {len(skipped)} already there")
    return 0


def _valid(outlines: list[tuple[str | None, str]]) -> list[tuple[str | None, str]]:
    """Each feed checked as ``[[feeds]]`` would be; a bad one is skipped, named, and the
    rest still imported (a list of thousands should not fail on one odd address)."""
    good: list[tuple[str | None, str]] = []
    with Progress("import", "feeds") as progress:
        for done, (name, url) in enumerate(outlines, 1):
            try:
                FeedSettings(url=url, name=name)
            except ValidationError as exc:
                reason = exc.errors()[0]["msg"]
                progress.note(f"skipped (not a usable feed address): {url}: {reason}")
            else:
                good.append((name, url))
            progress(done, len(outlines))
    return good


def _append_checked(settings_path: Path, tables: str) -> None:
    """Write the new file beside the old, validate it, then swap: never a broken settings file."""
    original = settings_path.read_bytes()
    joiner = b"" if not original or original.endswith(b"\n") else b"\n"
    candidate = settings_path.with_name(f".{settings_path.name}.import-{os.getpid()}")
    candidate.write_bytes(original + joiner + tables.encode("utf-8"))
    try:
        load_settings(candidate)
    except SettingsError:
        candidate.unlink()
        raise
    candidate.replace(settings_path)


def export_opml(settings: Settings) -> int:
    sys.stdout.write(write_opml(settings.feeds))
    return 0
