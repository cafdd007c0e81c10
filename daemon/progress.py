"""Progress of long commands on stderr: a bar on a terminal, plain lines in a log or pipe.

stdout stays for results, so ``newswatch ingest DIR > report.txt`` still shows progress and
scripts parsing stdout see none of it. Plain lines come at most every ``EVERY`` seconds or
tenth of the way, and once at the end, so a log of a big import stays short.
"""

from __future__ import annotations

import shutil
import sys
import time
from typing import IO, Any

from tqdm import tqdm

EVERY = 2.0


class Progress:
    def __init__(self, label: str, unit: str, stream: IO[str] | None = None) -> None:
        self.label = label
        self.unit = unit
        self.stream = stream or sys.stderr
        self.terminal = self.stream.isatty()
        self._bar: tqdm[Any] | None = None
        self._said = 0.0
        self._step = -1

    def __call__(self, done: int, total: int) -> None:
        if self.terminal:
            if self._bar is None:
                # A terminal that reports no size (0 x 0, a fresh pty) would get no bar at all.
                size = shutil.get_terminal_size((80, 24))
                self._bar = tqdm(
                    total=total,
                    desc=self.label,
                    unit=self.unit,
                    file=self.stream,
                    ncols=size.columns,
                    nrows=size.lines,
                )
            self._bar.total = total
            self._bar.update(done - self._bar.n)
            return
        step = done * 10 // max(total, 1)
        now = time.monotonic()
        if done == total or step > self._step or now - self._said >= EVERY:
            self._step, self._said = step, now
            print(f"{self.label}: {done}/{total} {self.unit}", file=self.stream, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
