"""The email channel against a real aiosmtpd server: per-alert mail, resends, hourly digests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update

from alerts.channels.email import EmailChannel, EmailSettings
from alerts.digest import DigestSchedule, QuietHours
from alerts.flow import Flow
from alerts.outbox import DeliveryWorker
from storage import outbox
from storage.models import AlertBatch
from tests.test_delivery_kit import MailServer, Outbox, open_outbox

KYIV = ZoneInfo("Europe/Kyiv")


@pytest.fixture
async def box(database_url: str) -> AsyncIterator[Outbox]:
    async for opened in open_outbox(database_url):
        yield opened


def mail_settings(server: MailServer, **options: object) -> EmailSettings:
    return EmailSettings.model_validate(
        {
            "type": "email",
            "to": ["desk@newsroom.example.org"],
            "from": "newswatch@newsroom.example.org",
            "host": "127.0.0.1",
            "port": str(server.port),  # as "${NEWSWATCH_SMTP_PORT}" expands
            "security": "none",
            **options,
        }
    )


def make_worker(box: Outbox, settings: EmailSettings) -> DeliveryWorker:
    flows = {"mail": Flow.from_settings(settings)} if settings.digest else None
    channel = EmailChannel("mail", settings)
    return DeliveryWorker(box.sessions, {"mail": channel}, schedule=(0.05,) * 3, flows=flows)


async def test_one_alert_is_one_multipart_message(box: Outbox) -> None:
    with MailServer() as server:
        [alert_id] = await box.add(1, "mail")
        await make_worker(box, mail_settings(server)).run_once()
        [message] = await server.wait_for(1)
    [row] = await box.alerts()
    assert row.status == "delivered" and row.receipt is not None
    assert row.receipt.startswith("SMTP 250 2.0.0 queued as nw-test")
    assert message["Message-ID"] == f"<{row.uid}@newsroom.example.org>"
    assert message["Subject"] == (
        "[newswatch] Water supply: Water utility in Vinnytsia restores supply to district 0 "
        "after pipe burst"
    )
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    for needed in ("Water utility in Vinnytsia", "inbox", "2026-03-02 09:30:00+00:00"):
        assert needed in text and needed in html
    assert "boil tap **water** for another day (0)" in text
    assert "boil tap <strong>water</strong> for another day (0)" in html
    assert '<a href="https://news.example.org/vinnytsia/water-0">' in html
    assert server.handler.envelopes[0].rcpt_tos == ["desk@newsroom.example.org"]
    assert alert_id == row.id


async def test_a_resend_carries_the_same_message_id(box: Outbox) -> None:
    with MailServer(replies=["451 4.3.0 mailbox busy, try later"]) as server:
        [alert_id] = await box.add(1, "mail")
        worker = make_worker(box, mail_settings(server))
        await worker.run_once()
        [row] = await box.alerts()
        assert (row.status, row.last_error) == ("pending", "SMTP 451 4.3.0 mailbox busy, try later")
        await asyncio.sleep(0.1)
        await worker.run_once()
        async with box.sessions.begin() as session:
            await outbox.requeue(session, [alert_id])
        await worker.run_once()
        first, second = await server.wait_for(2)
    assert first["Message-ID"] == second["Message-ID"]
    assert len(server.handler.messages) == 2


async def test_hourly_digest_is_one_message_with_exactly_the_due_alerts(box: Outbox) -> None:
    with MailServer() as server:
        settings = mail_settings(server, digest="hourly", timezone="Europe/Kyiv")
        worker = make_worker(box, settings)
        early = await box.add(3, "mail")
        await worker.run_once()
        [batch] = await box.batches()
        expected = DigestSchedule.parse("hourly").next_after(datetime.now(UTC), KYIV)
        assert (batch.reason, batch.next_attempt_at) == ("digest", expected)
        assert server.handler.messages == []

        # The top of the hour comes; an alert arriving now belongs to the next digest.
        async with box.sessions.begin() as session:
            past = datetime.now(UTC) - timedelta(seconds=1)
            await session.execute(update(AlertBatch).values(next_attempt_at=past))
        [late] = await box.add(1, "mail", start=3)
        await worker.run_once()
        [message] = await server.wait_for(1)
    rows = {row.id: row for row in await box.alerts()}
    assert [rows[i].status for i in early] == ["delivered"] * 3
    assert rows[late].status == "pending" and rows[late].batch_id not in (None, batch.id)
    assert message["Message-ID"] == f"<{batch.uid}@newsroom.example.org>"
    assert message["Subject"] == "[newswatch] 3 alerts"
    text = message.get_body(("plain",)).get_content()
    assert [f"district {n} after" in text for n in range(4)] == [True, True, True, False]


def test_email_port_and_credentials_come_from_the_environment_as_strings() -> None:
    settings = EmailSettings.model_validate(
        {"type": "email", "to": ["a@example.org"], "host": "mailcatcher", "port": "1025"}
    )
    assert (settings.host, settings.smtp_port, settings.security) == (
        "mailcatcher",
        1025,
        "starttls",
    )
    implicit = EmailSettings.model_validate({"type": "email", "to": ["a@x.org"], "security": "tls"})
    assert implicit.smtp_port == 465


@pytest.mark.parametrize(
    ("spec", "now", "expected"),
    [
        ("hourly", datetime(2026, 3, 2, 10, 15, tzinfo=KYIV), datetime(2026, 3, 2, 11, 0)),
        ("hourly", datetime(2026, 3, 2, 23, 0, tzinfo=KYIV), datetime(2026, 3, 3, 0, 0)),
        ("daily@08:00", datetime(2026, 3, 2, 7, 59, tzinfo=KYIV), datetime(2026, 3, 2, 8, 0)),
        ("daily@08:00", datetime(2026, 3, 2, 8, 0, tzinfo=KYIV), datetime(2026, 3, 3, 8, 0)),
        # Clocks go forward at 03:00 on 29 March 2026 in Kyiv: 08:00 is still 08:00 local.
        ("daily@08:00", datetime(2026, 3, 28, 9, 0, tzinfo=KYIV), datetime(2026, 3, 29, 8, 0)),
        ("every 15m", datetime(2026, 3, 2, 10, 16, tzinfo=KYIV), datetime(2026, 3, 2, 10, 30)),
    ],
)
def test_digest_send_times_are_local(spec: str, now: datetime, expected: datetime) -> None:
    sent = DigestSchedule.parse(spec).next_after(now.astimezone(UTC), KYIV)
    assert sent.astimezone(KYIV).replace(tzinfo=None) == expected


def test_daily_digest_across_daylight_saving_is_23_hours_apart() -> None:
    daily = DigestSchedule.parse("daily@08:00")
    first = daily.next_after(datetime(2026, 3, 28, 9, 0, tzinfo=KYIV), KYIV)
    previous = datetime(2026, 3, 28, 8, 0, tzinfo=KYIV)
    assert first.astimezone(UTC) - previous.astimezone(UTC) == timedelta(hours=23)


@pytest.mark.parametrize("spec", ["weekly", "daily@25:00", "every 7m", "daily@8"])
def test_bad_digest_specs_are_refused(spec: str) -> None:
    with pytest.raises(ValueError, match=spec.split("@")[0]):
        DigestSchedule.parse(spec)


def test_quiet_hours_across_midnight() -> None:
    quiet = QuietHours.parse("22:00-07:00")
    assert quiet.contains(datetime(2026, 3, 2, 23, 30, tzinfo=KYIV), KYIV)
    assert quiet.contains(datetime(2026, 3, 3, 6, 59, tzinfo=KYIV), KYIV)
    assert not quiet.contains(datetime(2026, 3, 3, 7, 0, tzinfo=KYIV), KYIV)
    end = quiet.end_after(datetime(2026, 3, 2, 23, 30, tzinfo=KYIV), KYIV)
    assert end == datetime(2026, 3, 3, 7, 0, tzinfo=KYIV)
