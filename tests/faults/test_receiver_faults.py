"""Receivers that misbehave for real: a webhook server that drops the connection without an
answer (FIN, and RST), one that answers only after the channel's timeout, and an SMTP server
that refuses recipients, for good (550) and for now (451).

The outbox runs as the daemon runs it (``DeliveryWorker`` over a migrated database, SQLite
and, with NEWSWATCH_PG_TESTS=1, PostgreSQL). Each case asserts what is recorded (retry with
backoff, or dead, with the cause), what is logged (the channel named), and that every alert
reaches its receiver under one id and is accepted there once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import struct
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

import pytest
from aiohttp import web
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from alerts.channels import Channel
from alerts.channels.email import EmailChannel, EmailSettings
from alerts.channels.webhook import WebhookChannel, WebhookSettings
from alerts.outbox import DeliveryWorker
from storage import outbox
from storage.models import AlertRow
from tests.support import Received, free_port
from tests.test_delivery_kit import SECRET, MailHandler, Outbox, ScriptedReceiver, open_outbox


@pytest.fixture
async def box(database_url: str) -> AsyncIterator[Outbox]:
    async for opened in open_outbox(database_url):
        yield opened


def worker(box: Outbox, channels: Sequence[Channel], schedule: Sequence[float]) -> DeliveryWorker:
    return DeliveryWorker(box.sessions, {c.name: c for c in channels}, schedule=schedule)


def webhook(url: str, name: str = "desk", timeout: str = "5s") -> WebhookChannel:
    settings = WebhookSettings.model_validate(
        {"type": "webhook", "url": url, "secret": SECRET, "timeout": timeout}
    )
    return WebhookChannel(name, settings)


async def one(box: Outbox, alert_id: int) -> AlertRow:
    [row] = [row for row in await box.alerts() if row.id == alert_id]
    return row


def wait_left(row: AlertRow) -> float:
    return (row.next_attempt_at - datetime.now(UTC)).total_seconds()


async def run_until(work: DeliveryWorker, done: Callable[[], bool], within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not done():
        assert time.monotonic() < deadline, "delivery did not finish in time"
        await work.run_once()
        await asyncio.sleep(0.02)


def failures(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith("delivery failed")]


# --- a webhook receiver that drops connections ----------------------------------------------


@dataclass(frozen=True)
class Request:
    uid: str
    body: bytes
    action: str


class Dropper:
    """A bare HTTP server that reads each request whole and then, as scripted per request,
    closes the connection without a word (``close``: FIN), resets it (``reset``: RST), or
    answers 200 (``answer``, also once the script is used up)."""

    def __init__(self, script: Sequence[str]) -> None:
        self.script = list(script)
        self.requests: list[Request] = []
        self._server: asyncio.Server | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def start(self) -> Dropper:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Every connection is closed and waited for before its handler ends: a transport
        left to the garbage collector after the test would be reported against a later one."""
        try:
            await self._answer(reader, writer)
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
            headers = dict(
                (name.strip().lower(), value.strip())
                for name, _, value in (line.partition(":") for line in head.split("\r\n")[1:])
                if name
            )
            body = await reader.readexactly(int(headers.get("content-length", "0")))
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        action = self.script.pop(0) if self.script else "answer"
        self.requests.append(Request(headers["webhook-id"], body, action))
        if action == "reset":
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
            return
        if action == "answer":
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n"
                b"Connection: close\r\n\r\nok"
            )
            with contextlib.suppress(ConnectionError):
                await writer.drain()


@pytest.fixture
async def dropper() -> AsyncIterator[Dropper]:
    server = await Dropper(["close", "reset"]).start()
    try:
        yield server
    finally:
        await server.stop()


async def test_dropped_connections_are_retried_with_backoff_then_delivered_once(
    box: Outbox, dropper: Dropper, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "newswatch.deliver")
    [alert_id] = await box.add(1, "desk")
    work = worker(box, [webhook(dropper.url)], schedule=(0.3, 0.6, 0.6))
    try:
        await work.run_once()
        row = await one(box, alert_id)
        assert (row.status, row.attempts) == ("pending", 1)
        assert (
            row.last_error == f"POST {dropper.url}: ServerDisconnectedError('Server disconnected')"
        )
        assert 0.2 < wait_left(row) <= 0.33, "first retry after 0.3 s (±10%)"
        await work.run_once()
        assert len(dropper.requests) == 1, "not tried again before the backoff has passed"

        await asyncio.sleep(wait_left(await one(box, alert_id)) + 0.05)
        await work.run_once()
        row = await one(box, alert_id)
        assert (row.status, row.attempts) == ("pending", 2)
        assert row.last_error == (
            f"POST {dropper.url}: ClientOSError(104, 'Connection reset by peer')"
        )
        assert 0.5 < wait_left(row) <= 0.66, "the second retry waits longer: 0.6 s (±10%)"

        await run_until(work, lambda: len(dropper.requests) == 3)
    finally:
        await work.close()
    row = await one(box, alert_id)
    assert (row.status, row.attempts, row.receipt) == ("delivered", 3, "HTTP 200: ok")
    assert [r.action for r in dropper.requests] == ["close", "reset", "answer"]
    assert {r.uid for r in dropper.requests} == {row.uid}
    assert len({r.body for r in dropper.requests}) == 1
    logged = failures(caplog)
    assert len(logged) == 2
    assert (
        f"alert_id={alert_id} uid={row.uid} rule='Water supply' channel=desk attempt=1"
        in (logged[0])
    )
    assert "retry in 0.3s" in logged[0] and "ServerDisconnectedError" in logged[0]
    assert "channel=desk attempt=2 retry in 0." in logged[1]
    assert "Connection reset by peer" in logged[1]


async def test_a_receiver_that_always_drops_leaves_a_dead_alert_that_retry_revives(
    box: Outbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "newswatch.deliver")
    server = await Dropper(["close", "reset", "close"]).start()
    [alert_id] = await box.add(1, "desk")
    work = worker(box, [webhook(server.url)], schedule=(0.05, 0.05))
    try:
        await run_until(work, lambda: len(server.requests) == 3)
        await work.run_once()
        row = await one(box, alert_id)
        assert (row.status, row.attempts) == ("dead", 3)
        assert (
            row.last_error == f"POST {server.url}: ServerDisconnectedError('Server disconnected')"
        )
        assert len(server.requests) == 3, "a dead alert is not tried on its own"
        last = failures(caplog)[-1]
        assert "channel=desk attempt=3 dead: POST" in last, last

        async with box.sessions.begin() as session:
            assert await outbox.requeue(session, [alert_id]) == [alert_id]
        await run_until(work, lambda: len(server.requests) == 4)
    finally:
        await work.close()
        await server.stop()
    row = await one(box, alert_id)
    assert row.status == "delivered"
    assert {r.uid for r in server.requests} == {row.uid}
    assert [r.action for r in server.requests].count("answer") == 1


# --- a webhook receiver slower than the channel's timeout -----------------------------------


class SlowFirst(ScriptedReceiver):
    """Takes ``delay`` over its first answer, then answers at once."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.first_delay = delay
        self.arrivals = 0

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.arrivals += 1
        first = self.arrivals == 1
        self.requests.append(Received(request.path, dict(request.headers), body))
        self.times.append(time.monotonic())
        self._changed.set()
        if first:
            await asyncio.sleep(self.first_delay)
        return web.Response(text="ok")


async def test_a_slow_receiver_times_out_and_the_retry_carries_the_same_id(
    box: Outbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "newswatch.deliver")
    slow = SlowFirst(delay=1.5)
    fast = ScriptedReceiver()
    await slow.start()
    await fast.start()
    [slow_id] = await box.add(1, "slow")
    [fast_id] = await box.add(1, "fast", start=1)
    channels = [webhook(slow.url, "slow", timeout="0.5s"), webhook(fast.url, "fast")]
    work = worker(box, channels, schedule=(0.2, 0.2))
    try:
        started = time.monotonic()
        await work.run_once()
        took = time.monotonic() - started
        assert took < 1.2, f"the channel gave up after its timeout, not the receiver's {took}"
        assert fast.times[0] - started < 0.4, "a slow receiver holds no other channel up"
        row = await one(box, slow_id)
        assert (row.status, row.attempts) == ("pending", 1)
        assert row.last_error == f"POST {slow.url}: no answer within 0.5s"
        assert (await one(box, fast_id)).status == "delivered"
        [logged] = failures(caplog)
        assert "channel=slow attempt=1 retry in 0.2s: POST" in logged
        assert "no answer within 0.5s" in logged

        await run_until(work, lambda: len(slow.requests) == 2)
    finally:
        await work.close()
        await slow.stop()
        await fast.stop()
    row = await one(box, slow_id)
    assert (row.status, row.attempts, row.receipt) == ("delivered", 2, "HTTP 200: ok")
    assert [r.headers["webhook-id"] for r in slow.requests] == [row.uid] * 2
    assert len({r.body for r in slow.requests}) == 1, "a receiver dedupes the repeat by its id"
    assert len(fast.requests) == 1


# --- an SMTP server that refuses recipients -------------------------------------------------

DESK, GONE, BUSY = (
    "desk@newsroom.example.org",
    "gone@newsroom.example.org",
    "busy@newsroom.example.org",
)
NO_SUCH_USER = "550 5.1.1 <gone@newsroom.example.org>: no such user"
TRY_LATER = "451 4.2.1 mailbox busy, try later"


class Refusing(MailHandler):
    """Refuses GONE for good on every try and BUSY for now on its first ``busy`` tries."""

    def __init__(self, busy: int) -> None:
        super().__init__()
        self.busy = busy
        self.rcpts: list[tuple[str, str]] = []

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if address == GONE:
            reply = NO_SUCH_USER
        elif address == BUSY and self.busy > 0:
            self.busy -= 1
            reply = TRY_LATER
        else:
            envelope.rcpt_tos.append(address)
            reply = "250 2.1.5 OK"
        self.rcpts.append((address, reply[:3]))
        return reply

    def inbox(self, rcpt: str) -> list[EmailMessage]:
        return [m for m, e in zip(self.messages, self.envelopes, strict=True) if rcpt in e.rcpt_tos]


@contextlib.contextmanager
def smtp(handler: MailHandler) -> Any:
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


def mail(port: int, to: Sequence[str]) -> EmailChannel:
    settings = EmailSettings.model_validate(
        {
            "type": "email",
            "to": list(to),
            "from": "newswatch@newsroom.example.org",
            "host": "127.0.0.1",
            "port": port,
            "security": "none",
        }
    )
    return EmailChannel("mail", settings)


async def test_smtp_refusals_for_now_are_retried_to_those_recipients_only(
    box: Outbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "newswatch.deliver")
    handler = Refusing(busy=2)
    with smtp(handler) as port:
        [alert_id] = await box.add(1, "mail")
        work = worker(box, [mail(port, [DESK, GONE, BUSY])], schedule=(0.2, 0.4, 0.4))
        await work.run_once()
        row = await one(box, alert_id)
        assert (row.status, row.attempts) == ("pending", 1)
        assert row.last_error == (
            f"SMTP 451 4.2.1 mailbox busy, try later for {BUSY}; sent to {DESK}; "
            f"refused: {GONE} (550 5.1.1 <{GONE}>: no such user)"
        )
        assert 0.15 < wait_left(row) <= 0.22

        await asyncio.sleep(wait_left(row) + 0.05)
        await work.run_once()
        row = await one(box, alert_id)
        assert (row.status, row.attempts) == ("pending", 2)
        assert row.last_error is not None
        assert row.last_error.startswith(f"SMTP 451 4.2.1 mailbox busy, try later for {BUSY}")
        assert 0.35 < wait_left(row) <= 0.44, "the second retry waits longer"

        await run_until(work, lambda: bool(handler.inbox(BUSY)))
        await work.run_once()
    row = await one(box, alert_id)
    assert (row.status, row.attempts) == ("delivered", 3)
    assert row.receipt == (
        f"SMTP 250 2.0.0 queued as nw-test; refused: {GONE} (550 5.1.1 <{GONE}>: no such user)"
    )
    assert [e.rcpt_tos for e in handler.envelopes] == [[DESK], [BUSY]]
    assert handler.rcpts == [
        (DESK, "250"),
        (GONE, "550"),
        (BUSY, "451"),
        (BUSY, "451"),
        (BUSY, "250"),
    ], "GONE is not asked again, DESK does not get the message twice"
    ids = {m["Message-ID"] for m in handler.messages}
    assert ids == {f"<{row.uid}@newsroom.example.org>"}
    assert [m["To"] for m in handler.messages] == [f"{DESK}, {GONE}, {BUSY}"] * 2
    logged = failures(caplog)
    assert len(logged) == 2
    assert all(f"channel=mail attempt={n} " in line for n, line in enumerate(logged, 1))
    assert all(f"451 4.2.1 mailbox busy, try later for {BUSY}" in line for line in logged)


async def test_smtp_refusing_every_recipient_for_good_ends_dead(
    box: Outbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "newswatch.deliver")
    handler = Refusing(busy=0)
    with smtp(handler) as port:
        [alert_id] = await box.add(1, "mail")
        work = worker(box, [mail(port, [GONE])], schedule=(0.05, 0.05))
        await run_until(work, lambda: len(handler.rcpts) == 3)
        await work.run_once()
    row = await one(box, alert_id)
    assert (row.status, row.attempts) == ("dead", 3)
    assert row.last_error == f"SMTP 550 5.1.1 <{GONE}>: no such user for {GONE}"
    assert handler.messages == []
    assert "channel=mail attempt=3 dead: SMTP 550" in failures(caplog)[-1]
