"""The long-running process: APScheduler decides *when*; the stages do the work.

Shutdown drains our own work first (APScheduler's shutdown would cancel running coroutine
jobs): stop starting new runs, give running ones ``shutdown_timeout`` to finish, cancel the
rest, hand back unfinished alert leases, then close.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.schedulers.base import STATE_RUNNING
from sqlalchemy.exc import DBAPIError

from daemon import ops
from daemon.admin import AdminServer
from daemon.drops import DropScanner, ScanResult
from daemon.errors import SettingsError
from daemon.feeds.parsing import ParsePool
from daemon.feeds.poll import FeedDispatcher
from daemon.metrics import LagMonitor
from daemon.notify import Notifier
from daemon.owner import DatabaseLock
from daemon.runtime import Runtime, settle_heap
from daemon.settings import Settings, load_settings
from daemon.watch import DropWatcher
from storage.leases import reclaim, stale_owner

log = logging.getLogger("newswatch.daemon")
DELIVER_JOB = "deliver"
RETENTION_JOB = "retention"
RETENTION_INTERVAL = 3600.0
POLL_JOB = "poll"
OPS_JOB = "ops"
WATCH_JOB = "settings-watch"
WATCH_INTERVAL = 2.0
LEASE_JOB = "leases"
MIN_RENEW_SECONDS = 0.5
MIN_WAKE = timedelta(seconds=0.1)


class Daemon:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.stopping = asyncio.Event()
        self._inflight: dict[str, asyncio.Task[Any]] = {}
        self._scheduler = AsyncIOScheduler(timezone=UTC)
        self._runtime: Runtime | None = None
        self._dispatcher: FeedDispatcher | None = None
        self._scanners: dict[str, DropScanner] = {}
        self._watchers: dict[str, DropWatcher] = {}
        self._stopping_watchers: set[asyncio.Task[None]] = set()
        self._deliver_again = False
        self._reloading = asyncio.Lock()
        self._stamp = settings_stamp(settings.path)
        self.notifier = Notifier.from_env()
        self.settings_problem: str | None = None  # why the file on disk was last rejected
        self.lag = LagMonitor()
        self.admin: AdminServer | None = None

    @property
    def runtime(self) -> Runtime | None:
        return self._runtime

    @property
    def parser(self) -> ParsePool | None:
        return self._dispatcher.parser if self._dispatcher is not None else None

    def scheduler_running(self) -> bool:
        return bool(self._scheduler.state == STATE_RUNNING) and not self.stopping.is_set()

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stop)
        loop.add_signal_handler(signal.SIGHUP, self._reload_soon)
        lock = DatabaseLock.take(self.settings)  # before anything slow: a second run fails fast
        try:
            return await self._run(lock)
        finally:
            if lock is not None:
                lock.release()

    async def _run(self, lock: DatabaseLock | None) -> int:
        self.lag.start()
        await self._start_admin()  # /healthz answers while the rules and the database load
        try:
            self._runtime = await Runtime.open(self.settings, defer_bands=True)
        except BaseException:
            await self._stop_admin()
            raise
        settle_heap()
        try:
            await self._reclaim(self._runtime, any_host=lock is not None)
            self._schedule(self._runtime)
            self._scheduler.start()
            log.info(
                "started drops=%d feeds=%d rules=%d channels=%d database=%s",
                len(self._runtime.drop_ids),
                len(self._runtime.feed_ids),
                len(self._runtime.matcher.rules),
                len(self.settings.channels),
                self._runtime.engine.url.render_as_string(),
            )
            self.notifier.ready(
                f"feeds={len(self._runtime.feed_ids)} rules={len(self._runtime.matcher.rules)}"
            )
            await self.stopping.wait()
        finally:
            await self._shutdown(self._runtime)
        return 0

    async def _reclaim(self, runtime: Runtime, *, any_host: bool) -> None:
        """Take back at once what a crashed daemon held (see ``storage.leases.stale_owner``);
        a replica on another host that died is only waited out, one short lease."""
        stale = partial(stale_owner, any_host=any_host)
        async with runtime.sessions.begin() as session:
            freed = await reclaim(session, {runtime.worker.owner}, stale)
        if freed:
            log.warning(
                "reclaimed the leases of a daemon that stopped without handing them back %s",
                " ".join(f"{table}={n}" for table, n in sorted(freed.items())),
            )

    async def _renew(self, runtime: Runtime) -> None:
        await runtime.worker.renew()
        if self._dispatcher is not None:
            await self._dispatcher.renew()

    async def _start_admin(self) -> None:
        address = self.settings.http_address
        if address is None:
            return
        self.admin = AdminServer(self, self.lag)
        try:
            await self.admin.start(*address)
        except OSError as exc:
            await self.admin.stop()
            self.admin = None
            where = f"{address[0]}:{address[1]}"
            raise SettingsError(
                str(self.settings.path), [f"[daemon] http: cannot listen on {where}: {exc}"]
            ) from exc

    async def _stop_admin(self) -> None:
        if self.admin is not None:
            await self.admin.stop()
            self.admin = None
        await self.lag.close()

    def stop(self) -> None:
        if not self.stopping.is_set():
            log.info("stopping")
            self.notifier.stopping()
            self.stopping.set()

    def _schedule(self, runtime: Runtime) -> None:
        now = datetime.now(UTC)
        self._schedule_sources(runtime, now)
        self._add(
            DELIVER_JOB, lambda: self._deliver(runtime), self.settings.daemon.delivery_interval, now
        )
        self._add(LEASE_JOB, lambda: self._renew(runtime), self._renew_every(), now)
        self._add(RETENTION_JOB, runtime.prune, RETENTION_INTERVAL, now + timedelta(minutes=1))
        self._add(WATCH_JOB, self._watch, WATCH_INTERVAL, now + timedelta(seconds=WATCH_INTERVAL))
        self._add(
            OPS_JOB,
            lambda: ops.check(runtime),
            self.settings.daemon.ops_interval,
            now + timedelta(seconds=min(self.settings.daemon.ops_interval, 10.0)),
        )

    def _renew_every(self) -> float:
        """A third of the shorter lease: two renewals may fail (a busy database) before a
        lease lapses under work still running."""
        shortest = min(self.settings.delivery.lease, self.settings.polling.lease)
        return max(shortest / 3, MIN_RENEW_SECONDS)

    def _schedule_sources(self, runtime: Runtime, now: datetime) -> None:
        """(Re)schedule one job per enabled drop and the feed dispatcher, as settings say."""
        wanted = {d.name: d for d in self.settings.drops if d.enabled}
        for name in set(self._scanners) - set(wanted):
            self._scheduler.remove_job(f"drop:{name}")
            del self._scanners[name]
            self._unwatch(name)
        for name, drop in wanted.items():
            old = self._scanners.get(name)
            if old is not None and old.settings == drop:
                continue  # unchanged: keep its memory of files already handled
            scanner = self._scanners[name] = runtime.scanner(drop)
            self._add(
                f"drop:{name}", self._scan_job(scanner), self.settings.daemon.scan_interval, now
            )
            self._unwatch(name)
            if drop.watch:
                watcher = self._watchers[name] = DropWatcher(
                    scanner, self._scanned, drop.watch_settle
                )
                watcher.start()
        if runtime.feed_ids and self._dispatcher is None:
            self._dispatcher = runtime.dispatcher(self.stopping)
            self._add(POLL_JOB, self._poll_job(self._dispatcher), self.settings.polling.tick, now)
        elif self._dispatcher is not None:
            self._dispatcher.feeds = {f.key: f for f in self.settings.feeds}

    def _unwatch(self, name: str) -> None:
        watcher = self._watchers.pop(name, None)
        if watcher is not None:
            task = asyncio.get_running_loop().create_task(watcher.stop())
            self._stopping_watchers.add(task)  # held so the task is not collected mid-way
            task.add_done_callback(self._stopping_watchers.discard)

    def _scanned(self, result: ScanResult) -> None:
        if result.alert_ids:
            self.kick_delivery()

    async def _watch(self) -> None:
        stamp = settings_stamp(self.settings.path)
        if stamp != self._stamp:
            self._stamp = stamp
            await self.reload()

    def _reload_soon(self) -> None:
        log.info("SIGHUP: reloading settings path=%s", self.settings.path)
        self._scheduler.add_job(
            self._tracked("reload", self.reload), id="reload", replace_existing=True
        )

    async def reload(self) -> bool:
        """Apply an edited settings file; a file that fails validation changes nothing."""
        runtime = self._runtime
        if runtime is None:
            return False
        async with self._reloading:
            try:
                settings = await asyncio.to_thread(load_settings, self.settings.path)
                matcher = await runtime.prepare(settings)
            except SettingsError as exc:
                self.settings_problem = " | ".join(exc.problems)
                log.error(
                    "settings rejected, the previous settings stay in force: %s",
                    self.settings_problem,
                )
                return False
            self.settings_problem = None
            await runtime.apply(settings, matcher)
            settle_heap()  # the new rules are as long-lived as those built at start
            self.settings = settings
            self._schedule_sources(runtime, datetime.now(UTC))
            log.info(
                "settings reloaded drops=%d feeds=%d rules=%d channels=%d",
                len(runtime.drop_ids),
                len(runtime.feed_ids),
                len(matcher.rules),
                len(settings.channels),
            )
            return True

    def _add(
        self, job_id: str, func: Callable[[], Awaitable[Any]], seconds: float, first: datetime
    ) -> None:
        self._scheduler.add_job(
            self._tracked(job_id, func),
            "interval",
            seconds=seconds,
            id=job_id,
            next_run_time=first,
            replace_existing=True,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
        )

    def _tracked(
        self, job_id: str, func: Callable[[], Awaitable[Any]]
    ) -> Callable[[], Awaitable[None]]:
        async def job() -> None:
            if self.stopping.is_set() or job_id in self._inflight:
                return  # a replaced job must not run beside its predecessor
            task = asyncio.current_task()
            assert task is not None
            self._inflight[job_id] = task
            try:
                await func()
            except DBAPIError as exc:  # the database is away: one line, not a traceback a scan
                log.error("job failed job=%s: %s", job_id, str(exc).partition("\n")[0])
            except Exception:  # one failed run must not end the schedule
                log.exception("job failed job=%s", job_id)
            finally:
                self._inflight.pop(job_id, None)

        return job

    def _scan_job(self, scanner: DropScanner) -> Callable[[], Awaitable[None]]:
        async def scan() -> None:
            self._scanned(await scanner.scan())

        return scan

    def _poll_job(self, dispatcher: FeedDispatcher) -> Callable[[], Awaitable[None]]:
        warmed = False

        async def poll() -> None:
            nonlocal warmed
            if not warmed:  # start parser workers before the first round, not during it
                warmed = True
                await dispatcher.warm_up()
            result = await dispatcher.tick()
            if result.alert_ids:
                self.kick_delivery()
            await self._wake_for(dispatcher)

        return poll

    async def _wake_for(self, dispatcher: FeedDispatcher) -> None:
        """Run the next round when the next feed falls due, if that is before the next tick:
        a feed polled every 10 s would otherwise wait for a 5 s tick, 15 s in all."""
        due = await dispatcher.next_due()
        now = datetime.now(UTC)
        if (
            due is None
            or self.stopping.is_set()
            or due >= now + timedelta(seconds=self.settings.polling.tick)
        ):
            return
        self._scheduler.modify_job(POLL_JOB, next_run_time=max(due, now + MIN_WAKE))

    def kick_delivery(self) -> None:
        """Deliver new alerts now rather than at the next tick; a kick while a delivery
        round runs makes another round follow it at once."""
        if self.stopping.is_set():
            return
        if DELIVER_JOB in self._inflight:
            self._deliver_again = True
            return
        self._scheduler.modify_job(DELIVER_JOB, next_run_time=datetime.now(UTC))

    async def _deliver(self, runtime: Runtime) -> None:
        self._deliver_again = False
        await runtime.worker.run_once()
        if self._deliver_again and not self.stopping.is_set():
            self._deliver_again = False
            self._scheduler.modify_job(DELIVER_JOB, next_run_time=datetime.now(UTC))

    async def _shutdown(self, runtime: Runtime) -> None:
        if self._scheduler.running:
            self._scheduler.pause()
        timeout = self.settings.daemon.shutdown_timeout
        await asyncio.gather(*(w.stop(timeout) for w in self._watchers.values()))
        self._watchers.clear()
        running = list(self._inflight.values())
        if running:
            _, pending = await asyncio.wait(running, timeout=self.settings.daemon.shutdown_timeout)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        try:
            if self._dispatcher is not None:
                await self._dispatcher.close()
            await runtime.worker.release()
        finally:
            await runtime.close()
            await self._stop_admin()
            await self.notifier.close()
        log.info("stopped")


def settings_stamp(path: Path) -> tuple[int, int] | None:
    """What tells an edited settings file apart: modification time and size."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_mtime_ns, stat.st_size)
