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
