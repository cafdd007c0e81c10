"""What every delivery channel looks like from the outbox's side."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class Outbound:
    """One alert ready to leave: ``uid`` stays the same across retries so receivers can dedupe."""

    alert_id: int
    uid: str
    rule: str
    channel: str
    payload: dict[str, Any]
    attempt: int


class DeliveryError(Exception):
    """A delivery failed; the outbox decides from these fields what happens next.

    ``retry_after`` carries a receiver's Retry-After (seconds); ``disable_channel`` is set when
    the receiver said it will never accept this channel again (HTTP 410).
    """

    def __init__(
        self, message: str, *, retry_after: float | None = None, disable_channel: bool = False
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.disable_channel = disable_channel


class Channel(Protocol):
    """A destination for alerts. ``send`` returns a short receipt or raises DeliveryError."""

    name: str

    async def send(self, alert: Outbound) -> str: ...

    async def close(self) -> None: ...
