"""/lapor, /batal, and /bantuan in the middle of the form."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message, ReplyKeyboardRemove
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.domain.access import Actor
from bot.ui import intake_callbacks as cb
from bot.ui import intake_render as r
from bot.ui.intake_callbacks import IntakeCb
from handlers.help import help_for
from handlers.intake.flow import CurrentFormButton, current, send_prompt
from handlers.intake.from_text import open_form
from handlers.intake.states import ReportForm
from storage.models import Citizen


async def cancel_form(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer(r.cancelled(), reply_markup=ReplyKeyboardRemove())


async def nothing_to_cancel(message: Message) -> None:
    await message.answer(r.nothing_to_cancel(), reply_markup=ReplyKeyboardRemove())


async def cancel_button(callback: CallbackQuery, state: FSMContext, bot: Bot) -> None:
    await state.clear()
    await callback.answer()
    await bot.send_message(callback.from_user.id, r.cancelled(), reply_markup=ReplyKeyboardRemove())


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
    r.message.register(cancel_form, Command("batal", "cancel"), StateFilter(ReportForm))
    r.message.register(nothing_to_cancel, Command("batal", "cancel"), StateFilter(None))
    r.callback_query.register(cancel_button, CurrentFormButton(), IntakeCb.filter(F.action == cb.CANCEL))
    r.message.register(help_in_form, Command("bantuan", "help"), StateFilter(ReportForm))
    r.message.register(lapor_again, Command("lapor"), StateFilter(ReportForm))
    r.message.register(start_form, Command("lapor"))
    return r
