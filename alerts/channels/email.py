"""The ``email`` channel: SMTP through aiosmtplib, STARTTLS or implicit TLS, auth from env.

An answer with any accepted recipient counts as delivered (the refused ones are named in the
receipt); an SMTP error or a dropped connection is a failed attempt, retried on the schedule.
"""

from __future__ import annotations

from typing import Literal

import aiosmtplib
from pydantic import ConfigDict, Field, field_validator

from alerts.channels.base import DeliveryError, Outbound
from alerts.channels.mailbody import DEFAULT_SUBJECT, build_message
from alerts.channels.template import compile_template
from alerts.flow import FlowSettings
from alerts.units import Duration

DEFAULT_PORTS = {"starttls": 587, "tls": 465, "none": 25}


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


class EmailChannel:
    def __init__(self, name: str, settings: EmailSettings) -> None:
        self.name = name
        self.settings = settings

    async def send(self, alert: Outbound) -> str:
        cfg = self.settings
        try:
            message = build_message(alert.uid, alert.payload, cfg.sender, cfg.to, cfg.subject)
        except ValueError as exc:
            raise DeliveryError(f"cannot build the message: {exc}") from exc
        try:
            refused, answer = await aiosmtplib.send(
                message,
                hostname=cfg.host,
                port=cfg.smtp_port,
                username=cfg.username or None,
                password=cfg.password or None,
                use_tls=cfg.security == "tls",
                start_tls=cfg.security == "starttls",
                timeout=cfg.timeout,
            )
        except aiosmtplib.SMTPResponseException as exc:
            raise DeliveryError(f"SMTP {exc.code} {exc.message}") from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise DeliveryError(f"SMTP {cfg.host}:{cfg.smtp_port}: {exc!r}") from exc
        # aiosmtplib raises on any other reply, so a returned DATA answer was a 250.
        receipt = f"SMTP 250 {answer.strip()}"
        if refused:
            names = ", ".join(
                f"{rcpt} ({reply.code} {reply.message})" for rcpt, reply in refused.items()
            )
            receipt += f"; refused: {names}"
        return receipt

    async def close(self) -> None:
        return None
