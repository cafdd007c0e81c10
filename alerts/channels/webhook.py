"""The ``webhook`` channel: POST the alert, signed per the Standard Webhooks scheme.

``webhook-id`` is the alert's (or batch's) uid, identical on every retry, so a receiver that
saw a delivery whose answer was lost can recognise the repeat. The body is the JSON payload, a
preset for Slack, Discord or ntfy (``format``), or a Jinja2 ``template``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from datetime import UTC, datetime
from typing import Any, Literal

import aiohttp
from pydantic import Field, field_validator, model_validator

from alerts.channels.base import DeliveryError, Outbound
from alerts.channels.formats import RENDERERS, Rendered
from alerts.channels.template import compile_template, render
from alerts.flow import FlowSettings
from alerts.http import parse_retry_after
from alerts.units import Duration

USER_AGENT = "newswatch/0.1 (+https://github.com/newswatch/newswatch)"
RETRYABLE = {429, 502, 503, 504}


class WebhookSettings(FlowSettings):
    type: Literal["webhook"]
    url: str = Field(pattern=r"^https?://")
    secret: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    timeout: Duration = 15.0
    format: Literal["json", "slack", "discord", "ntfy"] = "json"
    template: str | None = None
    content_type: str = "application/json"

    @field_validator("template")
    @classmethod
    def _template_parses(cls, value: str | None) -> str | None:
        if value is not None:
            compile_template(value)
        return value

    @model_validator(mode="after")
    def _one_body(self) -> WebhookSettings:
        if self.template is not None and self.format != "json":
            raise ValueError("set either 'format' or 'template', not both")
        return self

    def render(self, payload: dict[str, Any]) -> Rendered:
        """The request body for this receiver; a template that fails raises DeliveryError."""
        if self.template is None:
            return RENDERERS[self.format](payload)
        try:
            return Rendered(render(self.template, payload).encode(), self.content_type)
        except ValueError as exc:
            raise DeliveryError(str(exc)) from exc

    @field_validator("secret")
    @classmethod
    def _secret_decodes(cls, value: str | None) -> str | None:
        if value is not None:
            signing_key(value)
        return value


def signing_key(secret: str) -> bytes:
    """The HMAC key of a ``whsec_…`` secret (base64 after the prefix, as the scheme defines)."""
    encoded = secret.removeprefix("whsec_")
    try:
        return base64.b64decode(encoded, validate=True)
    except binascii.Error as exc:
        raise ValueError("secret must be 'whsec_' followed by base64") from exc


def sign(key: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


class WebhookChannel:
    def __init__(self, name: str, settings: WebhookSettings) -> None:
        self.name = name
        self.settings = settings
        self._key = signing_key(settings.secret) if settings.secret else None
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            timeout = aiohttp.ClientTimeout(total=self.settings.timeout)
            self._session = aiohttp.ClientSession(timeout=timeout)
        return self._session

    def headers_for(self, alert: Outbound, rendered: Rendered) -> dict[str, str]:
        timestamp = int(time.time())
        headers = {
            "content-type": rendered.content_type,
            "user-agent": USER_AGENT,
            "webhook-id": alert.uid,
            "webhook-timestamp": str(timestamp),
            **rendered.headers,
            **self.settings.headers,
        }
        if self._key is not None:
            headers["webhook-signature"] = sign(self._key, alert.uid, timestamp, rendered.body)
        return headers

    async def send(self, alert: Outbound) -> str:
        rendered = self.settings.render(alert.payload)
        try:
            async with self._client().post(
                self.settings.url,
                data=rendered.body,
                headers=self.headers_for(alert, rendered),
                allow_redirects=False,
            ) as response:
                text = (await response.content.read(2048)).decode("utf-8", "replace")
                return check_status(response.status, response.headers.get("Retry-After"), text)
        except TimeoutError as exc:  # its repr is a bare "TimeoutError()"
            message = f"POST {self.settings.url}: no answer within {self.settings.timeout:g}s"
            raise DeliveryError(message) from exc
        except aiohttp.ClientError as exc:
            raise DeliveryError(f"POST {self.settings.url}: {exc!r}") from exc

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


def check_status(status: int, retry_after: str | None, body: str) -> str:
    """Turn a receiver's answer into a receipt or a DeliveryError the outbox understands."""
    answer = f"HTTP {status}: {body}".rstrip(": ")
    if 200 <= status < 300:
        return answer
    if status == 410:
        raise DeliveryError(f"receiver is gone ({answer})", disable_channel=True)
    if status in RETRYABLE:
        raise DeliveryError(answer, retry_after=parse_retry_after(retry_after, datetime.now(UTC)))
    raise DeliveryError(answer)
