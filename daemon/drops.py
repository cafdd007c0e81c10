"""Drop folders: files that scrapers, analysts or other tools leave for us to read.

A file is read once it has settled (unchanged for ``settle`` seconds) and never by a temporary
name, so a file still being written is not read half-way. Its content hash decides whether it
is new: the same content under another name is not read again. A file that cannot be read is
moved to the quarantine folder beside a ``.error`` file that says why; nothing else stops.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from daemon import metrics
from daemon.errors import ParseError
from daemon.ingest import Pipeline, ingest_articles
from daemon.parse import parse_bytes
from daemon.settings import DropSettings
from storage import dropfiles
from storage.types import Article

Progress = Callable[[int, int], None]
log = logging.getLogger("newswatch.drops")

TEMPORARY_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload", ".swp", ".download", "~")
QUARANTINED, INGESTED = "quarantined", "ingested"


def is_temporary(name: str) -> bool:
    return name.startswith((".", "~")) or name.lower().endswith(TEMPORARY_SUFFIXES)


@dataclass(slots=True)
class ScanResult:
    files: int = 0
    articles: int = 0
    quarantined: int = 0
    errors: list[str] = field(default_factory=list)
    alert_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Candidate:
    path: Path
    size: int
    mtime: float


class DropScanner:
    """Scans one drop folder; ``scan`` is called by the scheduler or once by ``ingest``."""

    def __init__(
        self,
        settings: DropSettings,
        *,
        root: Path,
        quarantine: Path | None,
        source_id: int,
        sessions: async_sessionmaker[AsyncSession],
        pipeline: Callable[[], Pipeline],
    ) -> None:
        self.settings = settings
        self.root = root
        self.quarantine = quarantine
        self.source_id = source_id
        self.sessions = sessions
        self.pipeline = pipeline
        self.zone = ZoneInfo(settings.timezone) if settings.timezone else None
        self._handled: dict[Path, tuple[int, float]] = {}
        # The periodic scan and the notified one take turns: the same file read by both at
        # once would be checked against the database before either had recorded it.
        self._turn = asyncio.Lock()

    async def scan(
        self, *, settle: float | None = None, progress: Progress | None = None
    ) -> ScanResult:
        """``progress`` hears (files done, files in all) after each file."""
        result = ScanResult()
        settle = self.settings.settle if settle is None else settle
        async with self._turn:
            candidates = await asyncio.to_thread(self._candidates, settle)
            for done, candidate in enumerate(candidates, 1):
                await self._process(candidate, result)
                if progress is not None:
                    progress(done, len(candidates))
        return result

    async def scan_files(self, paths: list[Path], progress: Progress | None = None) -> ScanResult:
        """Read the given files now, whatever their age (``newswatch ingest``)."""
        result = ScanResult()
        for done, path in enumerate(paths, 1):
            stat = await asyncio.to_thread(path.stat)
            await self._process(Candidate(path, stat.st_size, stat.st_mtime), result)
            if progress is not None:
                progress(done, len(paths))
        return result

    def _candidates(self, settle: float) -> list[Candidate]:
        if not self.root.is_dir():
            log.warning("drop folder missing source=%s path=%s", self.settings.name, self.root)
            return []
        now = time.time()
        found = []
        for path in self._walk():
            try:
                stat = path.stat()
            except OSError:
                continue
            key = (stat.st_size, stat.st_mtime)
            if self._handled.get(path) == key or now - stat.st_mtime < settle:
                continue
            found.append(Candidate(path, stat.st_size, stat.st_mtime))
        return sorted(found, key=lambda c: (c.mtime, c.path.name))

    def _walk(self) -> Iterator[Path]:
        for folder, dirs, files in os.walk(self.root):
            here = Path(folder)
            dirs[:] = [d for d in dirs if self._wanted_folder(here / d)]
            dirs.sort()
            for name in files:
                if not is_temporary(name):
                    yield here / name

    def _wanted_folder(self, folder: Path) -> bool:
        return not folder.name.startswith(".") and folder != self.quarantine

    def reads(self, path: Path) -> bool:
        """Whether a file at ``path`` is one a scan would read (notifications ask this)."""
        if is_temporary(path.name):
            return False
        try:  # notifications name files by absolute path; the root may be relative
            inner = path.parent.absolute().relative_to(self.root.absolute())
        except ValueError:
            return False
        folder = self.root
        for part in inner.parts:
            folder = folder / part
            if not self._wanted_folder(folder):
                return False
        return True

    async def _process(self, candidate: Candidate, result: ScanResult) -> None:
        path = candidate.path
        try:
            data = await asyncio.to_thread(self._read, candidate)
        except OSError as exc:
            log.warning(
                "cannot read drop file source=%s path=%s: %s", self.settings.name, path, exc
            )
            return
        except ParseError as exc:
            # Unread content has no hash; identify the file itself so each one is recorded.
            marker = f"unread:{path}:{candidate.size}:{candidate.mtime}".encode()
            await self._quarantine(candidate, hashlib.sha256(marker).hexdigest(), str(exc), result)
            return
        sha = hashlib.sha256(data).hexdigest()
        async with self.sessions() as session:
            known = await dropfiles.known_content(session, self.source_id, sha)
        if known is not None:
            status, error = known
            if status == QUARANTINED:
                await self._quarantine(candidate, sha, error or "quarantined before", result)
            else:
                log.info("already read source=%s path=%s", self.settings.name, path.name)
            self._handled[path] = (candidate.size, candidate.mtime)
            return
        try:
            articles = await asyncio.to_thread(self._parse, data, candidate)
        except ParseError as exc:
            await self._quarantine(candidate, sha, str(exc), result)
            return
        except Exception as exc:  # a parser bug must cost one file, not the daemon
            log.exception("parser failed source=%s path=%s", self.settings.name, path)
            await self._quarantine(candidate, sha, f"parser error: {exc!r}", result)
            return
        await self._store(candidate, sha, articles, result)

    def _read(self, candidate: Candidate) -> bytes:
        limit = self.settings.max_file_size
        if candidate.size > limit:
            raise ParseError(f"file is {candidate.size} bytes, over the limit of {limit} bytes")
        with candidate.path.open("rb") as handle:
            data = handle.read(limit + 1)
        if len(data) > limit:
            raise ParseError(f"file grew over the limit of {limit} bytes while being read")
        return data

    def _parse(self, data: bytes, candidate: Candidate) -> list[Article]:
        return parse_bytes(
            data,
            name=candidate.path.name,
            timezone=self.zone,
            captured=datetime.fromtimestamp(candidate.mtime, UTC),
            source=self.settings.name,
            max_bytes=self.settings.max_file_size,
        )

    async def _store(
        self, candidate: Candidate, sha: str, articles: list[Article], result: ScanResult
    ) -> None:
        async with self.sessions.begin() as session:
            outcome = await ingest_articles(
                session,
                source_id=self.source_id,
                articles=articles,
                pipeline=self.pipeline(),
            )
            await dropfiles.record_drop_file(
                session,
                source_id=self.source_id,
                sha256=sha,
                path=str(candidate.path),
                size=candidate.size,
                status=INGESTED,
                articles=outcome.new,
            )
        self._handled[candidate.path] = (candidate.size, candidate.mtime)
        result.files += 1
        result.articles += outcome.new
        result.alert_ids.extend(outcome.alert_ids)
        if outcome.new:
            metrics.ARTICLES.labels(self.settings.name, "drop").inc(outcome.new)
        log.info(
            "ingested source=%s path=%s articles=%d seen=%d alerts=%d",
            self.settings.name,
            candidate.path.name,
            outcome.new,
            outcome.seen,
            len(outcome.alert_ids),
        )

    async def _quarantine(
        self, candidate: Candidate, sha: str, reason: str, result: ScanResult
    ) -> None:
        result.quarantined += 1
        result.errors.append(f"{candidate.path}: {reason}")
        if self.quarantine is None:  # a one-off ingest reports, it does not move files
            log.error(
                "cannot read source=%s path=%s: %s", self.settings.name, candidate.path, reason
            )
            return
        target = await asyncio.to_thread(
            move_to_quarantine, candidate.path, self.quarantine, reason
        )
        async with self.sessions.begin() as session:
            await dropfiles.record_drop_file(
                session,
                source_id=self.source_id,
                sha256=sha,
                path=str(candidate.path),
                size=candidate.size,
                status=QUARANTINED,
                error=reason,
            )
        log.warning(
            "quarantined source=%s path=%s to=%s reason=%s",
            self.settings.name,
            candidate.path.name,
            target,
            reason,
        )


def move_to_quarantine(path: Path, folder: Path, reason: str) -> Path:
    """Move the file aside (never overwriting an earlier one) and write the reason beside it."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / path.name
    counter = 1
    while target.exists() or target.with_name(target.name + ".error").exists():
        target = folder / f"{path.stem}.{counter}{path.suffix}"
        counter += 1
    shutil.move(str(path), target)
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    target.with_name(target.name + ".error").write_text(
        f"{stamp} {path}\n{reason}\n", encoding="utf-8"
    )
    return target
