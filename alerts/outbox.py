"""The delivery worker: claim due alerts, send them, settle each one, never drop any.

At least once: an alert is marked delivered only after its channel confirmed it. A crash
between the two repeats the send, with the same ``uid`` so receivers can tell.
"""

from __future__ import annotations

import asyncio
import logging
import random
import socket
import uuid
from collections.abc import Mapping, Sequence
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from alerts.channels import Channel, DeliveryError, Outbound
from storage import outbox
from storage.models import AlertRow, utcnow

log = logging.getLogger("newswatch.deliver")


def next_delay(attempts: int, schedule: Sequence[float], retry_after: float | None) -> float | None:
    """Seconds until the next try after ``attempts`` failures; None when the schedule is done.

    Jitter (±10%) spreads retries of alerts that failed together; a receiver's Retry-After
    is a floor, never shortened.
    """
    if attempts > len(schedule):
        return None
    delay = schedule[attempts - 1] * random.uniform(0.9, 1.1)
    return max(delay, retry_after or 0.0)


class DeliveryWorker:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        channels: Mapping[str, Channel],
        *,
        schedule: Sequence[float],
        batch_size: int = 50,
        concurrency: int = 8,
        lease_seconds: float = 120.0,
    ) -> None:
        self.sessions = sessions
        self.channels = dict(channels)
        self.schedule = tuple(schedule)
        self.batch_size = batch_size
        self.lease_seconds = lease_seconds
        self.owner = f"{socket.gethostname()}:{uuid.uuid4().hex[:12]}"
        self._limit = asyncio.Semaphore(concurrency)

    async def run_once(self) -> int:
        """Deliver every alert due now, batch after batch; returns how many were attempted."""
        attempted = 0
        while True:
            async with self.sessions.begin() as session:
                batch = await outbox.claim_due(
                    session, self.owner, self.lease_seconds, self.batch_size
                )
            if not batch:
                return attempted
            await asyncio.gather(*(self._deliver(row) for row in batch))
            attempted += len(batch)

    async def _deliver(self, row: AlertRow) -> None:
        async with self._limit:
            channel = self.channels.get(row.channel)
            alert = Outbound(
                alert_id=row.id,
                uid=row.uid,
                rule=row.rule,
                channel=row.channel,
                payload={"id": row.uid, "alert_id": row.id, **row.payload},
                attempt=row.attempts + 1,
            )
            try:
                if channel is None:
                    raise DeliveryError(f"channel {row.channel!r} is not configured")
                receipt = await channel.send(alert)
            except DeliveryError as exc:
                await self._failed(row, exc)
                return
            async with self.sessions.begin() as session:
                await outbox.mark_delivered(session, row.id, self.owner, receipt)
            log.info(
                "delivered alert_id=%s rule=%r channel=%s %s",
                row.id,
                row.rule,
                row.channel,
                receipt,
            )

    async def _failed(self, row: AlertRow, exc: DeliveryError) -> None:
        attempts = row.attempts + 1
        delay = next_delay(attempts, self.schedule, exc.retry_after)
        when = None if delay is None else utcnow() + timedelta(seconds=delay)
        async with self.sessions.begin() as session:
            await outbox.mark_failed(session, row.id, self.owner, str(exc), when)
        state = "dead" if when is None else f"retry in {delay:.0f}s"
        log.warning(
            "delivery failed alert_id=%s rule=%r channel=%s attempt=%d %s: %s",
            row.id,
            row.rule,
            row.channel,
            attempts,
            state,
            exc,
        )

    async def release(self) -> None:
        async with self.sessions.begin() as session:
            await outbox.release(session, self.owner)

    async def close(self) -> None:
        await asyncio.gather(*(c.close() for c in self.channels.values()))
