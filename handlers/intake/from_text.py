"""Starting the form from a button: "📝 Make a report" in the menu, and "📝 Make a report from
this message" under free text the bot did not understand (handlers/fallback.py offers it).

The offered text waits in the chat's FSM data (a button carries 64 bytes) until it is tapped;
then it waits under ``PENDING_BODY`` until the form begins, after the personal-data notice for a
newcomer, and becomes the description draft. Nothing the citizen wrote is lost on the way.
"""

from __future__ import annotations

from contextlib import suppress

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.services import categories
from bot.ui import intake_render as r
from bot.ui.citizen_callbacks import CitizenMenuCb, MenuAction
from bot.ui.intake_callbacks import ReportFromTextCb
from handlers.intake.flow import PENDING_BODY, begin_form, current, send_prompt
from handlers.start import ask_consent
from storage.models import Citizen

OFFERED_TEXTS = "texts_offered"
# Offers answered out of order still work for the latest few messages.
OFFERS_KEPT = 3


async def keep_offered_text(state: FSMContext, message_id: int, text: str) -> None:
    offered = dict((await state.get_data()).get(OFFERED_TEXTS) or {})
    offered[str(message_id)] = text
    await state.update_data({OFFERED_TEXTS: dict(list(offered.items())[-OFFERS_KEPT:])})


async def open_form(
    bot: Bot, chat_id: int, state: FSMContext, settings: Settings, locale: str, citizen: Citizen | None,
    session: AsyncSession,
) -> None:
    """What /lapor does: the form in progress again, the personal-data notice first for a
    newcomer (agreeing starts the form), or a fresh form."""
    found = await current(state)
    if found is not None:
        await send_prompt(bot, chat_id, found[0], found[1], settings, locale, note=r.already_in_form())
        return
    if citizen is not None and citizen.consent_at is None:
        await bot.send_message(chat_id, r.consent_needed())
        await ask_consent(bot, chat_id, settings.privacy, for_report=True)
        return
    await begin_form(bot, chat_id, state, settings, locale, categories=await categories.choices(session, locale))


async def new_report_button(
    callback: CallbackQuery, state: FSMContext, bot: Bot, settings: Settings, locale: str, citizen: Citizen | None,
    session: AsyncSession,
) -> None:
    await callback.answer()
    await open_form(bot, callback.from_user.id, state, settings, locale, citizen, session)


async def report_from_text(
    callback: CallbackQuery, callback_data: ReportFromTextCb, state: FSMContext, bot: Bot, settings: Settings,
    locale: str, citizen: Citizen | None, session: AsyncSession,
) -> None:
    if await current(state) is None:  # in a form already: open_form shows it again
        text = ((await state.get_data()).get(OFFERED_TEXTS) or {}).get(str(callback_data.message_id))
        if not isinstance(text, str):  # forged, or the data went (a form, a cancel) since
            await callback.answer(r.text_no_longer_kept(), show_alert=True)
            return
        await state.update_data({PENDING_BODY: text})
    await callback.answer()
    if isinstance(callback.message, Message):
        with suppress(TelegramBadRequest):  # already gone: a second tap
            await callback.message.edit_reply_markup(reply_markup=None)
    await open_form(bot, callback.from_user.id, state, settings, locale, citizen, session)


def router() -> Router:
    r = Router(name=__name__)
    r.callback_query.register(new_report_button, CitizenMenuCb.filter(F.action == MenuAction.NEW_REPORT))
    r.callback_query.register(report_from_text, ReportFromTextCb.filter())
    return r
