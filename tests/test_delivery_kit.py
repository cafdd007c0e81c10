"""Parts shared by the delivery tests: a migrated outbox, stored alerts, scripted receivers.

Alerts are made the way ingestion makes them (a stored article, a rule hit, a payload, an
outbox row), only without parsing a file, so a test can create hundreds in a second.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiohttp import web
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from alerts.payload import PAYLOAD_VERSION
from storage import outbox
from storage.articles import create_story
from storage.engine import create_engine, session_factory
from storage.migrate import upgrade
from storage.models import AlertBatch, AlertRow
from storage.types import Article
from tests.support import Received, Receiver, free_port

TOWNS = ["Vinnytsia", "Poltava", "Chernihiv", "Uzhhorod", "Kherson", "Sumy", "Rivne", "Lutsk"]
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def sample_article(n: int) -> Article:
    """An invented report; ``n`` makes the title, text and URL unique."""
    town = TOWNS[n % len(TOWNS)]
    return Article(
        title=f"Water utility in {town} restores supply to district {n} after pipe burst",
        authors=["Daryna Kovalenko"],
        published=datetime(2026, 3, 2, 9, 30, tzinfo=UTC) + timedelta(minutes=n),
        lead=f"Crews in {town} worked overnight on the main under district {n}.",
        body=[
            f"Engineers said the burst main under district {n} of {town} was replaced by dawn "
            "and that pressure would be back to normal by the evening.",
            "Residents were asked to boil tap water for another day as a precaution.",
        ],
        url=f"https://news.example.org/{town.lower()}/water-{n}",
        language="en",
        source="inbox",
        tags=["utilities", town],
    )


RULE = "Water supply"


def alert_payload(article: Article, story_id: int, n: int) -> dict[str, Any]:
    """A version 1 payload as alerts.payload.build_payload writes it for a rule hit."""
    return {
        "version": PAYLOAD_VERSION,
        "type": "alert",
        "rule": RULE,
        "story_id": story_id,
        "matched": ["water"],
        "excerpt": f"…asked to boil tap **water** for another day ({n})…",
        "article": {
            "title": article.title,
            "url": article.url,
            "author": article.authors[0],
            "authors": list(article.authors),
            "published": article.published.isoformat() if article.published else None,
            "source": article.source,
            "language": article.language,
            "tags": list(article.tags),
        },
    }


@dataclass
class Outbox:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]

    async def add(self, count: int, channel: str, start: int = 0) -> list[int]:
        """Make ``count`` stories with one alert each for ``channel``; return alert ids."""
        ids: list[int] = []
        async with self.sessions.begin() as session:
            for n in range(start, start + count):
                article = sample_article(n)
                story_id = await create_story(session, article.title)
                payload = alert_payload(article, story_id, n)
                new = outbox.NewAlert(RULE, story_id, None, channel, payload)
                ids += await outbox.enqueue(session, [new])
        return ids

    async def alerts(self) -> list[AlertRow]:
        async with self.sessions() as session:
            query = select(AlertRow).order_by(AlertRow.id)
            return list((await session.execute(query)).scalars())

    async def batches(self) -> list[AlertBatch]:
        async with self.sessions() as session:
            query = select(AlertBatch).order_by(AlertBatch.id)
            return list((await session.execute(query)).scalars())


async def open_outbox(url: str) -> AsyncIterator[Outbox]:
    engine = create_engine(url)
    try:
        await upgrade(engine)
        yield Outbox(engine, session_factory(engine))
    finally:
        await engine.dispose()


@dataclass(frozen=True)
class Answer:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: str = "ok"


class ScriptedReceiver(Receiver):
    """A Receiver whose answers (status, headers, body) are scripted in order, then 200."""

    def __init__(self, answers: Sequence[Answer] = (), delay: float = 0.0) -> None:
        super().__init__(delay=delay)
        self.answers = list(answers)
        self.times: list[float] = []

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        if self.delay:
            await asyncio.sleep(self.delay)
        self.requests.append(Received(request.path, dict(request.headers), body))
        self.times.append(time.monotonic())
        self._changed.set()
        answer = self.answers.pop(0) if self.answers else Answer()
        return web.Response(status=answer.status, headers=answer.headers, text=answer.body)


class MailHandler:
    """Collects messages; ``replies`` (e.g. "451 4.3.0 try later") answer DATA first."""

    def __init__(self, replies: Sequence[str] = ()) -> None:
        self.replies = list(replies)
        self.messages: list[EmailMessage] = []
        self.envelopes: list[Envelope] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.replies:
            return self.replies.pop(0)
        self.envelopes.append(envelope)
        raw = envelope.original_content or envelope.content
        assert isinstance(raw, bytes)
        message = message_from_bytes(raw, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 2.0.0 queued as nw-test"


class MailServer:
    """A real aiosmtpd SMTP server on 127.0.0.1 (plain SMTP, no TLS)."""

    def __init__(self, replies: Sequence[str] = ()) -> None:
        self.handler = MailHandler(replies)
        self.port = free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> MailServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.controller.stop()

    async def wait_for(self, count: int, within: float = 20.0) -> list[EmailMessage]:
        deadline = time.monotonic() + within
        while len(self.handler.messages) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count} messages, got {len(self.handler.messages)}")
            await asyncio.sleep(0.02)
        return self.handler.messages
