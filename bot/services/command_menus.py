"""Who should have which command menu, and what each chat was last given.

The Telegram side (building the menus, setMyCommands) is ``bot/commands.py``; this module
answers from the database: which chats are staff (the configured admins, every active
officer) and which menu fingerprint each chat already has, so a restart only calls the Bot
API where something changed.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from storage.base import utcnow
from storage.repositories.citizens import CitizenRepo
from storage.repositories.command_menus import CommandMenuRepo
from storage.repositories.officers import OfficerRepo


@dataclass(frozen=True)
class StaffChat:
    chat_id: int
    language: str | None
    officer: bool
    admin: bool


async def staff_chats(session: AsyncSession, admin_ids: list[int] | tuple[int, ...]) -> dict[int, StaffChat]:
    """Every chat that should have a role menu, by chat id: admins come from the configuration
    (the only place the role is kept), officers from their active bindings."""
    officers = {citizen.telegram_id: citizen.language
                for _, citizen, _ in await OfficerRepo(session).active_with_people()}
    chats = {
        chat_id: StaffChat(chat_id, language, officer=True, admin=chat_id in admin_ids)
        for chat_id, language in officers.items()
    }
    citizens = CitizenRepo(session)
    for admin_id in admin_ids:
        if admin_id not in chats:
            citizen = await citizens.by_telegram_id(admin_id)
            chats[admin_id] = StaffChat(admin_id, citizen.language if citizen else None,
                                        officer=False, admin=True)
    return chats


async def given_menus(session: AsyncSession, bot_id: int) -> dict[int, str]:
    return await CommandMenuRepo(session).fingerprints(bot_id)


async def given_menu(session: AsyncSession, bot_id: int, chat_id: int) -> str | None:
    return await CommandMenuRepo(session).fingerprint(bot_id, chat_id)


async def menu_given(session: AsyncSession, bot_id: int, chat_id: int, fingerprint: str | None) -> None:
    """Remember the menu a chat now has (``None``: the role menu was taken away)."""
    repo = CommandMenuRepo(session)
    if fingerprint is None:
        await repo.forget(bot_id, chat_id)
    else:
        await repo.record(bot_id, chat_id, fingerprint, utcnow())
    await session.commit()
