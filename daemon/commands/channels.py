"""``newswatch channels``: configured channels and their state; ``test`` and ``enable``.

``channels test NAME`` sends a sample alert through the real channel and prints the
receiver's answer as it came (HTTP status and body, or the SMTP reply). Anything but a
delivery exits 1, so a 404 from a mistyped URL is seen for the failure it is.
"""

from __future__ import annotations

import asyncio
import sys
import uuid

from sqlalchemy import func, select

from alerts.channels import DeliveryError, Outbound, build_channel
from alerts.payload import sample_payload
from daemon.commands.alerts import open_sessions
from daemon.settings import Settings
from storage import channels as channel_state
from storage.models import AlertRow


def _mode(cfg: object) -> str:
    parts = []
    for key in ("format", "digest", "quiet_hours", "rate_limit"):
        value = getattr(cfg, key, None)
        if value and value != "json":
            parts.append(f"{key}={value}")
    return " ".join(parts) or "per alert"


async def _status(settings: Settings) -> int:
    async with open_sessions(settings) as sessions, sessions() as session:
        disabled = await channel_state.disabled(session)
        query = select(AlertRow.channel, func.count()).where(AlertRow.status == "pending")
        pending = dict((await session.execute(query.group_by(AlertRow.channel))).all())
    for name, cfg in settings.channels.items():
        state = f"DISABLED ({disabled[name]})" if name in disabled else "enabled"
        print(
            f"{name:<20} {cfg.type:<8} {_mode(cfg):<28} {pending.get(name, 0):>5} pending  {state}"
        )
    return 0


def status(settings: Settings) -> int:
    return asyncio.run(_status(settings))


async def _test(settings: Settings, name: str) -> int:
    cfg = settings.channels[name]
    channel = build_channel(name, cfg, settings.base_dir)
    uid = f"msg_test_{uuid.uuid4().hex[:20]}"
    message = Outbound(0, uid, "newswatch channel test", name, sample_payload(uid), attempt=1)
    try:
        receipt = await channel.send(message)
    except DeliveryError as exc:
        print(f"{name}: FAILED: {exc}")
        return 1
    finally:
        await channel.close()
    print(f"{name}: delivered: {receipt}")
    return 0


def test(settings: Settings, name: str) -> int:
    if name not in settings.channels:
        known = ", ".join(settings.channels) or "none configured"
        print(f"error: no channel {name!r} (configured: {known})", file=sys.stderr)
        return 2
    return asyncio.run(_test(settings, name))


async def _enable(settings: Settings, name: str) -> int:
    async with open_sessions(settings) as sessions, sessions.begin() as session:
        changed = await channel_state.enable(session, name)
    print(
        f"{name}: enabled; its held alerts go out at the next delivery round"
        if changed
        else f"{name}: was not disabled"
    )
    return 0


def enable(settings: Settings, name: str) -> int:
    return asyncio.run(_enable(settings, name))
