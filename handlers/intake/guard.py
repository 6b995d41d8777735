"""What every step shares: the back button, refusing stale buttons, and answering anything the
step cannot use with what it expects."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.config import Settings
from bot.services.intake import Step, previous_step
from bot.ui import intake_callbacks as cb
from bot.ui import intake_render as r
from bot.ui.intake_callbacks import IntakeCb
from handlers.intake.flow import CurrentFormButton, Form, current, go_to, send_prompt
from handlers.intake.states import ReportForm


async def back(
    callback: CallbackQuery, form: Form, step: Step, state: FSMContext, bot: Bot, settings: Settings, locale: str
) -> None:
    await callback.answer()
    target = Step.CONFIRM if form.editing else previous_step(step)
    await go_to(bot, callback.from_user.id, state, form, target or Step.CLASSIFICATION, settings, locale)


async def stale_button(callback: CallbackQuery) -> None:
    # Another form's button, an earlier step's, a forged payload, or a second tap on "Kirim".
    await callback.answer(r.stale_button(), show_alert=True)


async def malformed_button(callback: CallbackQuery) -> None:
    await callback.answer(r.stale_button(), show_alert=True)


# Commands pass through: /laporan, /status and friends belong to other routers.
async def unexpected(message: Message, state: FSMContext, bot: Bot, settings: Settings, locale: str) -> None:
    found = await current(state)
    if found is None:  # a state without its data: nothing to return to
        await state.clear()
        await message.answer(r.cancelled())
        return
    form, step = found
    await send_prompt(bot, message.chat.id, form, step, settings, locale, r.wrong_kind_refusal(step))


def router() -> Router:
    r = Router(name=__name__)
    r.callback_query.register(back, CurrentFormButton(), IntakeCb.filter(F.action == cb.BACK))
    r.callback_query.register(stale_button, IntakeCb.filter())
    r.callback_query.register(malformed_button, F.data.startswith(IntakeCb.__prefix__ + ":"))
    r.message.register(unexpected, StateFilter(ReportForm), ~F.text.startswith("/"))
    return r
