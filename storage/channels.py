"""Channel state learned at run time: a receiver that answered 410 Gone disables its channel.

Alerts of a disabled channel stay pending (they are neither sent nor dropped) until someone
re-enables the channel with ``newswatch channels enable NAME``.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ChannelState, utcnow
from storage.sql import insert_ignore


async def disable(session: AsyncSession, name: str, reason: str) -> None:
    now = utcnow()
    await session.execute(insert_ignore(session, ChannelState).values(name=name, updated_at=now))
    await session.execute(
        update(ChannelState)
        .where(ChannelState.name == name)
        .values(disabled=True, disabled_reason=reason[:2000], disabled_at=now, updated_at=now)
    )


async def enable(session: AsyncSession, name: str) -> bool:
    """Re-enable a channel; False when it was not disabled."""
    result = await session.execute(
        update(ChannelState)
        .where(ChannelState.name == name, ChannelState.disabled.is_(True))
        .values(disabled=False, updated_at=utcnow())
        .returning(ChannelState.name)
    )
    return result.first() is not None


async def disabled(session: AsyncSession) -> dict[str, str]:
    """Disabled channel names with the reason each was disabled."""
    query = select(ChannelState.name, ChannelState.disabled_reason).where(
        ChannelState.disabled.is_(True)
    )
    return {name: reason or "" for name, reason in (await session.execute(query)).all()}


async def states(session: AsyncSession) -> list[ChannelState]:
    return list((await session.execute(select(ChannelState).order_by(ChannelState.name))).scalars())
