"""Fast, quiet recovery: one daemon per SQLite file, leases taken back at restart, renewed
while work runs, and delivered marks written as the receiver answers.

A crash must cost at most what was in flight at that moment: a restart delivers what the dead
process held within seconds (not after its leases lapse), and only alerts whose receiver had
answered in the last instant before the kill are sent again.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import psutil
from sqlalchemy import select, update

from storage.engine import create_engine, session_factory
from storage.leases import new_owner, renew, stale_owner
from storage.models import AlertRow, utcnow
from tests.support import ROOT, DaemonProcess
from tests.test_crash import add_alerts, wait_delivered, write_settings
from tests.test_delivery_kit import ScriptedReceiver

# A delivery's mark is written within SETTLE_SECONDS of its answer, plus one transaction.
MARK_WITHIN = 1.0


async def run_cli(settings: Path) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "daemon",
        "--settings",
        str(settings),
        "run",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        cwd=str(ROOT),
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode is not None
    return proc.returncode, out.decode(errors="replace")


async def test_second_run_on_one_sqlite_file_refuses(tmp_path: Path) -> None:
    database = tmp_path / "newswatch.db"
    receiver = await ScriptedReceiver().start()
    settings = write_settings(
        tmp_path / "settings.toml", f"sqlite+aiosqlite:///{database}", receiver.url
    )
    try:
        first = await DaemonProcess(settings).start()
        pid = first.proc.pid if first.proc else 0
        code, out = await run_cli(settings)
        assert code == 2, out
        assert f"[daemon] database: {database} is in use by another `newswatch run`" in out
        assert f"pid {pid} on " in out, "the message names the holder"
        assert "Traceback" not in out
        # SIGKILL leaves no chance to clean up: the kernel drops the lock with the process.
        assert await first.stop(signal.SIGKILL) == -signal.SIGKILL
        second = await DaemonProcess(settings).start()
        assert await second.stop() == 0, second.log()
    finally:
        await receiver.stop()


async def test_restart_after_sigkill_takes_back_leases_and_repeats_only_in_flight(
    tmp_path: Path, database_url: str
) -> None:
    """The default 15 s lease is left as it is: only reclaiming at start can deliver within
    seconds of the restart."""
    receiver = ScriptedReceiver(delay=0.4)
    await receiver.start()
    uids = await add_alerts(database_url, 40)
    settings = write_settings(tmp_path / "settings.toml", database_url, receiver.url, lease="15s")
    # Two at a time: a round of 20 then takes 5 s, so its first answers come well before
    # the kill, and only marks written as answers come in keep them from being sent again.
    settings.write_text(settings.read_text().replace("concurrency = 8", "concurrency = 2"))
    try:
        first = await DaemonProcess(settings).start()
        await receiver.wait_for(12)
        await asyncio.sleep(0.3)
        killed = time.monotonic()
        assert await first.stop(signal.SIGKILL) == -signal.SIGKILL
        before = len(receiver.requests)
        assert before < 40, "the kill must come while deliveries are still to be made"
        receiver.delay = 0.02
        second = await DaemonProcess(settings).start()
        restarted = time.monotonic()
        try:
            await wait_delivered(database_url, 40, within=10.0)
            caught_up = time.monotonic() - restarted
        finally:
            assert await second.stop() == 0, second.log()
    finally:
        await receiver.stop()
    assert "reclaimed the leases of a daemon that stopped" in second.log()
    ids = [r.headers["webhook-id"] for r in receiver.requests]
    assert set(ids) == set(uids), "every alert arrived, nothing else did"
    repeated = [uid for uid, n in Counter(ids).items() if n > 1]
    first_answer: dict[str, float] = {}
    for request, answered in zip(receiver.requests, receiver.times, strict=True):
        first_answer.setdefault(request.headers["webhook-id"], answered)
    late = [u for u in repeated if first_answer[u] < killed - MARK_WITHIN]
    assert not late, f"answered more than {MARK_WITHIN}s before the kill, yet sent again: {late}"
    assert caught_up < 8.0, f"pending alerts took {caught_up:.1f}s after the restart"
    print(
        f"{before} answered before the kill, {len(repeated)} sent again, "
        f"all 40 delivered {caught_up:.1f}s after the restart"
    )


async def test_renewed_lease_outlives_a_slow_send(tmp_path: Path, postgres_url: str) -> None:
    """Two daemons, a 1 s lease and a receiver that takes 2.5 s: without renewal the second
    daemon would take every alert the first is still sending and send it too."""
    receiver = ScriptedReceiver(delay=2.5)
    await receiver.start()
    uids = await add_alerts(postgres_url, 6)
    settings = [
        write_settings(tmp_path / f"settings-{n}.toml", postgres_url, receiver.url, lease="1s")
        for n in (1, 2)
    ]
    try:
        daemons = await asyncio.gather(*(DaemonProcess(s).start() for s in settings))
        try:
            await wait_delivered(postgres_url, 6, within=30.0)
            await asyncio.sleep(1.5)  # a repeat, if any, would be on its way by now
        finally:
            codes = await asyncio.gather(*(d.stop() for d in daemons))
    finally:
        await receiver.stop()
    assert codes == [0, 0]
    ids = [r.headers["webhook-id"] for r in receiver.requests]
    assert sorted(ids) == sorted(uids), f"each alert once: {Counter(ids)}"


async def test_renew_keeps_only_live_leases(tmp_path: Path, database_url: str) -> None:
    """A lease that lapsed may already be someone else's: renewal must not revive it."""
    await add_alerts(database_url, 2)
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    now = utcnow()
    try:
        async with sessions.begin() as session:
            ids = list(await session.scalars(select(AlertRow.id).order_by(AlertRow.id)))
            live, lapsed = ids
            await session.execute(
                update(AlertRow)
                .where(AlertRow.id == live)
                .values(lease_owner="me", lease_until=now + timedelta(seconds=5))
            )
            await session.execute(
                update(AlertRow)
                .where(AlertRow.id == lapsed)
                .values(lease_owner="me", lease_until=now - timedelta(seconds=5))
            )
        later = now + timedelta(seconds=60)
        async with sessions.begin() as session:
            await renew(session, AlertRow, "me", ids, now=now, until=later)
        async with sessions() as session:
            until = dict((await session.execute(select(AlertRow.id, AlertRow.lease_until))).all())
    finally:
        await engine.dispose()
    assert until[live] == later
    assert until[lapsed] == now - timedelta(seconds=5)


def test_stale_owner_knows_dead_processes_of_this_host_only() -> None:
    host = socket.gethostname()[:30]
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead_pid = int(gone.stdout)
    assert stale_owner(f"{host}:{dead_pid}:0badc0de")
    assert stale_owner(f"{host}:{os.getpid()}:0badc0de"), "an earlier life of this pid"
    assert not stale_owner(f"{host}:1:0badc0de") or os.getpid() == 1, "pid 1 runs"
    assert not stale_owner(f"elsewhere:{dead_pid}:0badc0de"), "another host's is waited out"
    assert stale_owner(f"elsewhere:{dead_pid}:0badc0de", any_host=True)
    assert new_owner().startswith(f"{host}:{os.getpid()}:")


def children_of(pid: int) -> set[int]:
    """Every process descended from ``pid`` (the fork server and the parser workers)."""
    found: set[int] = set()
    wanted = {pid}
    while wanted:
        parent = wanted.pop()
        for child in psutil.Process(parent).children() if psutil.pid_exists(parent) else []:
            found.add(child.pid)
            wanted.add(child.pid)
    return found


async def test_parser_workers_leave_when_the_daemon_is_killed(tmp_path: Path) -> None:
    """They are children of the fork server, not of the daemon: before, each SIGKILL left a
    fork server and its workers behind for good, holding memory and the daemon's output."""
    receiver = await ScriptedReceiver().start()
    feed = await ScriptedReceiver().start()  # answers 200 "ok": an unreadable feed is enough
    settings = write_settings(
        tmp_path / "settings.toml", f"sqlite+aiosqlite:///{tmp_path / 'nw.db'}", receiver.url
    )
    settings.write_text(
        settings.read_text()
        + f'\n[polling]\nparse_processes = 2\n\n[[feeds]]\nname = "x"\nurl = "{feed.url}"\n'
    )
    everything_seen: set[int] = set()
    try:
        daemon = await DaemonProcess(settings).start()
        assert daemon.proc is not None
        pid = daemon.proc.pid
        deadline = time.monotonic() + 20
        workers: set[int] = set()
        while len(workers) < 3 and time.monotonic() < deadline:  # fork server + 2 workers
            await asyncio.sleep(0.2)
            workers = children_of(pid)
        assert len(workers) >= 3, f"parser workers never started: {daemon.log()}"
        everything = {p for w in workers for p in (w, *children_of(w))}
        everything_seen.update(everything)
        daemon.proc.kill()
        await daemon.proc.wait()
        deadline = time.monotonic() + 5
        alive = everything
        while alive and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
            alive = alive_after(everything)
        assert not alive, f"still running 5 s after the daemon was killed: {sorted(alive)}"
        await daemon.stop(signal.SIGKILL, within=5)  # its output ends with the workers
    finally:
        for pid in alive_after(everything_seen):
            os.kill(pid, signal.SIGKILL)
        await receiver.stop()
        await feed.stop()


def alive_after(pids: set[int]) -> set[int]:
    return {p for p in pids if psutil.pid_exists(p) and not zombie(p)}


def zombie(pid: int) -> bool:
    try:
        return bool(psutil.Process(pid).status() == psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return True
