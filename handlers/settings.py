"""/pengaturan: announcements on or off, news about one's reports at once or in a daily digest, and
the language. Buttons only; one message, edited in place after each press; every press answered
once. The rules live in bot/services/citizen_settings.py."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.domain.access import Actor, Refused
from bot.filters import PRIVATE_CHAT
from bot.services import citizen_settings
from bot.ui.citizen_callbacks import CitizenMenuCb, MenuAction
from bot.ui.settings import (
    MODE_OF,
    SettingsAction,
    SettingsCb,
    SettingsLanguageCb,
    changed_toast,
    needs_consent_alert,
    settings_keyboard,
    settings_text,
)
from handlers.start import apply_language
from storage.base import utcnow
from storage.models import Citizen


def _screen(citizen: Citizen, settings: Settings, locale: str) -> tuple[str, InlineKeyboardMarkup]:
    current = citizen_settings.of(citizen, settings.notifications.citizen_mode)
    return (settings_text(current, locale, settings.notifications.digest_times),
            settings_keyboard(current, locale))


async def show(message: Message, citizen: Citizen, settings: Settings, locale: str) -> None:
    text, markup = _screen(citizen, settings, locale)
    await message.answer(text, reply_markup=markup)


async def show_button(callback: CallbackQuery, citizen: Citizen, settings: Settings, locale: str,
                      bot: Bot) -> None:
    await callback.answer()
    text, markup = _screen(citizen, settings, locale)
    await bot.send_message(callback.from_user.id, text, reply_markup=markup)


async def _redraw(callback: CallbackQuery, bot: Bot, citizen: Citizen, settings: Settings, locale: str) -> None:
    """The pressed message shows the settings as they are now. An edit that would change
    nothing (a double tap) is not sent (bot/unchanged_edits.py)."""
    text, markup = _screen(citizen, settings, locale)
    if isinstance(callback.message, Message):
        await callback.message.edit_text(text, reply_markup=markup)
    else:  # too old to edit (Telegram no longer shows it to the bot): a fresh one
        await bot.send_message(callback.from_user.id, text, reply_markup=markup)


async def pressed(callback: CallbackQuery, callback_data: SettingsCb, session: AsyncSession, citizen: Citizen,
                  actor: Actor, settings: Settings, locale: str, bot: Bot) -> None:
    action = callback_data.action
    try:
        if action in MODE_OF:
            changed = await citizen_settings.set_update_mode(session, actor, citizen, MODE_OF[action])
        else:
            changed = await citizen_settings.set_announcements(
                session, actor, citizen, action is SettingsAction.ANNOUNCEMENTS_ON, now=utcnow())
    except Refused:
        # A button from before consent was withdrawn: the screen shows the language only now.
        await callback.answer(needs_consent_alert(), show_alert=True)
        await _redraw(callback, bot, citizen, settings, locale)
        return
    await callback.answer(changed_toast(changed))
    await _redraw(callback, bot, citizen, settings, locale)


async def language_pressed(callback: CallbackQuery, callback_data: SettingsLanguageCb, session: AsyncSession,
                           citizen: Citizen, actor: Actor, settings: Settings, bot: Bot, i18n: I18n,
                           locale: str) -> None:
    code = callback_data.code
    if code == locale:
        await callback.answer(changed_toast(False))
        await _redraw(callback, bot, citizen, settings, locale)
        return
    if not await apply_language(session, citizen, code, bot=bot, i18n=i18n, actor=actor):
        await callback.answer(_("This button is no longer active."), show_alert=True)
        return
    # The middleware picked this update's locale before the change; the screen reads in the new one.
    with i18n.use_locale(code):
        await callback.answer(_("Language: English"))
        await _redraw(callback, bot, citizen, settings, code)


def router() -> Router:
    r = Router(name=__name__)
    r.message.filter(PRIVATE_CHAT)
    r.message.register(show, Command("pengaturan", "settings"))
    r.callback_query.register(show_button, CitizenMenuCb.filter(F.action == MenuAction.SETTINGS))
    r.callback_query.register(pressed, SettingsCb.filter())
    r.callback_query.register(language_pressed, SettingsLanguageCb.filter())
    return r
