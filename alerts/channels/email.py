"""The ``email`` channel: SMTP through aiosmtplib, STARTTLS or implicit TLS, auth from env.

An answer with any accepted recipient counts as delivered, and recipients refused for good
(5xx) are named in the receipt. A recipient refused for now (4xx) while others took the
message makes the attempt fail: the retry goes to the recipients still owed the message
only, so those who have it do not get it twice. An SMTP error or a dropped connection is a
failed attempt, retried on the schedule.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import aiosmtplib
from aiosmtplib import SMTPResponse
from pydantic import ConfigDict, Field, field_validator

from alerts.channels.base import DeliveryError, Outbound
from alerts.channels.mailbody import DEFAULT_SUBJECT, build_message
from alerts.channels.template import compile_template
from alerts.flow import FlowSettings
from alerts.units import Duration

DEFAULT_PORTS = {"starttls": 587, "tls": 465, "none": 25}
# Alerts whose message some recipients have and others are still owed, remembered between
# attempts; past this many the oldest is forgotten, and its next attempt goes to everyone.
OWED_LIMIT = 10_000


class EmailSettings(FlowSettings):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    type: Literal["email"]
    to: tuple[str, ...] = Field(min_length=1)
    sender: str = Field(default="newswatch@localhost", alias="from")
    host: str = "localhost"
    port: int | None = Field(default=None, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str | None = None
    password: str | None = None
    subject: str = DEFAULT_SUBJECT
    timeout: Duration = 30.0

    @field_validator("subject")
    @classmethod
    def _subject_parses(cls, value: str) -> str:
        compile_template(value)
        return value

    @field_validator("to")
    @classmethod
    def _addresses(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for address in value:
            if "@" not in address:
                raise ValueError(f"{address!r} is not an email address")
        return value

    @property
    def smtp_port(self) -> int:
        return self.port or DEFAULT_PORTS[self.security]


@dataclass
class _Owed:
    """An alert's message that reached some recipients; ``remaining`` are still owed it."""

    remaining: tuple[str, ...]
    sent: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)  # for good: recipient -> reply


class EmailChannel:
    def __init__(self, name: str, settings: EmailSettings) -> None:
        self.name = name
        self.settings = settings
        self._owed: dict[str, _Owed] = {}

    async def send(self, alert: Outbound) -> str:
        cfg = self.settings
        try:
            message = build_message(alert.uid, alert.payload, cfg.sender, cfg.to, cfg.subject)
        except ValueError as exc:
            raise DeliveryError(f"cannot build the message: {exc}") from exc
        owed = self._owed.get(alert.uid)
        recipients = owed.remaining if owed is not None else cfg.to
        answer: str | None = None
        try:
            refused, answer = await aiosmtplib.send(
                message,
                recipients=list(recipients),
                hostname=cfg.host,
                port=cfg.smtp_port,
                username=cfg.username or None,
                password=cfg.password or None,
                use_tls=cfg.security == "tls",
                start_tls=cfg.security == "starttls",
                timeout=cfg.timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            refused = {r.recipient: SMTPResponse(r.code, r.message) for r in exc.recipients}
            if owed is None:  # nobody has it: everyone is owed it next time
                raise DeliveryError(_refusals(refused)) from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise DeliveryError(f"SMTP {exc.code} {exc.message}") from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise DeliveryError(f"SMTP {cfg.host}:{cfg.smtp_port}: {exc!r}") from exc
        # aiosmtplib raises on any other reply, so a returned DATA answer was a 250.
        owed = owed or _Owed(recipients)
        owed.sent += [rcpt for rcpt in recipients if rcpt not in refused]
        later = {rcpt: reply for rcpt, reply in refused.items() if 400 <= reply.code < 500}
        owed.refused.update(
            (rcpt, f"{reply.code} {reply.message}")
            for rcpt, reply in refused.items()
            if rcpt not in later
        )
        if later:
            owed.remaining = tuple(later)
            self._remember(alert.uid, owed)
            sent = ", ".join(owed.sent)
            raise DeliveryError(f"{_refusals(later)}; sent to {sent}{_refused(owed.refused)}")
        self._owed.pop(alert.uid, None)
        if answer is None:
            return f"SMTP sent to {', '.join(owed.sent)} before{_refused(owed.refused)}"
        return f"SMTP 250 {answer.strip()}{_refused(owed.refused)}"

    def _remember(self, uid: str, owed: _Owed) -> None:
        self._owed.pop(uid, None)
        self._owed[uid] = owed
        while len(self._owed) > OWED_LIMIT:
            del self._owed[next(iter(self._owed))]

    async def close(self) -> None:
        return None


def _refusals(replies: Mapping[str, SMTPResponse]) -> str:
    return "; ".join(
        f"SMTP {reply.code} {reply.message} for {rcpt}" for rcpt, reply in replies.items()
    )


def _refused(refused: Mapping[str, str]) -> str:
    if not refused:
        return ""
    return "; refused: " + ", ".join(f"{rcpt} ({reply})" for rcpt, reply in refused.items())
