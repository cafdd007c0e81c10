"""One daemon per SQLite file.

Two ``newswatch run`` on one SQLite file would poll every feed twice and, worse, could never
tell a crashed holder's leases from a live one's, so a restart would have to wait each lease
out. The running daemon therefore holds an exclusive ``flock`` on a file beside the database:
the kernel drops it when the process ends, however it ends, so a lock that is free means every
earlier daemon is gone and its leases can be reclaimed at once. One-shot commands
(``ingest``, ``alerts retry`` …) do not take it and keep working beside the daemon.
"""

from __future__ import annotations

import fcntl
import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from daemon.errors import SettingsError
from daemon.settings import Settings

LOCK_SUFFIX = "-daemon.lock"


class DatabaseInUse(SettingsError):
    """Another ``newswatch run`` holds the SQLite file."""


@dataclass
class DatabaseLock:
    path: Path
    fd: int

    @classmethod
    def take(cls, settings: Settings) -> DatabaseLock | None:
        """The lock of the settings' SQLite file; None for PostgreSQL and in-memory SQLite,
        where replicas share the database by design."""
        url = make_url(settings.database_url)
        database = url.database
        if url.get_backend_name() != "sqlite" or not database or database == ":memory:":
            return None
        path = Path(database + LOCK_SUFFIX)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise DatabaseInUse(
                str(settings.path),
                [
                    f"[daemon] database: {database} is in use by another `newswatch run` "
                    f"({holder}); stop that one first, or give this one its own database"
                ],
            ) from None
        except BaseException:
            os.close(fd)
            raise
        started = datetime.now(UTC).isoformat(timespec="seconds")
        stamp = f"pid {os.getpid()} on {socket.gethostname()}, since {started}\n".encode()
        os.ftruncate(fd, 0)
        os.pwrite(fd, stamp, 0)
        return cls(path, fd)

    def release(self) -> None:
        """The file stays: removing it would let a starting daemon lock a file that a third
        one is about to replace."""
        if self.fd >= 0:
            os.ftruncate(self.fd, 0)
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = -1
