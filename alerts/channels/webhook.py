"""The ``webhook`` channel: POST the alert as JSON, signed per the Standard Webhooks scheme.

``webhook-id`` is the alert's uid, identical on every retry, so a receiver that saw a delivery
whose answer was lost can recognise the repeat.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from email.utils import parsedate_to_datetime
from typing import Literal

import aiohttp
from pydantic import BaseModel, ConfigDict, Field, field_validator

from alerts.channels.base import DeliveryError, Outbound
from alerts.units import Duration

USER_AGENT = "newswatch/0.1 (+https://github.com/newswatch/newswatch)"
RETRYABLE = {429, 502, 503, 504}


class WebhookSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["webhook"]
    url: str = Field(pattern=r"^https?://")
    secret: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    timeout: Duration = 15.0

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


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds, whether the receiver sent delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


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

    def headers_for(self, alert: Outbound, body: bytes) -> dict[str, str]:
        timestamp = int(time.time())
        headers = {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            "webhook-id": alert.uid,
            "webhook-timestamp": str(timestamp),
            **self.settings.headers,
        }
        if self._key is not None:
            headers["webhook-signature"] = sign(self._key, alert.uid, timestamp, body)
        return headers

    async def send(self, alert: Outbound) -> str:
        body = json.dumps(alert.payload, ensure_ascii=False).encode()
        try:
            async with self._client().post(
                self.settings.url,
                data=body,
                headers=self.headers_for(alert, body),
                allow_redirects=False,
            ) as response:
                text = (await response.content.read(2048)).decode("utf-8", "replace")
                return check_status(response.status, response.headers.get("Retry-After"), text)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise DeliveryError(f"POST {self.settings.url}: {exc!r}") from exc

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


def check_status(status: int, retry_after: str | None, body: str) -> str:
    """Turn a receiver's answer into a receipt or a DeliveryError the outbox understands."""
    answer = f"HTTP {status}: {body[:200]}".rstrip(": ")
    if 200 <= status < 300:
        return answer
    if status == 410:
        raise DeliveryError(f"receiver is gone ({answer})", disable_channel=True)
    if status in RETRYABLE:
        raise DeliveryError(answer, retry_after=retry_after_seconds(retry_after))
    raise DeliveryError(answer)
