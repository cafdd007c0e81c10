"""Parsing off the event loop: worker processes use every core, a thread is the fallback.

feedparser and the HTML extractor are pure Python and hold the GIL; run on the loop thread a
large feed would stall every fetch in flight. In worker processes they run in parallel with
the loop and with each other. Workers are started by a fork server that imports the parsers
once, so a new worker costs a fork, not a fresh interpreter.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import NamedTuple, TypeVar
from zoneinfo import ZoneInfo

from daemon import dedup
from daemon.errors import ParseError
from daemon.parse import ParsedFeed, parse_bytes, parse_feed
from daemon.prepared import Entry, item_key, prepare
from storage.types import Article

log = logging.getLogger("newswatch.feeds")
T = TypeVar("T")
PARSE_TIMEOUT = 120.0
WORKER_NICENESS = 10
ORPHAN_CHECK_SECONDS = 0.5


class PreparedFeed(NamedTuple):
    """A parsed feed, its entries in order (sketched unless the feed gave them last time
    too), and ``seen``: the digests of all their item keys, for the next poll."""

    feed: ParsedFeed
    items: list[Entry]
    seen: bytes


def key_digest(key: str) -> bytes:
    """8 bytes for an item key: the hint kept per feed between polls stays small."""
    return hashlib.blake2b(key.encode(), digest_size=8).digest()


def parse_feed_job(
    data: bytes, source: str, zone: ZoneInfo | None, seen: bytes = b""
) -> PreparedFeed:
    """Parse, and sketch the entries that are new while in the worker: the event loop's
    process then only stores and matches. A feed that changed usually lists one or two new
    entries among dozens it listed before; those (``seen``, from its last stored poll) are
    not read past their GUID and date when they have a GUID, and not sketched when they have
    none, since storage would skip them anyway."""
    before = seen_digests(seen)
    by_guid: dict[str, bytes] = {}

    def known(guid: str) -> bool:
        by_guid[guid] = digest = guid_digest(guid)
        return digest in before

    feed = parse_feed(data, source=source, timezone=zone, known=known)
    items: list[Entry] = []
    digests = [by_guid[guid] for guid, _ in feed.known]
    for article in feed.articles:
        digest = by_guid.get(article.guid or "") or key_digest(item_key(article))
        digests.append(digest)
        items.append(article if digest in before else prepare(article))
    return PreparedFeed(feed, items, b"".join(digests))


def seen_digests(seen: bytes) -> set[bytes]:
    """The item key digests a ``PreparedFeed.seen`` holds."""
    return {seen[i : i + 8] for i in range(0, len(seen), 8)}


def guid_digest(guid: str) -> bytes:
    """The digest of the item key of an entry with this GUID (what ``item_key`` gives it)."""
    return key_digest(dedup.item_key(guid, None, "", ""))


def parse_page_job(data: bytes, url: str, source: str, zone: ZoneInfo | None) -> Article | None:
    """The article on a linked page, or None when the page holds none we can read."""
    try:
        articles = parse_bytes(data, name=url, timezone=zone, source=source)
    except ParseError:
        return None
    return articles[0] if articles else None


def _start_worker(daemon_pid: int) -> None:
    """Workers run at a lower priority: with every core parsing, the event loop (fetches,
    timeouts, the database) must still get the CPU the moment it needs it.

    They are children of the fork server, not of the daemon, and neither notices when a
    SIGKILL ends the daemon: they would live on, holding memory and the daemon's output pipe,
    one set per crash. So each watches the daemon and leaves when it is gone; the fork server
    follows once its children are.
    """
    os.nice(WORKER_NICENESS)

    def watch() -> None:
        while True:
            time.sleep(ORPHAN_CHECK_SECONDS)
            if not _alive(daemon_pid):
                os._exit(0)

    threading.Thread(target=watch, name="newswatch-orphan-check", daemon=True).start()


def _alive(pid: int) -> bool:
    """Running, and not a zombie waiting for its parent to collect it."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rpartition(b")")[2].split()[0] != b"Z"
    except OSError:
        return True  # no /proc: a zombie is taken for alive


def worker_count(setting: int) -> int:
    """``-1`` means one worker per core, but none on a single core (a thread does as well)."""
    if setting >= 0:
        return setting
    cores = os.cpu_count() or 1
    return cores if cores > 1 else 0


class ParsePool:
    def __init__(self, processes: int) -> None:
        self.processes = processes
        self.parsed = 0  # documents handed to a parser (tests prove a 304 parses nothing)
        self._executor: Executor | None = None
        self._in_flight = 0
        self._marked = time.perf_counter()
        self._full = 0.0

    @property
    def busy(self) -> int:
        """Workers parsing a document now (documents beyond that wait for one)."""
        return min(self._in_flight, max(self.processes, 1))

    def full_seconds(self) -> float:
        """Seconds so far during which every worker had a document to parse (one, with the
        thread fallback). Parsing is the stage everything else waits on: over a round with
        news, this close to the round's length says fetching and storing never left a parser
        without work: parsing is what limits the round."""
        self._account()
        return self._full

    def _account(self) -> None:
        now = time.perf_counter()
        if self._in_flight >= max(self.processes, 1):
            self._full += now - self._marked
        self._marked = now

    def _pool(self) -> Executor:
        if self._executor is None:
            if self.processes > 0:
                context = multiprocessing.get_context("forkserver")
                context.set_forkserver_preload(["daemon.feeds.parsing"])  # and what it imports
                self._executor = ProcessPoolExecutor(
                    self.processes,
                    mp_context=context,
                    initializer=_start_worker,
                    initargs=(os.getpid(),),
                )
            else:
                self._executor = ThreadPoolExecutor(2, thread_name_prefix="newswatch-parse")
        return self._executor

    async def warm_up(self) -> None:
        """Start the workers before the first poll rather than during it."""
        if self.processes > 0:
            await asyncio.gather(*(self._run(os.getpid) for _ in range(self.processes)))

    async def feed(
        self, data: bytes, source: str, zone: ZoneInfo | None, seen: bytes = b""
    ) -> PreparedFeed:
        self.parsed += 1
        return await self._run(parse_feed_job, data, source, zone, seen)

    async def page(
        self, data: bytes, url: str, source: str, zone: ZoneInfo | None
    ) -> Article | None:
        return await self._run(parse_page_job, data, url, source, zone)

    async def _run(self, func: Callable[..., T], *args: object) -> T:
        loop = asyncio.get_running_loop()
        self._account()
        self._in_flight += 1
        try:
            async with asyncio.timeout(PARSE_TIMEOUT):
                return await loop.run_in_executor(self._pool(), func, *args)
        except BrokenProcessPool as exc:
            log.error("parser worker died; starting new ones")
            self._executor = None
            raise ParseError("the parser process died on this document") from exc
        except TimeoutError as exc:
            raise ParseError(f"parsing took longer than {PARSE_TIMEOUT:g}s") from exc
        finally:
            self._account()
            self._in_flight -= 1

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
