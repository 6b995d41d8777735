"""/privasi: a citizen sees what is stored about them, takes a copy, withdraws consent or erases
their identity (UU 27/2022). Destructive steps ask for confirmation; the buttons act on the
presser only. The rules live in bot/services/data_rights.py."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.domain.access import Actor, Refused
from bot.filters import PRIVATE_CHAT
from bot.services import data_rights
from bot.ui.citizen_callbacks import CitizenMenuCb, MenuAction
from bot.ui.privacy import (
    PrivacyAction,
    PrivacyCb,
    erased_text,
    privacy_keyboard,
    privacy_text,
    screen,
    staff_refusal,
    withdrawn_text,
)
from storage.base import utcnow
from storage.models import Citizen


def export_filename(telegram_id: int) -> str:
    # A file name, for machines: ISO date, not a date formatted for reading.
    return f"data-lapor-{telegram_id}-{utcnow().date().isoformat()}.json"


async def show(message: Message, session: AsyncSession, citizen: Citizen, settings: Settings,
               locale: str) -> None:
    summary = await data_rights.summary(session, citizen)
    await message.answer(privacy_text(citizen, summary, settings.privacy.controller, locale),
                         reply_markup=privacy_keyboard())


async def show_button(callback: CallbackQuery, session: AsyncSession, citizen: Citizen, settings: Settings,
                      locale: str, bot: Bot) -> None:
    await callback.answer()
    summary = await data_rights.summary(session, citizen)
    await bot.send_message(callback.from_user.id, privacy_text(citizen, summary, settings.privacy.controller,
                                                               locale), reply_markup=privacy_keyboard())


async def pressed(callback: CallbackQuery, callback_data: PrivacyCb, session: AsyncSession, citizen: Citizen,
                  actor: Actor, settings: Settings, locale: str, bot: Bot, state: FSMContext) -> None:
    message = callback.message if isinstance(callback.message, Message) else None
    action = callback_data.action
    if action is PrivacyAction.EXPORT:
        content = await data_rights.export(session, citizen, actor=actor, now=utcnow())
        await callback.answer()
        await bot.send_document(callback.from_user.id, BufferedInputFile(content, export_filename(citizen.telegram_id)),
                                caption=_("📄 Everything the bot stores about you."))
        return
    if action in (PrivacyAction.WITHDRAW, PrivacyAction.ERASE, PrivacyAction.CANCEL):
        await callback.answer()
        if message is None:
            return
        summary = await data_rights.summary(session, citizen)
        text, markup = screen(action, citizen, summary, settings.privacy.controller, locale, privacy_keyboard)
        await message.edit_text(text, reply_markup=markup)
        return
    step = data_rights.withdraw_consent if action is PrivacyAction.WITHDRAW_YES else data_rights.erase_identity
    try:
        outcome = await step(session, citizen, actor=actor, now=utcnow(), admin_ids=settings.roles.admin_ids)
    except Refused:
        await callback.answer(staff_refusal(), show_alert=True)
        return
    # Another process may hold the form in Redis: clear it through the storage too.
    await state.clear()
    await callback.answer()
    done = (withdrawn_text if action is PrivacyAction.WITHDRAW_YES else erased_text)(outcome.reports_anonymised)
    # The confirmation is the one message UU PDP allows after withdrawal: sent here, directly,
    # since everything queued for this chat was just cancelled.
    if message is not None:
        await message.edit_text(done, reply_markup=None)
    else:
        await bot.send_message(callback.from_user.id, done)


def router() -> Router:
    r = Router(name=__name__)
    r.message.filter(PRIVATE_CHAT)
    r.message.register(show, Command("privasi", "privacy"))
    r.callback_query.register(show_button, CitizenMenuCb.filter(F.action == MenuAction.PRIVACY))
    r.callback_query.register(pressed, PrivacyCb.filter())
    return r
