"""The admin card's extras: setting or correcting a report's category, and recording its
SP4N-LAPOR! tracking number (the card's button, or ``/lapor_id LPR-… <number>``).

Thin: the admin audience's parent router lets only admins in, and the services ask the access
rules again (``Action.CATEGORIZE``, ``Action.RECORD_LAPOR_ID``), since callback data can be forged.
"""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.domain.access import Actor, Refused
from bot.domain.tracking import normalize_tracking_id
from bot.filters import PRIVATE_CHAT, not_command
from bot.services import categories, lapor
from bot.services.casework import verification
from bot.services.casework.core import Casework
from bot.services.delivery import DeliveryWorker
from bot.services.lapor import LaporConnector, LaporIdTaken
from bot.ui import case_extras as ui
from bot.ui.case_extras import CategoryAction, CategoryCb, LaporCb
from bot.ui.case_render import refusal_text
from bot.ui.dialogs import cancel_keyboard
from bot.ui.form_step import refuse_button
from bot.ui.render import split_html
from storage.base import utcnow


class LaporNumberForm(StatesGroup):
    number = State()  # the number LAPOR! gave, for data["report_id"]


async def _refuse(callback: CallbackQuery, exc: Refused) -> None:
    await refuse_button(callback, exc)


# -- category -----------------------------------------------------------------------------------
async def category_topics(callback: CallbackQuery, callback_data: CategoryCb, session: AsyncSession, actor: Actor,
                          locale: str, bot: Bot) -> None:
    try:
        tracking_id, current = await categories.report_category(session, actor, callback_data.report_id, locale)
    except Refused as exc:
        await _refuse(callback, exc)
        return
    topics = await categories.choices(session, locale)
    await callback.answer()
    await bot.send_message(
        callback.from_user.id, ui.choose_category_text(tracking_id, current),
        reply_markup=ui.topics_kb(callback_data.report_id, [(c.id, c.label, c.has_children) for c in topics]),
    )


async def category_subtopics(callback: CallbackQuery, callback_data: CategoryCb, session: AsyncSession, actor: Actor,
                             locale: str) -> None:
    try:
        topic = await categories.report_topic(session, actor, callback_data.report_id, callback_data.category_id,
                                              locale)
    except Refused as exc:
        await _refuse(callback, exc)
        return
    await callback.answer()
    children = [(c.id, c.label) for c in topic.children]
    markup = ui.subtopics_kb(callback_data.report_id, (topic.id, topic.label), children)
    if isinstance(callback.message, Message):
        await callback.message.edit_reply_markup(reply_markup=markup)


async def category_set(callback: CallbackQuery, callback_data: CategoryCb, session: AsyncSession, actor: Actor,
                       locale: str, bot: Bot) -> None:
    try:
        tracking_id, category = await categories.set_report_category(
            session, actor, callback_data.report_id, callback_data.category_id or None, utcnow())
    except Refused as exc:
        await _refuse(callback, exc)
        return
    await callback.answer()
    if isinstance(callback.message, Message):
        await callback.message.edit_reply_markup(reply_markup=None)
    # Opening the card again offers the category's default agency for the assignment.
    await bot.send_message(callback.from_user.id, ui.category_set_text(tracking_id, categories.label(category, locale)),
                           reply_markup=ui.open_card_kb(callback_data.report_id, tracking_id))


# -- SP4N-LAPOR! number -------------------------------------------------------------------------
async def lapor_button(callback: CallbackQuery, callback_data: LaporCb, session: AsyncSession, actor: Actor,
                       casework: Casework, settings: Settings, state: FSMContext, bot: Bot,
                       delivery: DeliveryWorker, lapor_connector: LaporConnector) -> None:
    try:
        form = await lapor.lapor_form(session, actor, callback_data.report_id)
    except Refused as exc:
        await _refuse(callback, exc)
        return
    await callback.answer()
    submitted = await lapor_connector.submit(form)
    if submitted.lapor_id is not None:  # an automatic connector entered it already
        await _record(callback.from_user.id, bot, session, actor, casework, settings, delivery,
                      callback_data.report_id, submitted.lapor_id)
        return
    await state.set_state(LaporNumberForm.number)
    await state.set_data({"report_id": callback_data.report_id})
    for text in split_html(ui.lapor_form_parts(form)):
        await bot.send_message(callback.from_user.id, text)
    await bot.send_message(callback.from_user.id, ui.lapor_ask_number_text(form.lapor_id or None),
                           reply_markup=cancel_keyboard(LaporNumberForm.__name__))


async def _record(chat_id: int, bot: Bot, session: AsyncSession, actor: Actor, casework: Casework, settings: Settings,
                  delivery: DeliveryWorker, report_id: int, number: str) -> bool:
    """Record and answer; False when the number was refused (the caller keeps asking)."""
    try:
        report = await lapor.record_lapor_id(session, casework, actor, report_id, number, utcnow(),
                                             report_url=settings.lapor.report_url)
    except ValueError:
        await bot.send_message(chat_id, ui.lapor_bad_number_text())
        return False
    except LaporIdTaken as exc:
        await bot.send_message(chat_id, ui.lapor_taken_text(exc.tracking_id))
        return False
    except Refused as exc:
        await bot.send_message(chat_id, refusal_text(exc))
        return True
    delivery.wake()
    await bot.send_message(chat_id, ui.lapor_recorded_text(report.tracking_id, report.lapor_id or ""))
    return True


async def lapor_number_typed(message: Message, session: AsyncSession, actor: Actor, casework: Casework,
                             settings: Settings, state: FSMContext, bot: Bot, delivery: DeliveryWorker) -> None:
    report_id = int((await state.get_data()).get("report_id", 0))
    if await _record(message.chat.id, bot, session, actor, casework, settings, delivery, report_id,
                     message.text or ""):
        await state.clear()


async def lapor_number_wrong_kind(message: Message) -> None:
    # A sticker, a photo: the step and its report stay.
    await message.answer(ui.lapor_bad_number_text())


async def lapor_id_command(message: Message, command: CommandObject, session: AsyncSession, actor: Actor,
                           casework: Casework, settings: Settings, bot: Bot, delivery: DeliveryWorker) -> None:
    args = (command.args or "").split()
    tracking_id = normalize_tracking_id(args[0]) if len(args) >= 2 else None
    if tracking_id is None:
        await message.answer(ui.lapor_id_usage_text())
        return
    report = await verification.find_by_tracking_id(session, actor, tracking_id)
    if report is None:
        await message.answer(ui.lapor_unknown_report_text())
        return
    await _record(message.chat.id, bot, session, actor, casework, settings, delivery, report.id, " ".join(args[1:]))


def router() -> Router:
    r = Router(name=__name__)
    r.message.filter(PRIVATE_CHAT)
    r.callback_query.register(category_topics, CategoryCb.filter(F.action == CategoryAction.TOP))
    r.callback_query.register(category_subtopics, CategoryCb.filter(F.action == CategoryAction.OPEN))
    r.callback_query.register(category_set, CategoryCb.filter(F.action == CategoryAction.SET))
    r.callback_query.register(lapor_button, LaporCb.filter())
    r.message.register(lapor_id_command, Command("lapor_id"))
    r.message.register(lapor_number_typed, LaporNumberForm.number, F.text, not_command)
    # Registered last: what the text step cannot use (a sticker, a photo) is answered with what it
    # expects; the step and its report stay. Commands pass through.
    r.message.register(lapor_number_wrong_kind, StateFilter(LaporNumberForm), not_command)
    return r
