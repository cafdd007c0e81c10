"""Alerts about newswatch itself, to ``[daemon] ops_channels``.

A feed broken for longer than ``[polling] broken_after``, a channel a receiver disabled with
410 Gone, files quarantined in a drop folder, an outbox whose oldest alert waited longer than
``ops_outbox_age``: each is one trouble, told once when it starts and again at most every
``ops_repeat`` while it lasts. A trouble that clears and comes back is told again at once.

Ops messages are sent straight to the channel, not through the outbox: a stuck outbox is one
of the things they report. Each has the shape of an alert (headline, excerpt, source
"newswatch"), so every channel and format renders it, plus an ``ops`` object for receivers
that tell them apart. A failed send is tried again at the next check.
"""

from __future__ import annotations

import hashlib
import logging
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from alerts.channels import DeliveryError, Outbound
from alerts.payload import PAYLOAD_VERSION
from daemon.feeds.schedule import feed_state
from daemon.runtime import Runtime
from storage import channels as channel_state
from storage import ops, status
from storage.feeds import list_feeds
from storage.models import OpsAlert, utcnow

log = logging.getLogger("newswatch.ops")
FILES_LISTED = 10


@dataclass(frozen=True, slots=True)
class Trouble:
    key: str
    kind: str
    subject: str
    message: str


async def find_troubles(runtime: Runtime, now: datetime, disabled: dict[str, str]) -> list[Trouble]:
    """``disabled``: the disabled channels and why, which the caller needs too."""
    settings = runtime.settings
    found: list[Trouble] = []
    async with runtime.sessions() as session:
        feeds = await list_feeds(session)
        since = now - timedelta(seconds=settings.daemon.ops_repeat)
        quarantined = await ops.recent_quarantines(session, since)
        box = await status.outbox_state(session)
    for feed in feeds:
        if feed.enabled and feed_state(feed, now, settings.polling.broken_after) == "broken":
            assert feed.first_error_at is not None
            found.append(
                Trouble(
                    f"feed-broken:{feed.name}",
                    "feed-broken",
                    f"Feed broken: {feed.name}",
                    f"The feed {feed.name} ({feed.url}) has failed every poll since "
                    f"{feed.first_error_at:%Y-%m-%d %H:%M} UTC ({feed.error_count} errors). "
                    f"Last error: {feed.last_error or 'unknown'}. It is still retried.",
                )
            )
    for name, reason in sorted(disabled.items()):
        found.append(
            Trouble(
                f"channel-disabled:{name}",
                "channel-disabled",
                f"Channel disabled: {name}",
                f"The channel {name} was disabled: {reason}. Its alerts are held until "
                f"`newswatch channels enable {name}`.",
            )
        )
    by_drop: dict[str, list[tuple[str, str | None]]] = {}
    for drop, path, why in quarantined:
        by_drop.setdefault(drop, []).append((path, why))
    for drop, files in sorted(by_drop.items()):
        listed = "; ".join(f"{path}: {why or 'unreadable'}" for path, why in files[:FILES_LISTED])
        more = f" (and {len(files) - FILES_LISTED} more)" if len(files) > FILES_LISTED else ""
        found.append(
            Trouble(
                f"drop-quarantined:{drop}",
                "drop-quarantined",
                f"Files quarantined in drop {drop}",
                f"{len(files)} file(s) in the drop {drop} could not be read and were moved "
                f"to its quarantine folder: {listed}{more}.",
            )
        )
    age = box.oldest_age(now)
    if box.pending and age > settings.daemon.ops_outbox_age:
        found.append(
            Trouble(
                "outbox-stuck",
                "outbox-stuck",
                "Alerts are not going out",
                f"{box.pending} alert(s) are waiting to be delivered; the oldest has waited "
                f"{age / 60:.0f} minutes. `newswatch alerts --status pending` shows why.",
            )
        )
    return found


def ops_payload(trouble: Trouble, uid: str, first_seen: datetime, count: int) -> dict[str, Any]:
    return {
        "id": uid,
        "alert_id": 0,
        "version": PAYLOAD_VERSION,
        "type": "ops",
        "rule": "newswatch ops",
        "story_id": 0,
        "matched": [trouble.kind],
        "excerpt": trouble.message,
        "score": 0.0,
        "evidence": [],
        "article": {
            "title": trouble.subject,
            "url": None,
            "author": None,
            "authors": [],
            "published": first_seen.isoformat(),
            "source": "newswatch",
            "language": "en",
            "tags": [trouble.kind],
        },
        "ops": {
            "key": trouble.key,
            "kind": trouble.kind,
            "since": first_seen.isoformat(),
            "notice": count,
            "host": socket.gethostname(),
        },
    }


async def check(runtime: Runtime, now: datetime | None = None) -> int:
    """Record the troubles that hold, clear the rest, tell the due ones; returns sends."""
    settings = runtime.settings
    names = settings.daemon.ops_channels
    if not names:
        return 0
    now = now or utcnow()
    async with runtime.sessions() as session:
        disabled = await channel_state.disabled(session)
    troubles = await find_troubles(runtime, now, disabled)
    async with runtime.sessions.begin() as session:
        known = await ops.open_troubles(session)
        for trouble in troubles:
            await ops.note(session, trouble.key, trouble.kind, trouble.message, now)
        gone = set(known) - {t.key for t in troubles}
        await ops.clear(session, gone, now)
    for key in sorted(gone):
        log.info("ops trouble cleared key=%s", key)
    sent = 0
    for trouble in troubles:
        sent += await _tell(runtime, trouble, now, set(disabled))
    return sent


async def _tell(runtime: Runtime, trouble: Trouble, now: datetime, disabled: set[str]) -> int:
    settings = runtime.settings
    async with runtime.sessions.begin() as session:
        before = await session.get(OpsAlert, trouble.key)
        previous, first_seen = (before.last_sent, before.first_seen) if before else (None, now)
        count = await ops.claim_send(session, trouble.key, now, settings.daemon.ops_repeat)
    if count is None:
        return 0
    uid = "ops_" + hashlib.sha256(f"{trouble.key}|{first_seen}|{count}".encode()).hexdigest()[:32]
    delivered = 0
    for name in settings.daemon.ops_channels:
        channel = runtime.worker.channels.get(name)
        if channel is None or name in disabled:
            continue
        message = Outbound(
            0, uid, "newswatch ops", name, ops_payload(trouble, uid, first_seen, count), 1
        )
        try:
            receipt = await channel.send(message)
        except DeliveryError as exc:
            log.warning("ops alert failed key=%s channel=%s error=%s", trouble.key, name, exc)
            continue
        delivered += 1
        log.warning(
            "ops alert sent key=%s channel=%s notice=%d %s: %s",
            *(trouble.key, name, count, receipt[:200], trouble.message),
        )
    if not delivered:
        async with runtime.sessions.begin() as session:
            await ops.unclaim(session, trouble.key, previous)
    return delivered
