"""Progress of long commands on stderr: a bar on a terminal, plain lines in a log or pipe,
log records when stderr carries JSON logs.

stdout stays for results, so ``newswatch ingest DIR > report.txt`` still shows progress and
scripts parsing stdout see none of it. Lines and records come at most every ``EVERY``
seconds or tenth of the way, and once at the end, so a log of a big import stays short. A
run with nothing to do still ends on one ("ingest: 0/0 files"), the line a reader looks for.

Used as a context manager: on a terminal, log lines written meanwhile go through tqdm and
print above the bar instead of being cut into it (their handlers, redaction included, stay).
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import sys
import time
from types import TracebackType
from typing import IO, Any

from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

EVERY = 2.0


class Progress:
    def __init__(
        self,
        label: str,
        unit: str,
        stream: IO[str] | None = None,
        *,
        records: logging.Logger | None = None,
    ) -> None:
        """``records``: where progress goes as log records instead of plain lines (stderr
        holds JSON logs); a terminal still gets the bar."""
        self.label = label
        self.unit = unit
        self.stream = stream or sys.stderr
        self.terminal = self.stream.isatty()
        self.records = None if self.terminal else records
        self._bar: tqdm[Any] | None = None
        self._said = 0.0
        self._step = -1
        self._shown = False
        self._redirect = contextlib.ExitStack()

    def __enter__(self) -> Progress:
        if self.terminal:
            self._redirect.enter_context(logging_redirect_tqdm())
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        try:
            if kind is None and not self._shown:
                self(0, 0)
            if self._bar is not None:
                self._bar.close()
                self._bar = None
        finally:
            self._redirect.close()

    def __call__(self, done: int, total: int) -> None:
        self._shown = True
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
            self._say(done, total)

    def _say(self, done: int, total: int) -> None:
        if self.records is not None:
            self.records.info(
                "progress task=%s done=%d total=%d unit=%s", self.label, done, total, self.unit
            )
        else:
            print(f"{self.label}: {done}/{total} {self.unit}", file=self.stream, flush=True)

    def note(self, text: str) -> None:
        """A line for the person watching, printed above the bar on a terminal."""
        if self.terminal:
            tqdm.write(text, self.stream)
        else:
            print(text, file=self.stream, flush=True)
