"""The delivery worker: claim due alerts, send them, settle each one, never drop any.

At least once: an alert is marked delivered only after its channel confirmed it. A crash
between the two repeats the send, with the same ``uid`` so receivers can tell. Marks are
written as answers come in (every ``SETTLE_SECONDS``), not when a whole round has been sent:
with a slow receiver a round takes minutes, and a crash would repeat all of it.

Each round claims due single alerts and due batches. A single alert is first shown to its
channel's ``Flow``: it may be held into the channel's open batch (digest schedule, quiet
hours, over the rate limit) instead of being sent. A batch goes as one digest message with its
own stable uid and settles exactly the alerts it carried. A channel whose receiver answered
410 Gone is disabled: its alerts stay pending, unclaimed, until it is enabled again.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from alerts.channels import Channel, DeliveryError, Outbound
from alerts.flow import Flow
from alerts.payload import digest_payload
from storage import batches, outbox
from storage import channels as channel_state
from storage.lane import writing
from storage.leases import new_owner, renew
from storage.models import AlertBatch, AlertRow, utcnow

log = logging.getLogger("newswatch.deliver")
Attempt = tuple[Outbound, str, "DeliveryError | None"]
# Told of every send: the message, the seconds the channel took, and its error if any.
AttemptHook = Callable[[Outbound, float, "DeliveryError | None"], None]
# How long an answered delivery may wait for its mark: answers within this are written in
# one transaction, so a busy round does not queue a commit per alert on the database.
SETTLE_SECONDS = 0.25


def next_delay(attempts: int, schedule: Sequence[float], retry_after: float | None) -> float | None:
    """Seconds until the next try after ``attempts`` failures; None when the schedule is done.

    Jitter (±10%) spreads retries of alerts that failed together; a receiver's Retry-After
    is a floor, never shortened.
    """
    if attempts > len(schedule):
        return None
    delay = schedule[attempts - 1] * random.uniform(0.9, 1.1)
    return max(delay, retry_after or 0.0)


def _outcome(task: asyncio.Future[Attempt | bool | None]) -> Attempt | bool | None:
    """A send that crashed is logged and left leased: its lease lapses and it is tried again,
    while the round's other answers are still recorded."""
    error = task.exception()
    if error is None:
        return task.result()
    log.error("delivery crashed: %r", error, exc_info=error)
    return None


def outbound(row: AlertRow) -> Outbound:
    """The message for one alert: the stored payload plus its stable ids."""
    return Outbound(
        alert_id=row.id,
        uid=row.uid,
        rule=row.rule,
        channel=row.channel,
        payload={"id": row.uid, "alert_id": row.id, **row.payload},
        attempt=row.attempts + 1,
    )


def batch_outbound(batch: AlertBatch, members: Sequence[AlertRow]) -> Outbound:
    items = [outbound(row).payload for row in members]
    return Outbound(
        alert_id=batch.id,
        uid=batch.uid,
        rule=batch.reason,
        channel=batch.channel,
        payload=digest_payload(batch.uid, batch.reason, items),
        attempt=batch.attempts + 1,
    )


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
        flows: Mapping[str, Flow] | None = None,
        on_attempt: AttemptHook | None = None,
        write_slot: asyncio.Semaphore | None = None,
    ) -> None:
        self.sessions = sessions
        self.write_slot = write_slot  # SQLite: writers take turns (storage.lane.writing)
        self.on_attempt = on_attempt
        self.channels = dict(channels)
        self.flows = dict(flows or {})
        self.schedule = tuple(schedule)
        self.batch_size = batch_size
        self.lease_seconds = lease_seconds
        self.owner = new_owner()
        self._limit = asyncio.Semaphore(concurrency)
        # Claimed and not settled yet: only these leases are renewed, so an alert whose send
        # was cancelled is given up to its lease and retried, never held for good.
        self._held: set[int] = set()
        self._held_batches: set[int] = set()
        self._unwritten: list[Attempt] = []

    async def run_once(self) -> int:
        """Deliver every alert and batch due now, round after round; returns messages sent.

        Outcomes that could not be written (the database went away mid-round) are kept and
        written first next time, their leases renewed meanwhile: those alerts were answered,
        and sending them again would be a repeat nobody needs.
        """
        sent = 0
        if self._unwritten:
            attempts, self._unwritten = self._unwritten, []
            await self._write(attempts)
        while True:
            rows, due_batches = await self._claim()
            if not rows and not due_batches:
                return sent
            self._held.update(row.id for row in rows)
            self._held_batches.update(b.id for b in due_batches)
            alerts: dict[asyncio.Future[Attempt | bool | None], int] = {
                asyncio.ensure_future(self._alert(row)): row.id for row in rows
            }
            digests: dict[asyncio.Future[Attempt | bool | None], int] = {
                asyncio.ensure_future(self._batch(b)): b.id for b in due_batches
            }
            pending = {*alerts, *digests}
            try:
                while pending:
                    done, pending = await asyncio.wait(pending, timeout=SETTLE_SECONDS)
                    results = [_outcome(task) for task in done]
                    settled = [r for r in results if isinstance(r, tuple)]
                    for task, result in zip(done, results, strict=True):
                        if task in digests:
                            self._held_batches.discard(digests[task])
                        elif not isinstance(result, tuple):  # held in a batch, or crashed
                            self._held.discard(alerts[task])
                    await self._write(settled)
                    sent += len(settled) + sum(r is True for r in results)
            finally:
                for task in pending:
                    task.cancel()
                    self._held.discard(alerts.get(task, 0))
                    self._held_batches.discard(digests.get(task, 0))

    async def _write(self, attempts: list[Attempt]) -> None:
        try:
            await self._settle(attempts)
        except BaseException:
            self._unwritten.extend(attempts)
            raise
        self._held.difference_update(message.alert_id for message, _, _ in attempts)

    async def _claim(self) -> tuple[list[AlertRow], list[AlertBatch]]:
        async with self.sessions.begin() as session:
            disabled = set(await channel_state.disabled(session))
        now = utcnow()
        quiet = {name for name, flow in self.flows.items() if flow.is_quiet(now)}
        async with writing(self.sessions, self.write_slot) as session:
            rows = await outbox.claim_due(
                session, self.owner, self.lease_seconds, self.batch_size, disabled
            )
            due_batches = await batches.claim_due(
                session, self.owner, self.lease_seconds, self.batch_size, disabled | quiet
            )
        return rows, due_batches

    async def _alert(self, row: AlertRow) -> Attempt | None:
        """Send one alert, or hold it for its channel's next batch (None)."""
        async with self._limit:
            flow = self.flows.get(row.channel)
            admitted = utcnow()
            hold = flow.admit(admitted) if flow is not None else None
            if hold is not None:
                async with writing(self.sessions, self.write_slot) as session:
                    batch_id = await batches.hold(
                        session, row.id, self.owner, row.channel, hold.reason, hold.until
                    )
                log.info(
                    "held alert_id=%s rule=%r channel=%s reason=%s batch=%s until=%s",
                    *(row.id, row.rule, row.channel, hold.reason, batch_id, hold.until),
                )
                return None
            message = outbound(row)
            receipt, error = await self._send(message)
            if flow is not None:
                flow.delivered(admitted, utcnow())
            return message, receipt, error

    async def _settle(self, attempts: Sequence[Attempt]) -> None:
        """Record a round's single-alert outcomes in one transaction.

        One commit per round instead of one per alert keeps writers from queueing on the
        database lock; a crash before it only means the round's alerts are sent again.
        """
        if not attempts:
            return
        delivered = [(m.alert_id, receipt) for m, receipt, error in attempts if error is None]
        async with writing(self.sessions, self.write_slot) as session:
            await outbox.mark_delivered_many(session, self.owner, delivered)
            for message, _, error in attempts:
                if error is not None:
                    when = await self._failed(session, message, error)
                    await outbox.mark_failed(
                        session, message.alert_id, self.owner, str(error), when
                    )

    async def _batch(self, batch: AlertBatch) -> bool:
        async with self._limit:
            async with writing(self.sessions, self.write_slot) as session:
                members = await batches.members(session, batch.id)
                if not members:
                    await batches.drop_empty(session, batch.id, self.owner)
                    return False
            flow = self.flows.get(batch.channel)
            if flow is not None:
                await asyncio.sleep(flow.batch_wait(utcnow()))
                admitted = utcnow()
                flow.batch_sent(admitted)
            message = batch_outbound(batch, members)
            ids = [row.id for row in members]
            receipt, error = await self._send(message)
            if flow is not None:
                flow.delivered(admitted, utcnow())
            async with writing(self.sessions, self.write_slot) as session:
                if error is None:
                    await batches.mark_delivered(session, batch.id, self.owner, ids, receipt)
                else:
                    when = await self._failed(session, message, error)
                    await batches.mark_failed(session, batch.id, self.owner, ids, str(error), when)
            return True

    async def _send(self, message: Outbound) -> tuple[str, DeliveryError | None]:
        channel = self.channels.get(message.channel)
        started = time.perf_counter()
        try:
            if channel is None:
                raise DeliveryError(f"channel {message.channel!r} is not configured")
            receipt = await channel.send(message)
        except DeliveryError as exc:
            if self.on_attempt is not None:
                self.on_attempt(message, time.perf_counter() - started, exc)
            return "", exc
        if self.on_attempt is not None:
            self.on_attempt(message, time.perf_counter() - started, None)
        log.info(
            "delivered alert_id=%s uid=%s rule=%r channel=%s attempt=%d %s",
            *(message.alert_id, message.uid, message.rule, message.channel, message.attempt),
            receipt[:200],
        )
        return receipt, None

    async def _failed(
        self, session: AsyncSession, message: Outbound, error: DeliveryError
    ) -> datetime | None:
        """When to try again (None: dead); a 410 also disables the channel, loudly."""
        delay = next_delay(message.attempt, self.schedule, error.retry_after)
        when = None if delay is None else utcnow() + timedelta(seconds=delay)
        if error.disable_channel:
            await channel_state.disable(session, message.channel, str(error))
            log.error(
                "channel disabled channel=%s: %s; its alerts are held until "
                "`newswatch channels enable %s`",
                *(message.channel, error, message.channel),
            )
        state = "dead" if delay is None else f"retry in {delay:.1f}s"
        log.warning(
            "delivery failed alert_id=%s uid=%s rule=%r channel=%s attempt=%d %s: %s",
            *(message.alert_id, message.uid, message.rule, message.channel, message.attempt),
            *(state, error),
        )
        return when

    async def renew(self) -> None:
        """Keep the leases of alerts and batches claimed and not yet settled."""
        now = utcnow()
        until = now + timedelta(seconds=self.lease_seconds)
        held = ((AlertRow, set(self._held)), (AlertBatch, set(self._held_batches)))
        async with writing(self.sessions, self.write_slot) as session:
            for model, ids in held:
                if ids:
                    await renew(session, model, self.owner, ids, now=now, until=until)

    async def release(self) -> None:
        async with writing(self.sessions, self.write_slot) as session:
            await outbox.release(session, self.owner)

    async def close(self) -> None:
        await asyncio.gather(*(c.close() for c in self.channels.values()))
