"""/lapor, the form's ✖️ button, and /bantuan in the middle of the form (/batal: handlers/cancel.py)."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.domain.access import Actor
from bot.ui import intake_callbacks as cb
from bot.ui import intake_render as r
from bot.ui.intake_callbacks import IntakeCb
from handlers.cancel import cancel_dialog
from handlers.help import help_for
from handlers.intake.flow import CurrentFormButton, current, send_prompt
from handlers.intake.from_text import open_form
from handlers.intake.states import ReportForm
from storage.models import Citizen


async def cancel_button(callback: CallbackQuery, state: FSMContext, bot: Bot) -> None:
    # The form's own ✖️ button (its callback names the form, so an old form's is refused as
    # stale by the guard); the cancelling itself is everyone's (handlers/cancel.py).
    await callback.answer()
    await cancel_dialog(state, bot, callback.from_user.id)


async def help_in_form(
    message: Message, state: FSMContext, bot: Bot, settings: Settings, locale: str, actor: Actor
) -> None:
    # The same help as anywhere else, then the question the citizen was answering, in one message.
    text = help_for(actor, await state.get_state())
    found = await current(state)
    if found is None:
        await message.answer(text)
        return
    await send_prompt(bot, message.chat.id, found[0], found[1], settings, locale, note=text)


async def lapor_again(
    message: Message, state: FSMContext, bot: Bot, settings: Settings, locale: str, session: AsyncSession
) -> None:
    found = await current(state)
    if found is None:  # state without data (storage lost it): start afresh
        await state.clear()
        await start_form(message, state, bot, settings, locale, None, session)
        return
    await send_prompt(bot, message.chat.id, found[0], found[1], settings, locale, note=r.already_in_form())


async def start_form(
    message: Message, state: FSMContext, bot: Bot, settings: Settings, locale: str, citizen: Citizen | None,
    session: AsyncSession,
) -> None:
    # A newcomer gets the notice first; agreeing to it starts the form: no second /lapor needed.
    await open_form(bot, message.chat.id, state, settings, locale, citizen, session)


def router() -> Router:
    r = Router(name=__name__)
    r.callback_query.register(cancel_button, CurrentFormButton(), IntakeCb.filter(F.action == cb.CANCEL))
    r.message.register(help_in_form, Command("bantuan", "help"), StateFilter(ReportForm))
    r.message.register(lapor_again, Command("lapor"), StateFilter(ReportForm))
    r.message.register(start_form, Command("lapor"))
    return r
