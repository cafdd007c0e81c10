"""Drop folders: files that scrapers, analysts or other tools leave for us to read.

A file is read once it has settled (unchanged for ``settle`` seconds) and never by a temporary
name, so a file still being written is not read half-way. Its content hash decides whether it
is new: the same content under another name is not read again. A file that cannot be read is
moved to the quarantine folder beside a ``.error`` file that says why; nothing else stops.
An empty file is first given EMPTY_GRACE to grow; a link out of the folder, a pipe, a socket
or a device is quarantined unopened; a file the system will not let us open stays where it
is and is tried again at the next scan.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import re
import shutil
import stat
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from daemon import metrics
from daemon.errors import ParseError
from daemon.ingest import IngestResult, Pipeline, ingest_many
from daemon.parse import parse_bytes
from daemon.settings import DropSettings
from storage import dropfiles
from storage.lane import writing
from storage.types import Article

Progress = Callable[[int, int], None]
log = logging.getLogger("newswatch.drops")

TEMPORARY_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload", ".swp", ".download", "~")
QUARANTINED, INGESTED = "quarantined", "ingested"
# An empty file is a writer's first step as often as a mistake: it is given this long to
# grow (or its settle time, if longer) before it is quarantined as empty.
EMPTY_GRACE = 60.0
# Files stored in one transaction, or fewer once their articles reach STORE_ARTICLES (a JSON
# drop may hold thousands).
STORE_FILES = 32
STORE_ARTICLES = 500
_CONTROLS = re.compile("[\x00-\x1f\x7f]")
_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
_KINDS = (
    (stat.S_ISFIFO, "a named pipe"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISDIR, "a folder"),
)


def is_temporary(name: str) -> bool:
    return name.startswith((".", "~")) or name.lower().endswith(TEMPORARY_SUFFIXES)


def shown(path: Path | str) -> str:
    """A path as text that can be logged, stored and written: a name that is not UTF-8
    (bytes from another system's code page) keeps its odd bytes as ``\\xNN`` escapes, and
    control characters (a newline in a name would forge a log line) are escaped the same."""
    text = os.fsencode(path).decode("utf-8", "backslashreplace")
    return _CONTROLS.sub(lambda found: f"\\x{ord(found.group()):02x}", text)


def _not_regular(mode: int) -> str | None:
    for test, kind in _KINDS:
        if test(mode):
            return kind
    return None if stat.S_ISREG(mode) else "not a regular file"


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


@dataclass(frozen=True, slots=True)
class _Parsed:
    """A file read and parsed, waiting for its group to be stored."""

    candidate: Candidate
    sha: str
    articles: list[Article]


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
        write_slot: asyncio.Semaphore | None = None,
    ) -> None:
        self.settings = settings
        self.write_slot = write_slot  # SQLite: writers take turns (storage.lane.writing)
        self.root = root
        self.quarantine = quarantine
        self.source_id = source_id
        self.sessions = sessions
        self.pipeline = pipeline
        self.zone = ZoneInfo(settings.timezone) if settings.timezone else None
        self._handled: dict[Path, tuple[int, float]] = {}
        self._unreadable: dict[Path, str] = {}  # the error last logged for each such file
        # The periodic scan and the notified one take turns: the same file read by both at
        # once would be checked against the database before either had recorded it.
        self._turn = asyncio.Lock()

    async def scan(
        self, *, settle: float | None = None, progress: Progress | None = None
    ) -> ScanResult:
        """``progress`` hears (files done, files in all) after each file."""
        settle = self.settings.settle if settle is None else settle
        async with self._turn:
            candidates = await asyncio.to_thread(self._candidates, settle)
            return await self._read_all(candidates, progress)

    async def scan_files(self, paths: list[Path], progress: Progress | None = None) -> ScanResult:
        """Read the given files now, whatever their age (``newswatch ingest``)."""
        candidates = []
        for path in paths:
            stat = await asyncio.to_thread(path.stat)
            candidates.append(Candidate(path, stat.st_size, stat.st_mtime))
        return await self._read_all(candidates, progress)

    async def _read_all(self, candidates: list[Candidate], progress: Progress | None) -> ScanResult:
        """Read and parse file after file, storing them a group at a time: a transaction per
        file capped a folder at a few dozen files a second on a busy machine, and a backlog
        (a folder filled while the daemon was down) then took minutes to alert."""
        result = ScanResult()
        group: list[_Parsed] = []
        for done, candidate in enumerate(candidates, 1):
            parsed = await self._process(candidate, result)
            if parsed is not None and any(p.sha == parsed.sha for p in group):
                self._already_read(candidate)  # a copy, or a link to a file read just before
            elif parsed is not None:
                group.append(parsed)
            if group and (
                done == len(candidates)
                or len(group) >= STORE_FILES
                or sum(len(p.articles) for p in group) >= STORE_ARTICLES
            ):
                await self._store(group, result)
                group = []
            if progress is not None:
                progress(done, len(candidates))
        return result

    def _candidates(self, settle: float) -> list[Candidate]:
        if not self.root.is_dir():
            log.warning("drop folder missing source=%s path=%s", self.settings.name, self.root)
            return []
        now = time.time()
        found = []
        for path in self._walk():
            try:
                info = path.stat()
            except OSError:
                continue
            key = (info.st_size, info.st_mtime)
            if self._handled.get(path) == key or now - info.st_mtime < settle:
                continue
            if info.st_size == 0 and self._waits_for_content(info, now, settle):
                continue
            found.append(Candidate(path, info.st_size, info.st_mtime))
        return sorted(found, key=lambda c: (c.mtime, c.path.name))

    def _waits_for_content(self, info: os.stat_result, now: float, settle: float) -> bool:
        """An empty regular file waits for its writer, in the daemon; a one-off ingest (no
        quarantine) reports it at once."""
        if self.quarantine is None or not stat.S_ISREG(info.st_mode):
            return False
        return now - info.st_mtime < max(settle, EMPTY_GRACE)

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

    async def _process(self, candidate: Candidate, result: ScanResult) -> _Parsed | None:
        """A file read and parsed, to be stored; None when it was settled otherwise (known
        already, quarantined, unreadable)."""
        path = candidate.path
        try:
            data = await asyncio.to_thread(self._read, candidate)
        except OSError as exc:
            self._cannot_read(candidate, exc, result)
            return None
        except ParseError as exc:
            # Unread content has no hash; identify the file itself so each one is recorded.
            marker = b"unread:%s:%d:%r" % (os.fsencode(path), candidate.size, candidate.mtime)
            await self._quarantine(candidate, hashlib.sha256(marker).hexdigest(), str(exc), result)
            return None
        self._unreadable.pop(path, None)
        sha = hashlib.sha256(data).hexdigest()
        async with self.sessions() as session:
            known = await dropfiles.known_content(session, self.source_id, sha)
        if known is not None:
            status, error = known
            if status == QUARANTINED:
                await self._quarantine(candidate, sha, error or "quarantined before", result)
                self._handled[path] = (candidate.size, candidate.mtime)
            else:
                self._already_read(candidate)
            return None
        try:
            articles = await asyncio.to_thread(self._parse, data, candidate)
        except ParseError as exc:
            await self._quarantine(candidate, sha, str(exc), result)
            return None
        except Exception as exc:  # a parser bug must cost one file, not the daemon
            log.exception("parser failed source=%s path=%s", self.settings.name, shown(path))
            await self._quarantine(candidate, sha, f"parser error: {exc!r}", result)
            return None
        return _Parsed(candidate, sha, articles)

    def _already_read(self, candidate: Candidate) -> None:
        log.info("already read source=%s path=%s", self.settings.name, shown(candidate.path.name))
        self._handled[candidate.path] = (candidate.size, candidate.mtime)

    def _cannot_read(self, candidate: Candidate, exc: OSError, result: ScanResult) -> None:
        """A file the operating system will not let us read (permissions, gone since the
        listing) is left where it is and tried again at the next scan, but said once per
        error, not every scan. A one-off ingest counts it as unreadable."""
        path = candidate.path
        reason = f"cannot read: {exc.strerror or exc}"
        if self.quarantine is None:
            result.quarantined += 1
            result.errors.append(f"{shown(path)}: {reason}")
        if self._unreadable.get(path) == reason:
            return
        self._unreadable[path] = reason
        log.warning(
            "cannot read drop file source=%s path=%s: %s (tried again at the next scan)",
            self.settings.name,
            shown(path),
            reason,
        )

    def _read(self, candidate: Candidate) -> bytes:
        """The file's bytes, never by a symbolic link that leads out of the drop folder, and
        never from a pipe, socket or device: opening a pipe waits for a writer that may
        never come, and would hold the folder's scans for good."""
        limit = self.settings.max_file_size
        if candidate.size > limit:
            raise ParseError(f"file is {candidate.size} bytes, over the limit of {limit} bytes")
        path = self._target(candidate.path)
        kind = _not_regular(os.stat(path).st_mode)
        if kind is not None:
            raise ParseError(f"{kind}, not a file: not read")
        with os.fdopen(os.open(path, _OPEN_FLAGS), "rb") as handle:
            kind = _not_regular(os.fstat(handle.fileno()).st_mode)  # swapped since the check
            if kind is not None:
                raise ParseError(f"{kind}, not a file: not read")
            data = handle.read(limit + 1)
        if len(data) > limit:
            raise ParseError(f"file grew over the limit of {limit} bytes while being read")
        return data

    def _target(self, path: Path) -> Path:
        """Where a folder entry leads: itself, or a symbolic link's target inside the drop
        folder. A link out of it (to /etc, to another user's files) is refused: whoever can
        write to the folder could otherwise have any file the daemon can read stored and
        alerted on."""
        if not path.is_symlink():
            return path
        target = Path(os.path.realpath(path))
        if not target.is_relative_to(os.path.realpath(self.root)):
            raise ParseError(f"symbolic link to {shown(target)}, outside the drop folder: not read")
        return target

    def _parse(self, data: bytes, candidate: Candidate) -> list[Article]:
        return parse_bytes(
            data,
            name=candidate.path.name,
            timezone=self.zone,
            captured=datetime.fromtimestamp(candidate.mtime, UTC),
            source=self.settings.name,
            max_bytes=self.settings.max_file_size,
        )

    async def _store(self, group: list[_Parsed], result: ScanResult) -> None:
        """One transaction for the group; if it fails, one per file, so that one file the
        database refuses costs only itself (and is tried again at the next scan)."""
        try:
            async with writing(self.sessions, self.write_slot) as session:
                outcomes = await ingest_many(
                    session,
                    [(self.source_id, parsed.articles) for parsed in group],
                    pipeline=self.pipeline(),
                )
                for parsed, outcome in zip(group, outcomes, strict=True):
                    await self._record(session, parsed, outcome)
        except Exception as exc:
            if len(group) == 1:
                raise
            log.warning(
                "storing %d files together failed source=%s, storing them one by one: %r",
                *(len(group), self.settings.name, exc),
            )
            for parsed in group:
                await self._store([parsed], result)
            return
        for parsed, outcome in zip(group, outcomes, strict=True):
            self._stored(parsed, outcome, result)

    async def _record(self, session: AsyncSession, parsed: _Parsed, outcome: IngestResult) -> None:
        candidate = parsed.candidate
        await dropfiles.record_drop_file(
            session,
            source_id=self.source_id,
            sha256=parsed.sha,
            path=shown(candidate.path),
            size=candidate.size,
            status=INGESTED,
            articles=outcome.new,
        )

    def _stored(self, parsed: _Parsed, outcome: IngestResult, result: ScanResult) -> None:
        candidate = parsed.candidate
        self._handled[candidate.path] = (candidate.size, candidate.mtime)
        result.files += 1
        result.articles += outcome.new
        result.alert_ids.extend(outcome.alert_ids)
        if outcome.new:
            metrics.ARTICLES.labels(self.settings.name, "drop").inc(outcome.new)
        log.info(
            "ingested source=%s path=%s articles=%d seen=%d alerts=%d",
            self.settings.name,
            shown(candidate.path.name),
            outcome.new,
            outcome.seen,
            len(outcome.alert_ids),
        )

    async def _quarantine(
        self, candidate: Candidate, sha: str, reason: str, result: ScanResult
    ) -> None:
        result.quarantined += 1
        result.errors.append(f"{shown(candidate.path)}: {reason}")
        if self.quarantine is None:  # a one-off ingest reports, it does not move files
            log.error(
                "cannot read source=%s path=%s: %s",
                self.settings.name,
                shown(candidate.path),
                reason,
            )
            return
        try:
            target = await asyncio.to_thread(
                move_to_quarantine, candidate.path, self.quarantine, reason
            )
        except OSError as exc:  # gone meanwhile, or the quarantine folder is not writable
            log.error(
                "cannot quarantine source=%s path=%s reason=%s: %s",
                self.settings.name,
                shown(candidate.path),
                reason,
                exc,
            )
            return
        async with writing(self.sessions, self.write_slot) as session:
            await dropfiles.record_drop_file(
                session,
                source_id=self.source_id,
                sha256=sha,
                path=shown(candidate.path),
                size=candidate.size,
                status=QUARANTINED,
                error=reason,
            )
        log.warning(
            "quarantined source=%s path=%s to=%s reason=%s",
            self.settings.name,
            shown(candidate.path.name),
            shown(target),
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
        f"{stamp} {shown(path)}\n{reason}\n", encoding="utf-8"
    )
    return target
