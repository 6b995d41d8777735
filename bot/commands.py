"""The command menus (setMyCommands), in Indonesian by default and in English for English apps.

Officers and admins get their own menus per chat (BotCommandScopeChat); see
``set_role_commands``, called when someone becomes or stops being one.
"""

from __future__ import annotations

from aiogram import Bot
from aiogram.types import BotCommand, BotCommandScopeChat, BotCommandScopeDefault
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import lazy_gettext as __

CITIZEN_COMMANDS = [
    ("lapor", __("File a new report")),
    ("laporan", __("My reports and their status")),
    ("status", __("Check a report by tracking ID")),
    ("bahasa", __("Change language")),
    ("bantuan", __("Help")),
    ("batal", __("Cancel the current form")),
]
OFFICER_COMMANDS = [
    ("kotak", __("Open reports of my agency")),
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
    ("audit", __("Recent admin actions")),
]


def _commands(i18n: I18n, items, locale: str) -> list[BotCommand]:
    with i18n.context(), i18n.use_locale(locale):
        return [BotCommand(command=name, description=str(desc)) for name, desc in items]


async def set_default_commands(bot: Bot, i18n: I18n) -> None:
    await bot.set_my_commands(_commands(i18n, CITIZEN_COMMANDS, "id"), scope=BotCommandScopeDefault())
    await bot.set_my_commands(
        _commands(i18n, CITIZEN_COMMANDS, "en"), scope=BotCommandScopeDefault(), language_code="en"
    )


async def set_role_commands(
    bot: Bot, i18n: I18n, chat_id: int, locale: str, *, officer: bool, admin: bool
) -> None:
    """A chat-scoped menu: citizen commands plus the role's own. Both roles: both menus."""
    items = list(CITIZEN_COMMANDS)
    if officer:
        items += OFFICER_COMMANDS
    if admin:
        items += ADMIN_COMMANDS
    if not (officer or admin):
        await bot.delete_my_commands(scope=BotCommandScopeChat(chat_id=chat_id))
        return
    await bot.set_my_commands(_commands(i18n, items, locale), scope=BotCommandScopeChat(chat_id=chat_id))
