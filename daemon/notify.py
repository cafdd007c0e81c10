"""systemd's notify protocol: one datagram per state change to ``$NOTIFY_SOCKET``.

With ``Type=notify`` systemd counts the service as started only at ``READY=1`` (after the
database is migrated and the schedule runs, not when the process exists), and with
``WatchdogSec=`` it restarts a process whose ``WATCHDOG=1`` pings stop. The pings come from a
timer on the event loop, so a loop stuck in one callback stops them and gets the process
restarted, while a loop that merely waits on slow feeds keeps them going. Without
``NOTIFY_SOCKET`` (a terminal, Docker) every call does nothing.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping

from storage.periodic import Periodic

log = logging.getLogger("newswatch.daemon")


class Notifier:
    def __init__(self, address: str | None, watchdog_usec: int | None = None) -> None:
        self.address = address
        self.watchdog = watchdog_usec / 1e6 if watchdog_usec else None
        self._pings = Periodic("watchdog", self._ping, self.watchdog / 2) if self.watchdog else None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Notifier:
        env = os.environ if env is None else env
        address = env.get("NOTIFY_SOCKET") or None
        usec = _integer(env.get("WATCHDOG_USEC"))
        pid = _integer(env.get("WATCHDOG_PID"))
        if pid is not None and pid != os.getpid():
            usec = None  # the watchdog is meant for another process (our parent, say)
        return cls(address, usec)

    def send(self, message: str) -> bool:
        """One datagram; a missing or refusing socket is logged once per call, never raised:
        a supervisor that went away must not take the daemon with it."""
        if not self.address:
            return False
        target = self.address
        if target.startswith("@"):  # an abstract socket: its name begins with a NUL byte
            target = "\0" + target[1:]
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                sock.sendto(message.encode(), target)
        except OSError as exc:
            log.warning(
                "systemd notify failed socket=%s message=%s error=%s",
                *(self.address, message.split("\n", 1)[0], exc),
            )
            return False
        return True

    def ready(self, status: str = "") -> None:
        self.send("READY=1" + (f"\nSTATUS={status}" if status else ""))
        if self._pings is not None:
            self._pings.start()

    def stopping(self) -> None:
        self.send("STOPPING=1")

    async def close(self) -> None:
        if self._pings is not None:
            await self._pings.stop()

    async def _ping(self) -> None:
        self.send("WATCHDOG=1")


def _integer(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None
