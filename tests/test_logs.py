"""Log configuration: the scheduler's expected skips are not reported as warnings."""

from __future__ import annotations

import logging

import pytest

from daemon.logs import configure


def test_a_skipped_overlapping_tick_is_not_logged_but_other_warnings_are(
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        configure("INFO")
        emit()
    finally:
        root.handlers[:], root.level = handlers, level
    err = capsys.readouterr().err
    assert "maximum number of running instances" not in err
    assert "was missed by" in err


def emit() -> None:
    scheduler = logging.getLogger("apscheduler.scheduler")
    scheduler.warning(
        'Execution of job "poll" skipped: maximum number of running instances reached (1)'
    )
    scheduler.warning('Run time of job "poll" was missed by 0:00:07')
