"""Who may start a request now: the global limit, the host's limit and its delay, in one wait.

Two semaphores (host, then global) made a queued request wait twice: woken when its host had
room, only to park again for a global slot. At thousands of requests a round, each wait is a
future and a wake-up on the event loop, and the loop is where a round of 304s spends its time.
Here a request waits once, and is woken only when it can start.

Hosts take turns: a global slot that comes free goes to the next host in line that has both a
waiter and room, so one host with a thousand feeds cannot fill the global slots while other
hosts' requests wait behind it.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field


@dataclass(slots=True, eq=False)
class Host:
    """One host's share of the gate; hand it back to ``Gate.leave`` when the request ends."""

    name: str
    busy: int = 0
    next_start: float = 0.0  # loop time before which no request may start (the delay)
    waiters: deque[asyncio.Future[None]] = field(default_factory=deque)
    in_line: bool = False  # in the gate's line, or its timer for the delay is set


class Gate:
    """At most ``concurrency`` requests in flight, ``per_host`` to one host, their starts
    ``delay`` seconds apart per host."""

    def __init__(self, concurrency: int, per_host: int, delay: float) -> None:
        self.per_host = per_host
        self.delay = delay
        self._free = concurrency
        self._hosts: dict[str, Host] = {}
        self._line: deque[Host] = deque()  # hosts that could start a waiter but for a slot

    async def enter(self, name: str) -> Host:
        host = self._hosts.get(name)
        if host is None:
            host = self._hosts[name] = Host(name)
        loop = asyncio.get_running_loop()
        if self._free and host.busy < self.per_host and not host.waiters:
            if not self.delay:
                self._start(host, 0.0)
                return host
            now = loop.time()
            if now >= host.next_start:
                self._start(host, now)
                return host
        waiter: asyncio.Future[None] = loop.create_future()
        host.waiters.append(waiter)
        self._queue(host)
        self._let_in()
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():  # let in, then cancelled: give it back
                self.leave(host)
            raise
        return host

    def leave(self, host: Host) -> None:
        host.busy -= 1
        self._free += 1
        self._queue(host)
        self._let_in()

    def _start(self, host: Host, now: float) -> None:
        self._free -= 1
        host.busy += 1
        if self.delay:
            host.next_start = now + self.delay

    def _queue(self, host: Host) -> None:
        """Put the host in line if it has a waiter and room; after its delay if one runs."""
        if host.in_line or not host.waiters or host.busy >= self.per_host:
            return
        host.in_line = True
        if self.delay:
            loop = asyncio.get_running_loop()
            if loop.time() < host.next_start:
                loop.call_at(host.next_start, self._turn_came, host)
                return
        self._line.append(host)

    def _turn_came(self, host: Host) -> None:
        self._line.append(host)
        self._let_in()

    def _let_in(self) -> None:
        line = self._line
        while self._free and line:
            host = line.popleft()
            host.in_line = False
            waiters = host.waiters
            while waiters and waiters[0].cancelled():
                waiters.popleft()
            if not waiters or host.busy >= self.per_host:
                continue
            now = asyncio.get_running_loop().time() if self.delay else 0.0
            if now < host.next_start:  # started since it came in line: wait out its delay
                self._queue(host)
                continue
            self._start(host, now)
            waiters.popleft().set_result(None)
            self._queue(host)
