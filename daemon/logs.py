"""Log lines as ``time level logger message key=value …`` on stderr, greppable by key."""

from __future__ import annotations

import logging
import sys


def configure(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s", "%Y-%m-%dT%H:%M:%S")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # APScheduler narrates every job run at INFO; keep its warnings and errors only.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("apscheduler.scheduler").addFilter(_skip_overlap)


def _skip_overlap(record: logging.LogRecord) -> bool:
    """A tick that finds its job still running is skipped by design (one run at a time: a
    first poll of many feeds outlasts several ticks); that is not worth a warning a tick."""
    return "maximum number of running instances reached" not in record.getMessage()
