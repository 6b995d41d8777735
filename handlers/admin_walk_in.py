"""/lapor_untuk: an admin files a complaint for a citizen who came to the counter, phoned, wrote or
sent an SMS. The channel, then name and phone (both optional), then the citizen's form itself
(``handlers.intake``, with ``Form.on_behalf``); the summary's "Kirim" files it through
``bot.services.walk_in`` and shows the one-time claim code and link."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.domain.enums import WALK_IN_CHANNELS
from bot.filters import PRIVATE_CHAT, not_command
from bot.services import categories, walk_in
from bot.ui import walk_in_render as r
from bot.ui.walk_in_render import WalkInCb
from handlers.intake.flow import begin_form


class WalkInForm(StatesGroup):
    channel = State()
    name = State()  # data: channel
    phone = State()  # data: channel, name


async def start(message: Message, state: FSMContext) -> None:
    await state.clear()
    await state.set_state(WalkInForm.channel)
    await message.answer(r.ask_channel(), reply_markup=r.channels_kb())


async def channel_chosen(callback: CallbackQuery, callback_data: WalkInCb, state: FSMContext, bot: Bot) -> None:
    if callback_data.value not in set(WALK_IN_CHANNELS):
        await callback.answer(_("That choice is not valid."), show_alert=True)
        return
    await callback.answer()
    await state.set_state(WalkInForm.name)
    await state.set_data({"channel": callback_data.value})
    await bot.send_message(callback.from_user.id, r.ask_name(), reply_markup=r.skip_kb("nm"))


async def _ask_phone(bot: Bot, chat_id: int, state: FSMContext, name: str | None) -> None:
    await state.set_state(WalkInForm.phone)
    await state.update_data(name=name)
    await bot.send_message(chat_id, r.ask_phone(), reply_markup=r.skip_kb("ph"))


async def name_typed(message: Message, state: FSMContext, bot: Bot) -> None:
    await _ask_phone(bot, message.chat.id, state, walk_in.clean_name(message.text or ""))


async def name_skipped(callback: CallbackQuery, state: FSMContext, bot: Bot) -> None:
    await callback.answer()
    await _ask_phone(bot, callback.from_user.id, state, None)


async def _begin(bot: Bot, chat_id: int, state: FSMContext, settings: Settings, locale: str, session: AsyncSession,
                 phone: str | None) -> None:
    data = await state.get_data()
    on_behalf = {"channel": data.get("channel"), "name": data.get("name"), "phone": phone}
    await state.clear()
    await begin_form(bot, chat_id, state, settings, locale, r.form_note(str(on_behalf["channel"])),
                     categories=await categories.choices(session, locale), on_behalf=on_behalf)


async def phone_typed(message: Message, state: FSMContext, bot: Bot, settings: Settings, locale: str,
                      session: AsyncSession) -> None:
    phone = walk_in.clean_phone(message.text or "")
    if phone is None:
        await message.answer(r.bad_phone(), reply_markup=r.skip_kb("ph"))
        return
    await _begin(bot, message.chat.id, state, settings, locale, session, phone)


async def phone_skipped(callback: CallbackQuery, state: FSMContext, bot: Bot, settings: Settings, locale: str,
                        session: AsyncSession) -> None:
    await callback.answer()
    await _begin(bot, callback.from_user.id, state, settings, locale, session, None)


def router() -> Router:
    r_ = Router(name=__name__)
    r_.message.filter(PRIVATE_CHAT)
    r_.message.register(start, Command("lapor_untuk"))
    r_.callback_query.register(channel_chosen, WalkInCb.filter(F.step == "ch"), WalkInForm.channel)
    r_.message.register(name_typed, WalkInForm.name, F.text, not_command)
    r_.callback_query.register(name_skipped, WalkInCb.filter(F.step == "nm"), WalkInForm.name)
    r_.message.register(phone_typed, WalkInForm.phone, F.text, not_command)
    r_.callback_query.register(phone_skipped, WalkInCb.filter(F.step == "ph"), WalkInForm.phone)
    return r_
