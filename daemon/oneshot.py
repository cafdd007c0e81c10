"""``newswatch ingest PATH``: the drop pipeline run once over a file or folder, then exit."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from daemon.drops import DropScanner, ScanResult
from daemon.progress import Progress
from daemon.runtime import Runtime
from daemon.settings import DropSettings, Settings
from storage.sources import ensure_source

MANUAL = "manual"


def ingest_path(settings: Settings, path: Path, source: str | None, deliver: bool) -> int:
    path = path.resolve()
    if not path.exists():
        print(f"error: {path}: no such file or folder", file=sys.stderr)
        return 2
    return asyncio.run(_ingest(settings, path, path.is_dir(), source, deliver))


async def _ingest(
    settings: Settings, path: Path, is_dir: bool, source: str | None, deliver: bool
) -> int:
    drop = _drop_for(settings, path if is_dir else path.parent, source)
    if drop is None:
        known = ", ".join(d.name for d in settings.drops) or "none configured"
        print(f"error: --source {source!r} is not a [[drops]] name ({known})", file=sys.stderr)
        return 2
    runtime = await Runtime.open(settings, defer_bands=True)
    try:
        result = await _scan(runtime, drop, path, is_dir, configured=source is not None)
        delivered = await runtime.worker.run_once() if deliver and result.alert_ids else 0
    finally:
        await runtime.close()
    for error in result.errors:
        print(f"error: {error}", file=sys.stderr)
    print(
        f"{result.files} files read, {result.articles} new articles, "
        f"{len(result.alert_ids)} alerts ({delivered} delivery attempts), "
        f"{result.quarantined} unreadable"
    )
    return 1 if result.quarantined else 0


def _drop_for(settings: Settings, folder: Path, source: str | None) -> DropSettings | None:
    if source is None:
        return DropSettings(name="ingest", path=str(folder))
    return next((d for d in settings.drops if d.name == source), None)


async def _scan(
    runtime: Runtime, drop: DropSettings, path: Path, is_dir: bool, configured: bool
) -> ScanResult:
    if configured:
        source_id = runtime.drop_ids[drop.name]
    else:
        async with runtime.sessions.begin() as session:
            source_id = await ensure_source(session, MANUAL, drop.name, drop.path)
    scanner: DropScanner = runtime.scanner(drop, source_id, quarantine=False)
    progress = Progress("ingest", "files")
    try:
        if is_dir:
            return await scanner.scan(settle=0.0, progress=progress)
        return await scanner.scan_files([path], progress)
    finally:
        progress.close()
