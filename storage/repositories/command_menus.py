"""The command menus chats were given. Adds, flushes and queries; never commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models.command_menu import CommandMenu


class CommandMenuRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def fingerprints(self, bot_id: int) -> dict[int, str]:
        rows = await self.session.execute(
            select(CommandMenu.chat_id, CommandMenu.fingerprint).where(CommandMenu.bot_id == bot_id)
        )
        return {chat_id: fingerprint for chat_id, fingerprint in rows.all()}

    async def fingerprint(self, bot_id: int, chat_id: int) -> str | None:
        return await self.session.scalar(
            select(CommandMenu.fingerprint).where(CommandMenu.bot_id == bot_id, CommandMenu.chat_id == chat_id)
        )

    async def record(self, bot_id: int, chat_id: int, fingerprint: str, now: datetime) -> None:
        dialect = self.session.bind.dialect.name if self.session.bind else "sqlite"
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        stmt = insert(CommandMenu).values(bot_id=bot_id, chat_id=chat_id, fingerprint=fingerprint, set_at=now)
        stmt = stmt.on_conflict_do_update(
            index_elements=[CommandMenu.bot_id, CommandMenu.chat_id],
            set_={"fingerprint": stmt.excluded.fingerprint, "set_at": stmt.excluded.set_at},
        )
        await self.session.execute(stmt)

    async def forget(self, bot_id: int, chat_id: int) -> None:
        await self.session.execute(
            delete(CommandMenu).where(CommandMenu.bot_id == bot_id, CommandMenu.chat_id == chat_id)
        )
