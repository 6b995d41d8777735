"""The command menus (setMyCommands): everyone's, and one per staff chat for its roles.

Citizens get the default menu (Indonesian, and English for English apps). Officers and admins
get a chat-scoped menu (BotCommandScopeChat) in their own language: the citizen's commands plus
their role's. It is set at start-up for every configured admin and active officer, when an
invite is redeemed, and when an officer is revoked; a removed admin loses it at the next start.
What each chat was given is remembered (``bot/services/command_menus.py``), so the Bot API is
called only where a menu changed, not for every officer at every start.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import BotCommand, BotCommandScopeAllGroupChats, BotCommandScopeChat, BotCommandScopeDefault
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import lazy_gettext as __
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.retry import retry_transient
from bot.services import command_menus

log = logging.getLogger(__name__)

CITIZEN_COMMANDS = [
    ("lapor", __("File a new report")),
    ("laporan", __("My reports and their status")),
    ("status", __("Check a report by tracking ID")),
    ("bahasa", __("Change language")),
    ("pengaturan", __("Settings: announcements, report news, language")),
    ("bantuan", __("Help")),
    ("privasi", __("My data: see, withdraw consent, erase")),
    ("batal", __("Cancel what you are doing now")),
]
OFFICER_COMMANDS = [
    ("kotak", __("Open reports of my agency")),
    ("templat", __("Response templates of my agency")),
]
ADMIN_COMMANDS = [
    ("verifikasi", __("Reports waiting for verification")),
    ("undang", __("Invite a liaison officer")),
    ("petugas", __("Liaison officers: list and revoke")),
    ("instansi", __("Agency directory")),
    ("statistik", __("Statistics")),
    ("umumkan", __("Send an announcement")),
    ("umumkan_riwayat", __("Past announcements and their totals")),
    ("ekspor", __("Export reports")),
    ("lapor_id", __("Record a report's SP4N-LAPOR! number")),
    ("templat", __("Response templates for every agency")),
    ("audit", __("Recent admin actions")),
    ("grup", __("Agency group chats: linked groups, where reports go")),
    ("datawarga", __("A citizen's data request: copy, withdraw, erase")),
]
# In group chats (the menu every member sees there): linking the group to an agency.
GROUP_COMMANDS = [
    ("hubungkan", __("Link this group to my agency (liaison officers)")),
    ("putuskan", __("Unlink this group from the agency")),
]
DEFAULT_CHAT = 0  # where the default menu's fingerprint is kept (no Telegram chat has id 0)


def role_items(*, officer: bool, admin: bool) -> list[tuple[str, object]]:
    """(command, description) for someone with these roles; a command both roles have appears
    once, with the admin's wording (the wider one)."""
    items = dict(CITIZEN_COMMANDS)
    if officer:
        items.update(OFFICER_COMMANDS)
    if admin:
        items.update(ADMIN_COMMANDS)
    return list(items.items())


def _commands(i18n: I18n, items: Iterable[tuple[str, object]], locale: str) -> list[BotCommand]:
    with i18n.context(), i18n.use_locale(locale):
        return [BotCommand(command=name, description=str(desc)) for name, desc in items]


def fingerprint(*menus: list[BotCommand]) -> str:
    data = [[(c.command, c.description) for c in menu] for menu in menus]
    return hashlib.sha256(json.dumps(data, ensure_ascii=False).encode()).hexdigest()


async def set_default_commands(bot: Bot, i18n: I18n, session: AsyncSession) -> None:
    menus = {locale: _commands(i18n, CITIZEN_COMMANDS, locale) for locale in ("id", "en")}
    # Every member of a group sees the group menu: linking the group to an agency.
    group_menus = {locale: _commands(i18n, GROUP_COMMANDS, locale) for locale in ("id", "en")}
    wanted = fingerprint(*menus.values(), *group_menus.values())
    if await command_menus.given_menu(session, bot.id, DEFAULT_CHAT) == wanted:
        return
    await retry_transient(lambda: bot.set_my_commands(menus["id"], scope=BotCommandScopeDefault()))
    await retry_transient(lambda: bot.set_my_commands(menus["en"], scope=BotCommandScopeDefault(),
                                                      language_code="en"))
    await retry_transient(lambda: bot.set_my_commands(group_menus["id"], scope=BotCommandScopeAllGroupChats()))
    await retry_transient(lambda: bot.set_my_commands(group_menus["en"], scope=BotCommandScopeAllGroupChats(),
                                                      language_code="en"))
    await command_menus.menu_given(session, bot.id, DEFAULT_CHAT, wanted)


async def set_role_commands(
    bot: Bot, i18n: I18n, session: AsyncSession, chat_id: int, locale: str, *, officer: bool, admin: bool,
    known: str | None = None, check: bool = True,
) -> None:
    """Give one chat the menu of its roles, or take the role menu away when it has none.

    Skipped when the chat already has exactly this menu (``known``, or looked up when ``check``).
    Taking a menu away always calls Telegram: the chat may have had one before it was recorded.
    """
    scope = BotCommandScopeChat(chat_id=chat_id)
    if not (officer or admin):
        await retry_transient(lambda: bot.delete_my_commands(scope=scope))
        await command_menus.menu_given(session, bot.id, chat_id, None)
        return
    commands = _commands(i18n, role_items(officer=officer, admin=admin), locale)
    wanted = fingerprint(commands)
    if check and known is None:
        known = await command_menus.given_menu(session, bot.id, chat_id)
    if known == wanted:
        return
    await retry_transient(lambda: bot.set_my_commands(commands, scope=scope))
    await command_menus.menu_given(session, bot.id, chat_id, wanted)


async def update_role_commands(
    bot: Bot, i18n: I18n, session: AsyncSession, chat_id: int, locale: str, *, officer: bool, admin: bool,
) -> None:
    """After a role change in a handler: the change is already committed, so a Telegram failure
    is logged, never turned into an error for the person who made the change."""
    try:
        await set_role_commands(bot, i18n, session, chat_id, locale, officer=officer, admin=admin)
    except TelegramAPIError:
        log.warning("could not update the command menu of chat %s", chat_id, exc_info=True)


async def sync_menus(
    bot: Bot, i18n: I18n, session_factory: async_sessionmaker[AsyncSession], admin_ids: list[int],
) -> None:
    """At start-up: every staff chat gets its role menu, a chat no longer staff (an admin taken
    out of ``[roles] admin_ids``) loses it. A Bot API failure is logged and retried at the next
    start; it never stops the bot from starting."""
    async with session_factory() as session:
        try:
            await set_default_commands(bot, i18n, session)
        except TelegramAPIError:
            log.warning("could not set the default command menu", exc_info=True)
        staff = await command_menus.staff_chats(session, admin_ids)
        given = await command_menus.given_menus(session, bot.id)
        for chat in staff.values():
            try:
                await set_role_commands(
                    bot, i18n, session, chat.chat_id, chat.language or i18n.default_locale,
                    officer=chat.officer, admin=chat.admin, known=given.get(chat.chat_id), check=False,
                )
            except TelegramAPIError:
                log.warning("could not set the command menu of chat %s", chat.chat_id, exc_info=True)
        for chat_id in given.keys() - staff.keys() - {DEFAULT_CHAT}:
            try:
                await set_role_commands(bot, i18n, session, chat_id, i18n.default_locale,
                                        officer=False, admin=False)
            except TelegramAPIError:
                log.warning("could not remove the command menu of chat %s", chat_id, exc_info=True)
