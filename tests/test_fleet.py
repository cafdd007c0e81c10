"""A fleet: three ``newswatch run`` processes on one PostgreSQL database, 300 local feeds.

First cycle: every feed is polled, none by two replicas (each path is fetched exactly once,
each feed's poll is logged by exactly one replica), every alert reaches the webhook receiver
exactly once, and all three replicas took part. Then 90 feeds get news again (half of them
answering slowly) and the receiver slows down; the moment one replica holds feed leases and
alert leases at once it is killed with SIGKILL. Its feeds are fetched again by the others
within the lease time, every alert arrives, and only the alerts it held at its death may
arrive twice (same webhook-id: the receiver can drop the repeat).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import signal
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy.engine import make_url

from tests.fleet_support import (
    Db,
    Entry,
    FleetFeeds,
    Hook,
    database_ports,
    feed_name,
    owner_pid,
    path_of,
    rss,
)
from tests.support import DaemonProcess, toml_str

pytestmark = pytest.mark.postgres

FEEDS, REPLICAS = 300, 3
# Feeds with news again in the kill phase: the even ones answer only after SLOW seconds.
AGAIN, SLOW = 90, 3.0
TICK = 1.0
POLL_LEASE, DELIVERY_LEASE = 8.0, 6.0
DELIVERY_INTERVAL = 0.5
HOOK_DELAY = 1.5  # the receiver's pace in the kill phase
MARGIN = 3.0  # scheduling slack on top of a lease (a tick, a delivery round, a loaded CPU)
POLLED = re.compile(r" polled source=(Feed \d{3}) status=200 ")

T = TypeVar("T")


def first_entries(index: int) -> list[Entry]:
    """One or two entries per feed; about half of them mention the keyword."""
    count = 1 if index % 3 == 0 else 2
    return [Entry(index, n, matches=(index + n) % 2 == 0) for n in range(count)]


def write_settings(path: Path, database: str, feeds: FleetFeeds, hook: Hook) -> Path:
    entries = "".join(
        f"\n[[feeds]]\nname = {toml_str(feed_name(i))}\nurl = {toml_str(feeds.url(i))}\n"
        'interval = "1h"\n'
        for i in range(FEEDS)
    )
    path.write_text(
        f"""
[daemon]
database = {toml_str(database)}
delivery_interval = "{DELIVERY_INTERVAL}s"
shutdown_timeout = "2s"

[polling]
tick = "{TICK}s"
lease = "{POLL_LEASE}s"
batch_size = 24
concurrency = 12
per_host_concurrency = 12
per_host_delay = "0s"
parse_processes = 0

[delivery]
lease = "{DELIVERY_LEASE}s"
batch_size = 8
concurrency = 8
retry_schedule = ["0.5s", "0.5s", "0.5s", "0.5s", "0.5s"]

[[rules]]
name = "Reservoirs"
keywords = ["reservoir"]
channels = ["hook"]

[channels.hook]
type = "webhook"
url = {toml_str(hook.url)}
{entries}""",
        encoding="utf-8",
    )
    return path


async def until(
    check: Callable[[], Awaitable[T | None]], within: float, what: Callable[[], str]
) -> T:
    """Poll ``check`` until it gives a value (not None) or ``within`` seconds have passed."""
    deadline = time.monotonic() + within
    while True:
        value = await check()
        if value is not None:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within:.0f}s: {what()}")
        await asyncio.sleep(0.05)


@dataclass
class Fleet:
    db: Db
    feeds: FleetFeeds
    hook: Hook
    daemons: list[DaemonProcess]
    pg_port: int  # the database server's, to find a replica's sessions by their client port

    def pid(self, daemon: DaemonProcess) -> int:
        assert daemon.proc is not None
        return daemon.proc.pid

    def logs(self) -> str:
        return "\n\n".join(f"--- replica {self.pid(d)}\n{d.log()}" for d in self.daemons)

    async def all_delivered(self, count: int | None = None) -> dict[str, dict[str, object]] | None:
        """The alerts, once every one is delivered and has reached the receiver."""
        alerts = await self.db.alerts()
        if count is not None and len(alerts) != count:
            return None
        if any(row["status"] != "delivered" for row in alerts.values()):
            return None
        return alerts if set(alerts) <= self.hook.uids() else None


def polled_by(daemon: DaemonProcess) -> list[str]:
    return [m.group(1) for line in daemon.lines if (m := POLLED.search(line))]


async def first_cycle(fleet: Fleet) -> set[str]:
    """Every feed polled once by exactly one replica, every alert delivered once."""
    db, feeds, hook = fleet.db, fleet.feeds, fleet.hook
    started = time.monotonic()
    # Feeds answer only once all three replicas hold leases: sharing is then certain, not
    # a matter of which process finished starting first. (Checked below, after the fetch
    # counts, which say more when claiming is broken.)
    owners = await lease_owners(db, 20.0)
    feeds.gate.set()

    async def all_polled() -> dict[str, datetime] | None:
        polled = await db.polled_since()
        return polled if len(polled) == FEEDS else None

    polled = await until(all_polled, 40.0, lambda: f"feeds polled: {len(feeds.hits)}")
    expected = sum(e.matches for i in range(FEEDS) for e in first_entries(i))
    alerts = await until(
        lambda: fleet.all_delivered(expected),
        30.0,
        lambda: f"{len(hook.deliveries)} deliveries for {expected} alerts",
    )
    elapsed = time.monotonic() - started

    assert len(polled) == FEEDS
    fetches = Counter(len(feeds.fetches(i)) for i in range(FEEDS))
    assert fetches == {1: FEEDS}, f"fetches per feed (count: feeds): {dict(fetches)}"
    assert len(owners) == REPLICAS, f"feed lease owners at once: {owners}"
    shares = [polled_by(d) for d in fleet.daemons]
    names = [name for share in shares for name in share]
    assert sorted(names) == sorted(feed_name(i) for i in range(FEEDS)), "one poll per feed"
    assert all(shares), f"every replica polled feeds: {[len(s) for s in shares]}"

    ids = Counter(d.uid for d in hook.deliveries)
    assert set(ids) == set(alerts), "the receiver got exactly the stored alerts"
    assert set(ids.values()) == {1}, [uid for uid, n in ids.items() if n > 1]
    assert all(row["attempts"] == 1 for row in alerts.values())
    assert all(d.body_id == d.uid for d in hook.deliveries)
    assert len({row["story_id"] for row in alerts.values()}) == expected, "a story per alert"
    sent = [sum(" delivered alert_id=" in line for line in d.lines) for d in fleet.daemons]
    assert sum(sent) == len(alerts), f"each delivery made by one replica: {sent}"
    print(
        f"\nfirst cycle: {FEEDS} feeds polled in {elapsed:.1f}s, 1 fetch each, "
        f"shares {[len(s) for s in shares]}; {len(alerts)} alerts delivered once each, "
        f"by replica {sent}"
    )
    return set(alerts)


async def lease_owners(db: Db, within: float) -> set[str]:
    """The most distinct feed lease owners seen at once, waiting for all replicas."""
    deadline = time.monotonic() + within
    most: set[str] = set()
    while len(most) < REPLICAS and time.monotonic() < deadline:
        owners = await db.lease_owners()
        most = owners if len(owners) > len(most) else most
        await asyncio.sleep(0.05)
    return most


@dataclass(frozen=True)
class Kill:
    victim: DaemonProcess
    pid: int
    at: float  # monotonic
    # What the victim held when it died (feed names, alert uids), each with the monotonic
    # time its lease runs out.
    feeds: dict[str, float]
    alerts: dict[str, float]


async def kill_holder(fleet: Fleet) -> Kill:
    """SIGKILL the first replica seen holding feed leases and alert leases at once."""
    db = fleet.db
    by_pid = {fleet.pid(d): d for d in fleet.daemons}

    async def holder() -> int | None:
        held = (await db.leases()).by_pid()
        both = [pid for pid, (names, uids) in held.items() if names and uids]
        return both[0] if both else None

    pid = await until(holder, 20.0, lambda: "no replica held feed and alert leases at once")
    victim = by_pid[pid]
    ports = database_ports(pid, fleet.pg_port)
    assert await victim.stop(signal.SIGKILL) == -signal.SIGKILL
    at = time.monotonic()
    # Its database sessions end with it (an open transaction rolls back); what it held is
    # what its rows say once they are gone.
    await until(
        lambda: _none_left(db.backends(ports)), 10.0, lambda: "the victim's sessions linger"
    )
    names, uids = await db.held_by(pid)
    now = await db.now()  # read after ``at``: the expiries below err early, never late

    def expiry(until: datetime) -> float:
        return at + (until - now).total_seconds()

    fleet.daemons.remove(victim)
    return Kill(
        victim,
        pid,
        at,
        {name: expiry(until) for name, until in names.items()},
        {uid: expiry(until) for uid, until in uids.items()},
    )


async def _none_left(count: Awaitable[int]) -> bool | None:
    return True if await count == 0 else None


async def feeds_taken_over(fleet: Fleet, kill: Kill) -> dict[str, float]:
    """When (monotonic) another replica was first seen owning, or done with, each feed the
    victim held."""
    names = sorted(kill.feeds)
    taken: dict[str, float] = {}

    async def check() -> dict[str, float] | None:
        rows = await fleet.db.feed_states(names)
        seen = time.monotonic()
        for name, row in rows.items():
            # The victim's sessions are gone: a cleared lease was cleared by another replica.
            if name not in taken and (
                row.lease_owner is None or owner_pid(row.lease_owner) != kill.pid
            ):
                taken[name] = seen
        return taken if len(taken) == len(names) else None

    return await until(
        check,
        POLL_LEASE + MARGIN,
        lambda: f"not taken over: {sorted(set(names) - set(taken))}\n{fleet.logs()}",
    )


async def kill_phase(fleet: Fleet, first_alerts: set[str]) -> None:
    db, feeds, hook = fleet.db, fleet.feeds, fleet.hook
    again = list(range(AGAIN))
    now = datetime.now(UTC)
    for i in again:
        news = Entry(i, 9, matches=True)
        feeds.bodies[path_of(i)] = rss(i, [*first_entries(i), news], now)
        if i % 2 == 0:
            feeds.delays[path_of(i)] = SLOW
    hook.delay = HOOK_DELAY
    phase = time.monotonic()
    due_at = await db.make_due([feed_name(i) for i in again])

    kill = await kill_holder(fleet)
    assert kill.feeds and kill.alerts, kill
    victim_feeds = sorted(int(name.split()[1]) for name in kill.feeds)
    assert set(victim_feeds) <= set(again), kill.feeds

    # Its feeds: claimed by the others once its leases lapse, not before, then fetched.
    taken = await feeds_taken_over(fleet, kill)
    lags = [taken[name] - kill.feeds[name] for name in kill.feeds]
    assert min(lags) >= 0, f"a live lease was taken over: {lags}"

    def refetched() -> list[float] | None:
        after = [feeds.fetches(i, kill.at) for i in victim_feeds]
        return [f[0] - kill.at for f in after] if all(after) else None

    fetched = await until(
        _ready(refetched),
        POLL_LEASE + SLOW + MARGIN,
        lambda: f"victim's feeds not fetched again: {victim_feeds}\n{fleet.logs()}",
    )

    async def all_polled() -> dict[str, datetime] | None:
        polled = await db.polled_since(due_at)
        return polled if len(polled) == AGAIN else None

    await until(all_polled, POLL_LEASE + SLOW + 2 * MARGIN, lambda: "feeds not polled again")
    expected = len(first_alerts) + AGAIN
    alerts = await until(
        lambda: fleet.all_delivered(expected),
        DELIVERY_LEASE + 4 * MARGIN,
        lambda: f"{len(hook.uids())} uids received of {expected} alerts\n{fleet.logs()}",
    )
    elapsed = time.monotonic() - phase

    _check_fetches(feeds, phase, kill, again)
    repeats = _check_deliveries(hook, alerts, kill, first_alerts)
    resent = _first_after(hook, kill)
    alert_lags = [resent[uid] - kill.alerts[uid] for uid in kill.alerts]
    assert min(alert_lags) >= 0, f"an alert sent while another replica held it: {alert_lags}"
    assert max(resent.values()) - kill.at <= DELIVERY_LEASE + MARGIN, resent
    print(
        f"kill phase ({elapsed:.1f}s): victim held {len(kill.feeds)} feeds and "
        f"{len(kill.alerts)} alerts. Its feeds taken over {_span(taken, kill.at)}s after the "
        f"kill ({min(lags):.2f}-{max(lags):.2f}s after their leases ran out; lease "
        f"{POLL_LEASE:g}s), fetched again {min(fetched):.1f}-{max(fetched):.1f}s after; its "
        f"alerts sent again {_span(resent, kill.at)}s after ({min(alert_lags):.2f}-"
        f"{max(alert_lags):.2f}s after their leases; lease {DELIVERY_LEASE:g}s). "
        f"{len(alerts)} alerts in all, {len(hook.deliveries)} deliveries, {repeats} repeated "
        "ids (all held by the victim)"
    )


def _span(times: dict[str, float], since: float) -> str:
    waits = [t - since for t in times.values()]
    return f"{min(waits):.1f}-{max(waits):.1f}"


def _ready(check: Callable[[], T | None]) -> Callable[[], Awaitable[T | None]]:
    async def wrapped() -> T | None:
        return check()

    return wrapped


def _check_fetches(feeds: FleetFeeds, phase: float, kill: Kill, again: list[int]) -> None:
    """In the kill phase: each feed with news fetched once, the victim's once more at most;
    no other feed fetched at all."""
    victims = {int(name.split()[1]) for name in kill.feeds}
    for i in range(FEEDS):
        during = feeds.fetches(i, phase)
        if i not in again:
            assert during == [], f"{path_of(i)} fetched again though not due"
        elif i in victims:
            assert len(feeds.fetches(i, kill.at)) == 1, f"{path_of(i)}: {during}"
            assert len(during) <= 2, f"{path_of(i)}: {during}"
        else:
            assert len(during) == 1, f"{path_of(i)} fetched {len(during)} times in one cycle"


def _check_deliveries(
    hook: Hook, alerts: dict[str, dict[str, object]], kill: Kill, first: set[str]
) -> int:
    ids = Counter(d.uid for d in hook.deliveries)
    assert set(ids) == set(alerts), "every stored alert reached the receiver, nothing else did"
    repeated = {uid for uid, n in ids.items() if n > 1}
    assert repeated <= set(kill.alerts), f"repeats of alerts the victim never held: {repeated}"
    assert all(n <= 2 for n in ids.values()), ids.most_common(3)
    assert all(ids[uid] == 1 for uid in first), "first-cycle alerts arrive once, ever"
    by_alert: dict[int, set[str]] = {}
    for d in hook.deliveries:
        by_alert.setdefault(d.alert_id, set()).add(d.uid)
        assert d.body_id == d.uid
    assert all(len(uids) == 1 for uids in by_alert.values()), "an alert under two ids"
    assert {alerts[uid]["id"] for uid in alerts} == set(by_alert)
    return len(repeated)


def _first_after(hook: Hook, kill: Kill) -> dict[str, float]:
    """When (monotonic) each alert the victim held first arrived from another replica."""
    first: dict[str, float] = {}
    for uid in kill.alerts:
        after = [d.arrived for d in hook.deliveries if d.uid == uid and d.arrived > kill.at]
        assert after, f"{uid} held by the victim never sent again"
        first[uid] = min(after)
    return first


@pytest.mark.timeout(150)
async def test_three_replicas_share_feeds_and_take_over_from_a_killed_one(
    tmp_path: Path, postgres_url: str
) -> None:
    feeds = await FleetFeeds().start()
    hook = await Hook().start()
    db = await Db.connect(postgres_url)
    published = datetime.now(UTC)
    for i in range(FEEDS):
        feeds.bodies[path_of(i)] = rss(i, first_entries(i), published)
    settings = write_settings(tmp_path / "settings.toml", postgres_url, feeds, hook)
    daemons = [
        DaemonProcess(settings, env={"NEWSWATCH_DATABASE": postgres_url}) for _ in range(REPLICAS)
    ]
    started = time.monotonic()
    try:
        await asyncio.gather(*(d.start() for d in daemons))
        fleet = Fleet(db, feeds, hook, list(daemons), make_url(postgres_url).port or 5432)
        first = await first_cycle(fleet)
        await kill_phase(fleet, first)
        codes = await asyncio.gather(*(d.stop(signal.SIGTERM) for d in fleet.daemons))
        assert codes == [0] * len(fleet.daemons), fleet.logs()
        assert await db.any_lease() == 0, "replicas stopping hand back every lease"
        print(f"total {time.monotonic() - started:.1f}s")
    finally:
        for daemon in daemons:
            if daemon.proc is not None and daemon.proc.returncode is None:
                with contextlib.suppress(Exception):
                    await daemon.stop(signal.SIGKILL)
        await db.close()
        await hook.stop()
        await feeds.stop()
