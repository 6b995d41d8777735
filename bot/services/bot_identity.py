"""The bot's username, remembered when it starts, for invite links printed off-line."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.base import utcnow
from storage.repositories.bot_identity import BotIdentityRepo


async def remember_username(
    session_factory: async_sessionmaker[AsyncSession], bot_id: int, username: str | None
) -> None:
    if not username:
        return
    async with session_factory() as session:
        await BotIdentityRepo(session).remember(bot_id, username, utcnow())
        await session.commit()


async def known_username(session: AsyncSession, bot_id: int | None) -> str | None:
    """The username the bot with this id last saw in getMe. Without a token (``bot_id`` None)
    the most recently started bot's: with a token, another bot's name would make a wrong link."""
    repo = BotIdentityRepo(session)
    return await (repo.username(bot_id) if bot_id is not None else repo.latest_username())
