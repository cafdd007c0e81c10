"""The database under the daemon fails for real: another process holds the SQLite lock, the
disk holding the file fills up, PostgreSQL kills the daemon's connections mid-transaction,
and the PostgreSQL server is stopped and started again.

Each case runs ``newswatch run`` as a subprocess over a drop folder and a webhook receiver,
and ends the same way: the daemon is still running, every file dropped was stored once, and
every alert reached the receiver under one webhook-id, accepted once.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
from aiohttp import web
from sqlalchemy import select
from sqlalchemy.engine import make_url

from storage.engine import create_engine, location, session_factory
from storage.models import AlertRow, ArticleRow
from tests.conftest import PG_ENABLED, PG_SKIP_REASON, _dsn
from tests.support import DaemonProcess, Received, Receiver, free_port, toml_str

PG_BIN = Path("/usr/lib/postgresql/15/bin")
RULE = "Army"
WORDS = [
    *("river", "bridge", "council", "harvest", "railway", "station", "winter", "market"),
    *("festival", "library", "school", "hospital", "tram", "airport", "forest", "harbour"),
    *("museum", "stadium", "factory", "bakery", "orchard", "vineyard", "canal", "tunnel"),
    *("lighthouse", "quarry", "glacier", "meadow", "valley", "summit", "island", "lagoon"),
]


def record(n: int) -> dict[str, str]:
    """A JSON record whose words share nothing with another ``n``'s: one story, one alert."""
    rnd = random.Random(n)

    def words(count: int) -> str:
        return " ".join(f"{rnd.choice(WORDS)}{rnd.randint(0, 99999)}" for _ in range(count))

    return {
        "title": f"Army report {n}: {words(6)}",
        "text": f"The army said {words(80)}.\n\n{words(60)}.",
        "url": f"https://news.example.org/army/{n}",
        "published": "2026-03-02T09:30:00Z",
        "language": "en",
    }


def title(n: int) -> str:
    return record(n)["title"]


def drop(folder: Path, n: int) -> None:
    """As a scraper writes: under a temporary name first, then renamed into place."""
    partial = folder / f"report-{n}.json.part"
    partial.write_text(json.dumps(record(n)), encoding="utf-8")
    partial.rename(folder / f"report-{n}.json")


def write_settings(
    root: Path, database_url: str, hook_url: str, *, lease: str = "15s", http: int | None = None
) -> Path:
    drops = root / "drops"
    drops.mkdir(exist_ok=True)
    admin = f"http = {toml_str(f'127.0.0.1:{http}')}" if http else ""
    settings = root / "settings.toml"
    settings.write_text(
        f"""
[daemon]
database = {toml_str(database_url)}
data_dir = {toml_str(str(root / "data"))}
scan_interval = "0.3s"
delivery_interval = "0.3s"
shutdown_timeout = "2s"
{admin}

[delivery]
retry_schedule = [{", ".join(['"0.3s"'] * 30)}]
lease = {toml_str(lease)}

[[drops]]
name = "inbox"
path = {toml_str(str(drops))}
settle = "0.1s"
watch = false

[[rules]]
name = {toml_str(RULE)}
keywords = ["army"]
channels = ["desk"]

[channels.desk]
type = "webhook"
url = {toml_str(hook_url)}
timeout = "5s"
""",
        encoding="utf-8",
    )
    return settings


@dataclass(frozen=True)
class Reply:
    status: int = 200
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Hit:
    uid: str
    title: str
    body: bytes
    status: int
    at: float  # monotonic time of arrival


class Hook(Receiver):
    """A receiver whose first answers are scripted (status, delay), then 200 at once; it
    notes what it answered to each request, so "accepted" can be told from "seen"."""

    def __init__(self, replies: Sequence[Reply] = (), port: int = 0) -> None:
        super().__init__(port=port)
        self.replies = list(replies)
        self.hits: list[Hit] = []

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        at = time.monotonic()
        reply = self.replies.pop(0) if self.replies else Reply()
        self.requests.append(Received(request.path, dict(request.headers), body))
        self._changed.set()
        if reply.delay:
            await asyncio.sleep(reply.delay)
        payload = json.loads(body)
        uid = request.headers["webhook-id"]
        self.hits.append(Hit(uid, payload["article"]["title"], body, reply.status, at))
        text = "ok" if reply.status < 400 else "nope"
        return web.Response(status=reply.status, headers=reply.headers, text=text)

    def accepted(self) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for hit in self.hits:
            if 200 <= hit.status < 300:
                counts[hit.uid] += 1
        return dict(counts)


@contextlib.asynccontextmanager
async def running(settings: Path) -> AsyncIterator[DaemonProcess]:
    """The daemon for one case; it must still be running at the end and stop cleanly."""
    daemon = await DaemonProcess(settings).start()
    try:
        yield daemon
        assert daemon.proc is not None and daemon.proc.returncode is None, daemon.log()
    finally:
        code = await daemon.stop(signal.SIGTERM)
    assert code == 0, daemon.log()


async def stored(database_url: str) -> tuple[list[str], list[AlertRow]]:
    """The titles of the stored articles and every alert row, oldest first."""
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            titles = await session.scalars(select(ArticleRow.title).order_by(ArticleRow.id))
            alerts = await session.scalars(select(AlertRow).order_by(AlertRow.id))
            return list(titles), list(alerts)
    finally:
        await engine.dispose()


async def until(check: Callable[[], Awaitable[bool]], within: float, what: str) -> float:
    """Wait for ``check``; returns the monotonic time it first held."""
    deadline = time.monotonic() + within
    while not await check():
        assert time.monotonic() < deadline, f"not in {within}s: {what}"
        await asyncio.sleep(0.1)
    return time.monotonic()


async def all_delivered(database_url: str, hook: Hook, count: int, within: float) -> None:
    alerts: list[AlertRow] = []

    async def done() -> bool:
        nonlocal alerts
        _, alerts = await stored(database_url)
        statuses = [a.status for a in alerts]
        return statuses == ["delivered"] * count and len(hook.accepted()) == count

    try:
        await until(done, within, f"{count} alerts delivered")
    except AssertionError as exc:
        rows = [(a.id, a.status, a.attempts, a.lease_owner, a.lease_until) for a in alerts]
        raise AssertionError(f"{exc}; alerts (id, status, attempts, lease): {rows}") from None


async def assert_each_once(database_url: str, hook: Hook, numbers: Sequence[int]) -> None:
    """Every file stored once, its alert delivered, accepted once under a single id; a
    repeat (a send whose answer or mark was lost) carries the same id and body."""
    titles, alerts = await stored(database_url)
    assert sorted(titles) == sorted(title(n) for n in numbers)
    assert [a.status for a in alerts] == ["delivered"] * len(numbers)
    uids_by_title: dict[str, set[str]] = defaultdict(set)
    bodies: dict[str, set[bytes]] = defaultdict(set)
    for hit in hook.hits:
        uids_by_title[hit.title].add(hit.uid)
        bodies[hit.uid].add(hit.body)
    assert set(uids_by_title) == {title(n) for n in numbers}
    assert all(len(uids) == 1 for uids in uids_by_title.values()), uids_by_title
    assert set(bodies) == {a.uid for a in alerts}
    assert all(len(b) == 1 for b in bodies.values()), "a repeat must be the same message"
    assert hook.accepted() == {a.uid: 1 for a in alerts}


def logged(daemon: DaemonProcess, *needles: str) -> list[str]:
    return [line for line in daemon.lines if all(needle in line for needle in needles)]


# --- SQLite: a lock held by another process -------------------------------------------------

LOCKER = """
import sqlite3, sys, time
connection = sqlite3.connect(sys.argv[1], timeout=10, isolation_level=None)
connection.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
connection.rollback()
connection.close()
print("released", flush=True)
"""


@contextlib.asynccontextmanager
async def locked(database: Path, seconds: float) -> AsyncIterator[asyncio.subprocess.Process]:
    """Another process holding SQLite's write lock on ``database`` for ``seconds``."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", LOCKER, str(database), str(seconds), stdout=asyncio.subprocess.PIPE
    )
    try:
        assert proc.stdout is not None
        assert (await asyncio.wait_for(proc.stdout.readline(), 15)).strip() == b"locked"
        yield proc
    finally:
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
        await proc.wait()


async def released(proc: asyncio.subprocess.Process) -> float:
    assert proc.stdout is not None
    assert (await asyncio.wait_for(proc.stdout.readline(), 30)).strip() == b"released"
    return time.monotonic()


@pytest.mark.slow
async def test_sqlite_locked_by_another_process_waits_then_ingests(tmp_path: Path) -> None:
    """Within the busy timeout (30 s) a writer waits for the lock: no error, nothing lost."""
    db = tmp_path / "newswatch.db"
    url = f"sqlite+aiosqlite:///{db}"
    hook = Hook()
    await hook.start()
    try:
        async with running(write_settings(tmp_path, url, hook.url)) as daemon:
            drop(tmp_path / "drops", 0)
            await hook.wait_for(1)
            async with locked(db, 2.5) as locker:
                drop(tmp_path / "drops", 1)
                drop(tmp_path / "drops", 2)
                await asyncio.sleep(1.2)  # found, parsed, and waiting for the lock
                assert not logged(daemon, "report-1.json", "ingested"), daemon.log()
                free_at = await released(locker)
            await all_delivered(url, hook, 3, within=10)
            assert all(hit.at > free_at for hit in hook.hits[1:])
            assert not logged(daemon, "ERROR"), daemon.log()
            assert not logged(daemon, "database is locked"), daemon.log()
        await assert_each_once(url, hook, [0, 1, 2])
    finally:
        await hook.stop()


@pytest.mark.slow
async def test_sqlite_lock_beyond_the_busy_timeout_is_reported_and_retried(
    tmp_path: Path,
) -> None:
    """``?timeout=0.5`` in the URL: the lock outlasts it, the store fails with "database is
    locked" naming the file, the scan tries the files again and stores them once it can."""
    db = tmp_path / "newswatch.db"
    url = f"sqlite+aiosqlite:///{db}?timeout=0.5"
    hook = Hook()
    await hook.start()
    try:
        async with running(write_settings(tmp_path, url, hook.url)) as daemon:
            drop(tmp_path / "drops", 0)
            await hook.wait_for(1)
            async with locked(db, 3.0) as locker:
                drop(tmp_path / "drops", 1)
                drop(tmp_path / "drops", 2)
                await daemon.wait_log(lambda line: "database is locked" in line, 10)
                named = f"database is locked (database {db})"
                await daemon.wait_log(lambda line: named in line, 5)
                failed = await daemon.wait_log(lambda line: "job failed job=drop:inbox" in line, 5)
                assert named in failed, "the failure is one line that says what and where"
                assert "Traceback" not in daemon.log(), "a database away is not a crash"
                await released(locker)
                assert len(hook.requests) == 1, "nothing was stored under the lock"
            await daemon.wait_log(lambda line: "ingested" in line and "report-2.json" in line)
            await all_delivered(url, hook, 3, within=10)
        await assert_each_once(url, hook, [0, 1, 2])
    finally:
        await hook.stop()


# --- SQLite: the disk fills up --------------------------------------------------------------


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, check=False)


@contextlib.contextmanager
def small_disk(where: Path, size: str = "2m") -> Iterator[Path]:
    """A file system of ``size`` mounted at ``where``: tmpfs, else a loopback ext4 image;
    skipped, with what the commands said, where neither may be mounted."""
    where.mkdir()
    image: Path | None = None
    tmpfs = _run("mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where))
    if tmpfs.returncode != 0:
        image = where.with_name(where.name + ".img")
        steps = [
            ("truncate", "-s", "4M", str(image)),
            ("mkfs.ext4", "-q", "-F", str(image)),
            ("mount", "-o", "loop", str(image), str(where)),
        ]
        for step in steps:
            loop = _run(*step)
            if loop.returncode != 0:
                pytest.skip(
                    f"cannot mount a small file system: `mount -t tmpfs` said "
                    f"{tmpfs.stderr.strip()!r}; `{' '.join(step)}` said {loop.stderr.strip()!r}"
                )
    try:
        yield where
    finally:
        if _run("umount", str(where)).returncode != 0:
            _run("umount", "-l", str(where))
        if image is not None:
            image.unlink(missing_ok=True)


def fill(folder: Path) -> Path:
    """Write zeros until the file system refuses another byte."""
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for chunk in (1 << 16, 4096, 512, 1):
            block = b"\0" * chunk
            while True:
                try:
                    os.write(fd, block)
                except OSError as exc:
                    if exc.errno != errno.ENOSPC:
                        raise
                    break
        os.fsync(fd)
    finally:
        os.close(fd)
    return filler


def empty_log(db: Path) -> None:
    """Copy the write-ahead log into the file and cut it to nothing, so that the next
    commit needs new blocks (a log with room left would take a small one without them)."""
    deadline = time.monotonic() + 10
    connection = sqlite3.connect(db, timeout=10)
    try:
        while True:
            busy, _, _ = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            if not busy:
                return
            assert time.monotonic() < deadline, "the log could not be truncated"
            time.sleep(0.05)
    finally:
        connection.close()


@pytest.mark.slow
async def test_full_disk_is_reported_and_the_rest_is_stored_once_space_is_freed(
    tmp_path: Path,
) -> None:
    hook = Hook()
    await hook.start()
    try:
        with small_disk(tmp_path / "disk") as disk:
            db = disk / "newswatch.db"
            url = f"sqlite+aiosqlite:///{db}"
            async with running(write_settings(tmp_path, url, hook.url)) as daemon:
                drop(tmp_path / "drops", 0)
                await all_delivered(url, hook, 1, within=10)
                await asyncio.to_thread(empty_log, db)
                filler = await asyncio.to_thread(fill, disk)
                for n in (1, 2, 3):
                    drop(tmp_path / "drops", n)
                named = f"database or disk is full (database {db})"
                await daemon.wait_log(lambda line: named in line)
                await asyncio.sleep(1.5)  # several scans meet the full disk
                failures = logged(daemon, "job failed job=drop:inbox")
                assert len(failures) >= 2, "each scan tries the waiting files again"
                assert len(hook.requests) == 1, "nothing new was stored on the full disk"
                titles, _ = await stored(url)
                assert titles == [title(0)], "what was committed before stays"

                filler.unlink()
                await all_delivered(url, hook, 4, within=15)
            await assert_each_once(url, hook, [0, 1, 2, 3])
            connection = sqlite3.connect(db)
            try:
                assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            finally:
                connection.close()
    finally:
        await hook.stop()


# --- PostgreSQL: connections killed mid-transaction -----------------------------------------


async def terminate_in_transaction(admin: asyncpg.Connection, database: str) -> int:
    """Kill the daemon's backends that are inside a transaction right now, but for those
    writing a delivery's outcome: a send whose mark is lost is sent again by design (the
    restart cases below cover that), and here every alert must be accepted exactly once."""
    killed = await admin.fetchval(
        """
        SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))
        FROM pg_stat_activity
        WHERE datname = $1 AND pid <> pg_backend_pid() AND xact_start IS NOT NULL
          AND NOT (query ILIKE 'UPDATE alert%' AND query ILIKE '%attempts%')
        """,
        database,
    )
    return int(killed or 0)


async def terminate_idle(admin: asyncpg.Connection, database: str) -> int:
    """Kill the backends idle in the daemon's pool; one in the middle of a job is the other
    fault (``terminate_in_transaction``), which does log the job it failed."""
    killed = await admin.fetchval(
        """
        SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))
        FROM pg_stat_activity
        WHERE datname = $1 AND pid <> pg_backend_pid() AND state = 'idle'
        """,
        database,
    )
    return int(killed or 0)


@pytest.mark.postgres
@pytest.mark.slow
async def test_postgres_connections_killed_mid_transaction_lose_nothing(
    tmp_path: Path, postgres_url: str
) -> None:
    """Backends are killed whenever they are inside a transaction while files are stored
    and alerts delivered; the failed jobs run again on fresh connections."""
    database = make_url(postgres_url).database
    assert database is not None
    hook = Hook(replies=[Reply(200, 0.2)] * 8)
    await hook.start()
    admin = await asyncpg.connect(_dsn(postgres_url))

    async def files() -> None:
        for n in range(8):
            drop(tmp_path / "drops", n)
            await asyncio.sleep(0.2)

    try:
        async with running(write_settings(tmp_path, postgres_url, hook.url)) as daemon:
            dropping = asyncio.create_task(files())
            killed = 0
            stop_at = time.monotonic() + 2.5
            while time.monotonic() < stop_at:
                killed += await terminate_in_transaction(admin, database)
                await asyncio.sleep(0.005)
            await dropping
            assert killed >= 1, "no transaction was caught"
            await all_delivered(postgres_url, hook, 8, within=30)
            errors = logged(daemon, "terminating connection due to administrator command")
            assert errors, daemon.log()
            where = location(make_url(postgres_url))
            assert any(f"(database {where})" in e for e in errors), errors

            # Connections killed while idle in the pool: pre-ping replaces them unseen.
            before = len(daemon.lines)
            assert await terminate_idle(admin, database) > 0
            drop(tmp_path / "drops", 8)
            await all_delivered(postgres_url, hook, 9, within=10)
            assert not [line for line in daemon.lines[before:] if "ERROR" in line], daemon.log()
        await assert_each_once(postgres_url, hook, range(9))
        print(f"{killed} transactions killed")
    finally:
        await admin.close()
        await hook.stop()


# --- PostgreSQL: the server stops and starts again ------------------------------------------


@dataclass
class PrivatePostgres:
    """A PostgreSQL server of the test's own, run as the postgres user on a free port: the
    machine's shared server must never be the one restarted."""

    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="newswatch-pg-")))
    port: int = field(default_factory=free_port)

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def _postgres(self, program: str, *args: str) -> subprocess.CompletedProcess[str]:
        return _run("runuser", "-u", "postgres", "--", str(PG_BIN / program), *args)

    def _checked(self, program: str, *args: str) -> None:
        done = self._postgres(program, *args)
        if done.returncode != 0:
            log = self.data / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise AssertionError(f"{program} {' '.join(args)}: {done.stderr}{done.stdout}{tail}")

    def init(self) -> None:
        if not (PG_BIN / "initdb").exists() or shutil.which("runuser") is None:
            pytest.skip(f"no {PG_BIN / 'initdb'} or runuser to make a private PostgreSQL")
        self.root.chmod(0o755)
        self.data.mkdir()
        shutil.chown(self.data, "postgres", "postgres")
        self._checked("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "--no-sync")

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.data} -c fsync=off"
        log = str(self.data / "server.log")
        self._checked("pg_ctl", "-D", str(self.data), "-o", options, "-l", log, "-w", "start")

    def stop(self) -> None:
        self._checked("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def running(self) -> bool:
        return self._postgres("pg_ctl", "-D", str(self.data), "status").returncode == 0

    def remove(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._postgres("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="module")
def private_postgres() -> Iterator[PrivatePostgres]:
    if not PG_ENABLED:
        pytest.skip(PG_SKIP_REASON)
    server = PrivatePostgres()
    try:
        server.init()
        server.start()
        yield server
    finally:
        server.remove()


@pytest.fixture
async def private_url(private_postgres: PrivatePostgres) -> AsyncIterator[str]:
    """A fresh database on the private server, which runs again after the test."""
    name = f"newswatch_{uuid.uuid4().hex[:12]}"
    dsn = _dsn(private_postgres.url)
    admin = await asyncpg.connect(dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield make_url(private_postgres.url).set(database=name).render_as_string(False)
    finally:
        if not await asyncio.to_thread(private_postgres.running):
            await asyncio.to_thread(private_postgres.start)
        admin = await asyncpg.connect(dsn)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


async def answer(url: str) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, await response.json()


async def attempted(database_url: str, count: int) -> bool:
    """Whether ``count`` alerts have their first failed attempt written down."""
    try:
        _, alerts = await stored(database_url)
    except Exception:
        return False
    return len(alerts) == count and all(a.attempts == 1 and a.lease_owner is None for a in alerts)


@pytest.mark.postgres
@pytest.mark.slow
async def test_postgres_restart_is_survived_and_alerts_enqueued_before_go_once(
    tmp_path: Path, private_postgres: PrivatePostgres, private_url: str
) -> None:
    """Three alerts wait for a retry (the receiver asked for 4 s) when the server stops; two
    files land during the outage. The daemon keeps serving and says the database is
    unreachable, naming it; after the restart all five alerts are delivered, each once."""
    server = private_postgres
    port = free_port()
    hook = Hook(replies=[Reply(503, headers={"Retry-After": "4"})] * 3)
    await hook.start()
    settings = write_settings(tmp_path, private_url, hook.url, lease="3s", http=port)
    try:
        async with running(settings) as daemon:
            for n in (0, 1, 2):
                drop(tmp_path / "drops", n)
            await until(lambda: attempted(private_url, 3), 10, "three failed attempts recorded")
            await asyncio.to_thread(server.stop)

            where = location(make_url(private_url))
            await daemon.wait_log(lambda line: "database unreachable" in line and where in line, 10)
            status, body = await answer(f"http://127.0.0.1:{port}/readyz")
            assert status == 503
            assert any(p.startswith("database unreachable") for p in body["problems"]), body
            assert (await answer(f"http://127.0.0.1:{port}/healthz"))[0] == 200
            for n in (3, 4):
                drop(tmp_path / "drops", n)
            await asyncio.sleep(1.5)
            assert daemon.proc is not None and daemon.proc.returncode is None

            await asyncio.to_thread(server.start)
            back = time.monotonic()
            await all_delivered(private_url, hook, 5, within=15)
            took = time.monotonic() - back
            assert took < 8, f"delivered {took:.1f}s after the restart"
            assert (await answer(f"http://127.0.0.1:{port}/readyz"))[0] == 200
        await assert_each_once(private_url, hook, range(5))
        assert [hit.status for hit in hook.hits[:3]] == [503] * 3
    finally:
        await hook.stop()


@pytest.mark.postgres
@pytest.mark.slow
async def test_postgres_lost_while_deliveries_wait_for_answers_delivers_them_after(
    tmp_path: Path, private_postgres: PrivatePostgres, private_url: str
) -> None:
    """The server stops while three sends wait for the receiver's (failing) answers, so their
    outcome cannot be written; it is back before their leases (4 s) run out. They must be
    tried again once it is, at the latest when those leases have run out."""
    server = private_postgres
    hook = Hook(replies=[Reply(500, 0.8)] * 3)
    await hook.start()
    try:
        async with running(write_settings(tmp_path, private_url, hook.url, lease="4s")):
            for n in (0, 1, 2):
                drop(tmp_path / "drops", n)
            await hook.wait_for(3)
            await asyncio.to_thread(server.stop)
            await asyncio.sleep(1.0)  # the answers come back; nothing can be written
            await asyncio.to_thread(server.start)
            await all_delivered(private_url, hook, 3, within=7)
        await assert_each_once(private_url, hook, range(3))
    finally:
        await hook.stop()


def test_errors_name_the_database_without_its_password() -> None:
    url = make_url("postgresql+asyncpg://newswatch:s3cret@db.example.org:5433/news?ssl=require")
    assert location(url) == "postgresql://newswatch@db.example.org:5433/news"
    assert location(make_url("sqlite+aiosqlite:////var/lib/nw/newswatch.db")) == (
        "/var/lib/nw/newswatch.db"
    )
