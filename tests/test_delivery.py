"""The outbox against a real receiver: retries, signatures, 410, Retry-After, dead, flood control.

Each test runs on SQLite and, with NEWSWATCH_PG_TESTS=1, on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from alerts.channels import Channel
from alerts.channels.webhook import WebhookChannel, WebhookSettings
from alerts.flow import Flow, FlowSettings
from alerts.outbox import DeliveryWorker
from alerts.ratelimit import RateLimit, RateLimiter
from storage import channels as channel_state
from storage import outbox
from storage.models import PENDING, AlertBatch, AlertRow
from tests.test_delivery_kit import SECRET, Answer, Outbox, ScriptedReceiver, open_outbox

FAST = (0.05, 0.05, 0.05, 0.05, 0.05)


@pytest.fixture
async def box(database_url: str) -> AsyncIterator[Outbox]:
    async for opened in open_outbox(database_url):
        yield opened


def webhook(receiver: ScriptedReceiver, name: str = "desk", **options: object) -> WebhookChannel:
    settings = WebhookSettings.model_validate(
        {"type": "webhook", "url": receiver.url, "secret": SECRET, **options}
    )
    return WebhookChannel(name, settings)


def make_worker(
    box: Outbox,
    channels: Sequence[Channel],
    schedule: Sequence[float] = FAST,
    flows: Mapping[str, Flow] | None = None,
) -> DeliveryWorker:
    return DeliveryWorker(
        box.sessions, {c.name: c for c in channels}, schedule=schedule, flows=flows
    )


async def run_until(worker: DeliveryWorker, done: Callable[[], bool], within: float = 15.0) -> None:
    deadline = time.monotonic() + within
    while not done():
        assert time.monotonic() < deadline, "delivery did not finish in time"
        await worker.run_once()
        await asyncio.sleep(0.02)


async def settled(box: Outbox) -> list[AlertRow]:
    return [row for row in await box.alerts() if row.status != PENDING]


async def test_fourth_attempt_delivers_with_the_same_webhook_id(
    box: Outbox, hook: ScriptedReceiver
) -> None:
    hook.answers = [Answer(500, body="database down")] * 3
    [alert_id] = await box.add(1, "desk")
    worker = make_worker(box, [webhook(hook)])
    try:
        await run_until(worker, lambda: len(hook.requests) >= 4)
    finally:
        await worker.close()
    [row] = await box.alerts()
    assert (row.id, row.status, row.attempts) == (alert_id, "delivered", 4)
    assert row.receipt == "HTTP 200: ok"
    assert [r.headers["webhook-id"] for r in hook.requests] == [row.uid] * 4
    bodies = {r.body for r in hook.requests}
    assert len(bodies) == 1, "every retry must send the same body"
    for request in hook.requests:
        payload = Webhook(SECRET).verify(request.body, request.headers)
        assert payload["id"] == row.uid and payload["alert_id"] == row.id


async def test_signature_verifies_and_a_changed_body_does_not(
    box: Outbox, hook: ScriptedReceiver
) -> None:
    await box.add(1, "desk")
    worker = make_worker(box, [webhook(hook)])
    try:
        await worker.run_once()
    finally:
        await worker.close()
    [request] = hook.requests
    payload = Webhook(SECRET).verify(request.body, request.headers)
    assert payload["version"] == 1 and payload["type"] == "alert"
    assert payload["rule"] == "Water supply"
    assert payload["article"]["title"].startswith("Water utility in Vinnytsia")
    assert request.headers["webhook-signature"].startswith("v1,")
    assert abs(int(request.headers["webhook-timestamp"]) - time.time()) < 60
    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(request.body.replace(b"Vinnytsia", b"Vinnytsya"), request.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "QUJD" * 8).verify(request.body, request.headers)


async def test_gone_receiver_disables_the_channel_and_keeps_its_alerts(
    box: Outbox, hook: ScriptedReceiver
) -> None:
    hook.answers = [Answer(410, body="this hook was deleted")]
    await box.add(1, "desk")
    worker = make_worker(box, [webhook(hook)])
    try:
        await worker.run_once()
        await box.add(2, "desk", start=1)
        await asyncio.sleep(0.1)
        await worker.run_once()
        assert len(hook.requests) == 1, "a disabled channel must not be tried again"
        async with box.sessions() as session:
            disabled = await channel_state.disabled(session)
        assert disabled == {"desk": "receiver is gone (HTTP 410: this hook was deleted)"}
        rows = await box.alerts()
        assert [r.status for r in rows] == ["pending"] * 3
        assert "410" in (rows[0].last_error or "")

        async with box.sessions.begin() as session:
            assert await channel_state.enable(session, "desk")
        await run_until(worker, lambda: len(hook.requests) == 4)
    finally:
        await worker.close()
    assert [r.status for r in await box.alerts()] == ["delivered"] * 3


async def test_retry_after_is_a_floor_for_the_next_attempt(
    box: Outbox, hook: ScriptedReceiver
) -> None:
    hook.answers = [Answer(503, {"Retry-After": "2"}, "busy")]
    await box.add(1, "desk")
    worker = make_worker(box, [webhook(hook)], schedule=(0.01, 0.01))
    try:
        await worker.run_once()
        [row] = await box.alerts()
        wait = (row.next_attempt_at - datetime.now(UTC)).total_seconds()
        assert 1.5 < wait <= 2.0, wait
        await run_until(worker, lambda: len(hook.requests) == 2)
    finally:
        await worker.close()
    assert hook.times[1] - hook.times[0] >= 1.9


async def test_exhausted_schedule_leaves_a_dead_alert_that_retry_revives(
    box: Outbox, hook: ScriptedReceiver
) -> None:
    hook.answers = [Answer(500, body="broken")] * 3
    [alert_id] = await box.add(1, "desk")
    worker = make_worker(box, [webhook(hook)], schedule=(0.01, 0.01))
    try:
        await run_until(worker, lambda: len(hook.requests) == 3)
        [row] = await box.alerts()
        assert (row.status, row.attempts, row.last_error) == ("dead", 3, "HTTP 500: broken")
        await worker.run_once()
        assert len(hook.requests) == 3, "a dead alert is not retried on its own"

        async with box.sessions.begin() as session:
            assert await outbox.requeue(session, dead=True) == [alert_id]
        await run_until(worker, lambda: len(hook.requests) == 4)
    finally:
        await worker.close()
    [row] = await box.alerts()
    assert row.status == "delivered"
    assert {r.headers["webhook-id"] for r in hook.requests} == {row.uid}


async def test_redirect_is_a_failure(box: Outbox, hook: ScriptedReceiver) -> None:
    hook.answers = [Answer(301, {"Location": "https://elsewhere.example.org/"}, "moved")]
    await box.add(1, "desk")
    worker = make_worker(box, [webhook(hook)], schedule=(60.0,))
    try:
        await worker.run_once()
    finally:
        await worker.close()
    [row] = await box.alerts()
    assert (row.status, row.attempts, row.last_error) == ("pending", 1, "HTTP 301: moved")


async def test_two_workers_deliver_each_alert_once(box: Outbox) -> None:
    receiver = ScriptedReceiver(delay=0.01)
    await receiver.start()
    await box.add(80, "desk")
    first, second = (make_worker(box, [webhook(receiver)]) for _ in range(2))
    try:
        await asyncio.gather(first.run_once(), second.run_once())
    finally:
        await asyncio.gather(first.close(), second.close(), receiver.stop())
    ids = [r.headers["webhook-id"] for r in receiver.requests]
    assert len(ids) == 80 and len(set(ids)) == 80
    assert {r.status for r in await box.alerts()} == {"delivered"}


async def test_rate_limit_folds_the_overflow_into_one_message(
    box: Outbox, hook: ScriptedReceiver
) -> None:
    settings = FlowSettings(rate_limit="2/2s")
    flows = {"desk": Flow.from_settings(settings)}
    await box.add(5, "desk")
    worker = make_worker(box, [webhook(hook)], flows=flows)
    try:
        await worker.run_once()
        assert len(hook.requests) == 2
        [batch] = await box.batches()
        assert (batch.reason, batch.status) == ("rate", "open")
        await run_until(worker, lambda: len(hook.requests) == 3)
    finally:
        await worker.close()
    digest = hook.requests[2].json()
    rows = await box.alerts()
    assert (digest["type"], digest["reason"], digest["count"]) == ("digest", "rate", 3)
    assert [a["alert_id"] for a in digest["alerts"]] == [r.id for r in rows[2:]]
    assert hook.requests[2].headers["webhook-id"] == batch.uid == digest["id"]
    assert hook.times[2] - hook.times[0] >= 1.9
    assert {r.status for r in rows} == {"delivered"}


def quiet_around(now: datetime) -> str:
    start, end = now - timedelta(hours=1), now + timedelta(hours=1)
    return f"{start:%H:%M}-{end:%H:%M}"


async def test_quiet_hours_hold_alerts_and_send_them_as_one_message_after(
    box: Outbox, hook: ScriptedReceiver
) -> None:
    quiet = Flow.from_settings(FlowSettings(quiet_hours=quiet_around(datetime.now(UTC))))
    await box.add(3, "desk")
    worker = make_worker(box, [webhook(hook)], flows={"desk": quiet})
    try:
        await worker.run_once()
        assert hook.requests == []
        [batch] = await box.batches()
        expected_end = datetime.now(UTC) + timedelta(hours=1)
        assert batch.reason == "quiet"
        assert abs((batch.next_attempt_at - expected_end).total_seconds()) < 120

        # The hour passes: the batch is due and the quiet window is over.
        async with box.sessions.begin() as session:
            await session.execute(
                update(AlertBatch).values(next_attempt_at=datetime.now(UTC) - timedelta(seconds=1))
            )
        worker.flows = {}
        await run_until(worker, lambda: len(hook.requests) == 1)
        await worker.run_once()
    finally:
        await worker.close()
    [request] = hook.requests
    assert request.json()["count"] == 3
    assert {r.status for r in await box.alerts()} == {"delivered"}


async def test_unconfigured_channel_is_retried_then_dead(box: Outbox) -> None:
    await box.add(1, "removed-channel")
    worker = make_worker(box, [], schedule=(0.01,))
    deadline = time.monotonic() + 5
    while not await settled(box):
        assert time.monotonic() < deadline
        await worker.run_once()
        await asyncio.sleep(0.02)
    [row] = await box.alerts()
    assert (row.status, row.attempts) == ("dead", 2)
    assert row.last_error == "channel 'removed-channel' is not configured"


def test_rate_window_counts_a_message_from_when_it_arrived() -> None:
    limiter = RateLimiter(RateLimit.parse("2/2s"))
    assert limiter.try_acquire(100.0) and limiter.try_acquire(100.1)
    assert not limiter.try_acquire(100.2)
    assert limiter.free_at(100.2) == pytest.approx(102.0)
    limiter.settle(100.0, 100.5)
    assert limiter.free_at(100.6) == pytest.approx(102.1)
    limiter.settle(100.1, 100.7)
    assert limiter.free_at(100.8) == pytest.approx(102.5)
    assert not limiter.try_acquire(102.4) and limiter.try_acquire(102.5)
