"""The bot's remembered username. Adds, flushes and queries; never commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models.bot_identity import BotIdentity


class BotIdentityRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def remember(self, bot_id: int, username: str, now: datetime) -> None:
        """Insert or update in one statement: processes starting together do not collide."""
        dialect = self.session.bind.dialect.name if self.session.bind else "sqlite"
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        stmt = insert(BotIdentity).values(bot_id=bot_id, username=username, seen_at=now)
        stmt = stmt.on_conflict_do_update(
            index_elements=[BotIdentity.bot_id],
            set_={"username": stmt.excluded.username, "seen_at": stmt.excluded.seen_at},
        )
        await self.session.execute(stmt)

    async def username(self, bot_id: int) -> str | None:
        return await self.session.scalar(
            select(BotIdentity.username).where(BotIdentity.bot_id == bot_id)
        )

    async def latest_username(self) -> str | None:
        return await self.session.scalar(
            select(BotIdentity.username).order_by(BotIdentity.seen_at.desc()).limit(1)
        )
