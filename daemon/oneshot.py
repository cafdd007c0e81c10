"""``newswatch ingest PATH``: the drop pipeline run once over a file or folder, then exit.

Results go to stdout; progress and errors to stderr. With ``--log-format json`` stderr
carries JSON lines only (a collector reading it must not meet a plain line), so progress
and errors become log records there, unless stderr is a terminal, which gets the bar.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from dataclasses import dataclass
from pathlib import Path

from daemon.drops import DropScanner, ScanResult
from daemon.progress import Progress
from daemon.runtime import Runtime
from daemon.settings import DropSettings, Settings
from storage.sources import ensure_source

MANUAL = "manual"
log = logging.getLogger("newswatch.oneshot")


@dataclass(frozen=True, slots=True)
class _Job:
    path: Path
    source: str | None
    deliver: bool
    json_logs: bool

    def error(self, text: str) -> None:
        if self.json_logs:
            log.error("%s", text)
        else:
            print(f"error: {text}", file=sys.stderr)


def ingest_path(
    settings: Settings, path: Path, source: str | None, deliver: bool, *, json_logs: bool = False
) -> int:
    job = _Job(path.resolve(), source, deliver, json_logs)
    if not job.path.exists():
        job.error(f"{job.path}: no such file or folder")
        return 2
    return asyncio.run(_ingest(settings, job))


async def _ingest(settings: Settings, job: _Job) -> int:
    is_dir = job.path.is_dir()
    drop = _drop_for(settings, job.path if is_dir else job.path.parent, job.source)
    if drop is None:
        known = ", ".join(d.name for d in settings.drops) or "none configured"
        job.error(f"--source {job.source!r} is not a [[drops]] name ({known})")
        return 2
    runtime = await Runtime.open(settings, defer_bands=True)
    try:
        result = await _scan(runtime, drop, job, is_dir)
        delivered = await runtime.worker.run_once() if job.deliver and result.alert_ids else 0
    finally:
        await runtime.close()
    if not job.json_logs:  # in JSON, each one is already a "cannot read" record above
        for error in result.errors:
            job.error(error)
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


async def _scan(runtime: Runtime, drop: DropSettings, job: _Job, is_dir: bool) -> ScanResult:
    if job.source is not None:
        source_id = runtime.drop_ids[drop.name]
    else:
        async with runtime.sessions.begin() as session:
            source_id = await ensure_source(session, MANUAL, drop.name, drop.path)
    scanner: DropScanner = runtime.scanner(drop, source_id, quarantine=False)
    records = log if job.json_logs else None  # JSON on stderr: progress as records too
    with Progress("ingest", "files", records=records) as progress:
        if is_dir:
            return await scanner.scan(settle=0.0, progress=progress)
        return await scanner.scan_files([job.path], progress)
