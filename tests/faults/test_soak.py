"""The soak of ``bench/soak.py``, short: 30 s of publishing on each database, 200 feeds.

The real daemon runs as a subprocess against local feed servers that fail at random, a drop
folder filled as it runs and webhook receivers that fail at random; afterwards every
published entry and file must be stored once, every alert the texts call for delivered under
one id, nothing left in the outbox, and the daemon's descriptors back near where they were
in the middle of the run. The region rule is left out here: the daemon would need the
gazetteer, whose first build takes longer than this whole test (the five-minute soak keeps
it).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bench.soak import FEED_FAULTS, SoakConfig, SoakResult, run_soak
from tests.conftest import PG_ENABLED, PG_SKIP_REASON, side_by_side

pytestmark = pytest.mark.slow

SECONDS = 30.0
FEEDS = 200
# Sockets in flight at one sample and not at another: polls, deliveries, and the admin
# scrape; more than this between the middle of the run and its end is a leak.
FD_SLACK = 32 + 8 + 8


def check(result: SoakResult) -> None:
    report = result.summary()
    assert result.drained_in is not None, report
    assert result.exit_code == 0, report
    assert result.lost == 0, report
    assert result.duplicates == 0, report
    assert result.expected_alerts > 50, report
    assert result.lost_alerts == 0, report
    assert result.delivered >= result.expected_alerts, report
    assert result.unexpected_alerts == 0, report
    assert result.stuck_alerts == 0, report
    assert result.phantom_alerts == 0, report
    assert result.unknown_articles == 0, report
    assert result.quarantined == result.junk_files, report


def check_faults_happened(result: SoakResult) -> None:
    """A soak whose faults never fired proves nothing."""
    report = result.summary()
    feeds = result.answers["feeds"]
    assert all(feeds[kind] > 0 for kind in FEED_FAULTS), report
    assert feeds["304"] > 0 and feeds["200"] > 0, report
    for hook in ("hook-a", "hook-b"):
        answers = result.answers[hook]
        assert answers["200"] > 0 and sum(answers.values()) > answers["200"], report
    assert result.published["copy"] > 0 and result.published["correction"] > 0, report
    assert result.drop_files > 10 and result.items > FEEDS, report


def check_descriptors(result: SoakResult) -> None:
    report = result.summary()
    middle, end, drained = result.at("middle"), result.at("end"), result.at("drained")
    assert middle is not None and end is not None and drained is not None, report
    assert end.fds <= middle.fds + FD_SLACK, report
    assert drained.fds <= middle.fds + FD_SLACK, report


def soak_config(database: str, workdir: Path) -> SoakConfig:
    return SoakConfig(
        seconds=SECONDS,
        feeds=FEEDS,
        database=database,
        workdir=workdir,
        regions=False,
        items_per_second=6.0,
        drop_every=1.0,
        drain=40.0,
        seed=20260307,
    )


def checked(result: SoakResult) -> None:
    check(result)
    check_faults_happened(result)
    check_descriptors(result)


@pytest.mark.timeout(240)
async def test_a_30s_soak_stores_every_entry_once_and_delivers_every_alert_once(
    tmp_path: Path,
) -> None:
    """SQLite and PostgreSQL side by side, each with its own servers and daemon: the suite
    has a time budget, and each soak mostly waits on its servers."""
    started = time.monotonic()
    results = await side_by_side(
        tmp_path, lambda url, folder: run_soak(soak_config(url, folder / "soak"))
    )
    for result in results:
        print(f"\n{result.summary()}")
    print(f"(whole test run {time.monotonic() - started:.1f}s)")
    for result in results:
        checked(result)
    if not PG_ENABLED:
        pytest.skip(f"the SQLite soak passed; the PostgreSQL one is off: {PG_SKIP_REASON}")
