"""After a crash: a form whose current question may never have reached the citizen shows it
again before it takes an answer.

``flow.go_to`` stores the step marked "question unsent" and clears the mark once the question is
sent. A mark still there when the next update of the chat arrives means the process died (or
Telegram failed) in between: the citizen saw the previous question, so what they send now
answers that one, not the step we are at. Taking it would file the title as the description.
Commands (/batal, /bantuan, /lapor) still work: they are not answers.
"""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Filter, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.config import Settings
from bot.ui.intake_callbacks import IntakeCb
from handlers.intake.flow import current, question_unsent, save, send_prompt
from handlers.intake.states import ReportForm


class QuestionUnsent(Filter):
    async def __call__(self, _event: Message | CallbackQuery, state: FSMContext) -> bool:
        return await question_unsent(state)


async def _show_again(chat_id: int, state: FSMContext, bot: Bot, settings: Settings, locale: str) -> None:
    found = await current(state)
    if found is None:  # a mark without a form: nothing to show; the guard answers from here on
        await state.set_data({})
        return
    form, step = found
    await send_prompt(bot, chat_id, form, step, settings, locale)
    await save(state, form)  # without the mark


async def message_before_question(message: Message, state: FSMContext, bot: Bot, settings: Settings,
                                  locale: str) -> None:
    await _show_again(message.chat.id, state, bot, settings, locale)


async def button_before_question(callback: CallbackQuery, state: FSMContext, bot: Bot, settings: Settings,
                                 locale: str) -> None:
    await callback.answer()
    await _show_again(callback.from_user.id, state, bot, settings, locale)


def router() -> Router:
    r = Router(name=__name__)
    r.message.register(message_before_question, StateFilter(ReportForm), ~F.text.startswith("/"), QuestionUnsent())
    r.callback_query.register(button_before_question, StateFilter(ReportForm), IntakeCb.filter(), QuestionUnsent())
    return r
