"""The ``file`` channel: one JSON line per alert, appended to a local file.

It lets a fresh install show alerts with no server configured, and it is a durable audit
trail for people who tail or ship the file elsewhere.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Literal

from pydantic import Field

from alerts.channels.base import DeliveryError, Outbound
from alerts.flow import FlowSettings


class FileSettings(FlowSettings):
    type: Literal["file"]
    path: str = Field(min_length=1)


class FileChannel:
    def __init__(self, name: str, path: Path) -> None:
        self.name = name
        self.path = path
        self._lock = asyncio.Lock()

    async def send(self, alert: Outbound) -> str:
        line = json.dumps(alert.payload, ensure_ascii=False, sort_keys=True) + "\n"
        async with self._lock:
            try:
                await asyncio.to_thread(self._append, line)
            except OSError as exc:
                raise DeliveryError(f"cannot append to {self.path}: {exc}") from exc
        return f"appended to {self.path}"

    def _append(self, line: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(line)
            handle.flush()

    async def close(self) -> None:
        return None
