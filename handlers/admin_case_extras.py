"""The admin card's extras: setting or correcting a report's category, and recording its
SP4N-LAPOR! tracking number (the card's button, or ``/lapor_id LPR-… <number>``).

Thin: the services check the admin role again; these handlers refuse non-admins on buttons
that only open a menu, so a forged press gets an answer rather than silence.
"""

from __future__ import annotations

from contextlib import suppress

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.domain.tracking import normalize_tracking_id
from bot.domain.workdays import WorkCalendar
from bot.filters import IsAdmin
from bot.services import categories, lapor
from bot.services.casework import CaseRefused, notifier
from bot.services.delivery import DeliveryWorker
from bot.services.lapor import LaporConnector, LaporIdTaken
from bot.services.roles import Roles
from bot.ui import case_extras as ui
from bot.ui.case_extras import CategoryAction, CategoryCb, LaporCb
from bot.ui.case_render import refusal_text
from bot.ui.render import split_html
from storage.base import utcnow
from storage.models import Citizen

router = Router(name=__name__)
router.message.filter(F.chat.type == "private")


class LaporNumberForm(StatesGroup):
    number = State()  # the number LAPOR! gave, for data["report_id"]


async def _refuse(callback: CallbackQuery, refusal: str) -> None:
    await callback.answer(refusal_text(refusal), show_alert=True)


# -- category -----------------------------------------------------------------------------------
@router.callback_query(CategoryCb.filter(F.action == CategoryAction.TOP))
async def category_topics(callback: CallbackQuery, callback_data: CategoryCb, session: AsyncSession,
                          roles: Roles, locale: str, bot: Bot) -> None:
    try:
        tracking_id, current = await categories.report_category(session, roles, callback_data.report_id, locale)
    except CaseRefused as exc:
        await _refuse(callback, exc.refusal)
        return
    topics = await categories.choices(session, locale)
    await callback.answer()
    await bot.send_message(
        callback.from_user.id, ui.choose_category_text(tracking_id, current),
        reply_markup=ui.topics_kb(callback_data.report_id, [(c.id, c.label, c.has_children) for c in topics]),
    )


@router.callback_query(CategoryCb.filter(F.action == CategoryAction.OPEN))
async def category_subtopics(callback: CallbackQuery, callback_data: CategoryCb, session: AsyncSession,
                             roles: Roles, locale: str) -> None:
    if not roles.is_admin:
        await _refuse(callback, "forbidden")
        return
    topic = await categories.parent_with_children(session, callback_data.category_id)
    children = await categories.choices(session, locale, topic.id) if topic is not None else []
    if topic is None or not children:
        await _refuse(callback, "invalid")
        return
    await callback.answer()
    label = categories.label(topic, locale) or ""
    markup = ui.subtopics_kb(callback_data.report_id, (topic.id, label), [(c.id, c.label) for c in children])
    if isinstance(callback.message, Message):
        with suppress(TelegramBadRequest):  # "message is not modified" on a second tap
            await callback.message.edit_reply_markup(reply_markup=markup)


@router.callback_query(CategoryCb.filter(F.action == CategoryAction.SET))
async def category_set(callback: CallbackQuery, callback_data: CategoryCb, session: AsyncSession,
                       roles: Roles, citizen: Citizen, locale: str, bot: Bot) -> None:
    try:
        tracking_id, category = await categories.set_report_category(
            session, roles, citizen.id, callback_data.report_id, callback_data.category_id or None, utcnow())
    except CaseRefused as exc:
        await _refuse(callback, exc.refusal)
        return
    await callback.answer()
    if isinstance(callback.message, Message):
        with suppress(TelegramBadRequest):  # a double tap: the buttons are gone already
            await callback.message.edit_reply_markup(reply_markup=None)
    # Opening the card again offers the category's default agency for the assignment.
    await bot.send_message(callback.from_user.id, ui.category_set_text(tracking_id, categories.label(category, locale)),
                           reply_markup=ui.open_card_kb(callback_data.report_id, tracking_id))


# -- SP4N-LAPOR! number -------------------------------------------------------------------------
@router.callback_query(LaporCb.filter())
async def lapor_button(callback: CallbackQuery, callback_data: LaporCb, session: AsyncSession, roles: Roles,
                       citizen: Citizen, settings: Settings, i18n: I18n, calendar: WorkCalendar,
                       state: FSMContext, bot: Bot, delivery: DeliveryWorker,
                       lapor_connector: LaporConnector) -> None:
    try:
        form = await lapor.lapor_form(session, roles, callback_data.report_id)
    except CaseRefused as exc:
        await _refuse(callback, exc.refusal)
        return
    submitted = await lapor_connector.submit(form)
    if submitted.lapor_id is not None:  # an automatic connector entered it already
        await _record(callback.from_user.id, bot, session, roles, citizen, settings, i18n, calendar, delivery,
                      callback_data.report_id, submitted.lapor_id)
        await callback.answer()
        return
    await callback.answer()
    await state.set_state(LaporNumberForm.number)
    await state.set_data({"report_id": callback_data.report_id})
    for text in split_html(ui.lapor_form_parts(form)):
        await bot.send_message(callback.from_user.id, text)
    await bot.send_message(callback.from_user.id, ui.lapor_ask_number_text(form.lapor_id or None))


async def _record(chat_id: int, bot: Bot, session: AsyncSession, roles: Roles, citizen: Citizen,
                  settings: Settings, i18n: I18n, calendar: WorkCalendar, delivery: DeliveryWorker,
                  report_id: int, number: str) -> bool:
    """Record and answer; False when the number was refused (the caller keeps asking)."""
    try:
        report = await lapor.record_lapor_id(
            session, notifier(settings, i18n, calendar), roles, citizen.id, report_id, number, utcnow(),
            report_url=settings.lapor.report_url)
    except ValueError:
        await bot.send_message(chat_id, ui.lapor_bad_number_text())
        return False
    except LaporIdTaken as exc:
        await bot.send_message(chat_id, ui.lapor_taken_text(exc.tracking_id))
        return False
    except CaseRefused as exc:
        await bot.send_message(chat_id, refusal_text(exc.refusal))
        return True
    delivery.wake()
    await bot.send_message(chat_id, ui.lapor_recorded_text(report.tracking_id, report.lapor_id or ""))
    return True


@router.message(LaporNumberForm.number, F.text, ~F.text.startswith("/"), IsAdmin())
async def lapor_number_typed(message: Message, session: AsyncSession, roles: Roles, citizen: Citizen,
                             settings: Settings, i18n: I18n, calendar: WorkCalendar, state: FSMContext,
                             bot: Bot, delivery: DeliveryWorker) -> None:
    report_id = int((await state.get_data()).get("report_id", 0))
    if await _record(message.chat.id, bot, session, roles, citizen, settings, i18n, calendar, delivery,
                     report_id, message.text or ""):
        await state.clear()


@router.message(Command("batal", "cancel"), StateFilter(LaporNumberForm))
async def cancel(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer(_("Cancelled."))


@router.message(StateFilter(LaporNumberForm), ~F.text.startswith("/"), IsAdmin())
async def lapor_number_wrong_kind(message: Message) -> None:
    # A sticker, a photo: the step and its report stay.
    await message.answer(ui.lapor_bad_number_text())


@router.message(Command("lapor_id"), IsAdmin())
async def lapor_id_command(message: Message, command: CommandObject, session: AsyncSession, roles: Roles,
                           citizen: Citizen, settings: Settings, i18n: I18n, calendar: WorkCalendar,
                           bot: Bot, delivery: DeliveryWorker) -> None:
    args = (command.args or "").split()
    tracking_id = normalize_tracking_id(args[0]) if len(args) >= 2 else None
    if tracking_id is None:
        await message.answer(ui.lapor_id_usage_text())
        return
    report_id = await lapor.report_id_of(session, roles, tracking_id)
    if report_id is None:
        await message.answer(ui.lapor_unknown_report_text())
        return
    await _record(message.chat.id, bot, session, roles, citizen, settings, i18n, calendar, delivery,
                  report_id, " ".join(args[1:]))
