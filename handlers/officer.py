"""The liaison officer's side: notification buttons, /kotak, asking, answering, returning, and
/templat for response templates.

Callback handlers are not filtered on the role: the services check the officer's agencies and the
report's status on every press, so a forged or stale button gets a refusal, never an action.
"""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.domain.enums import ReportStatus
from bot.domain.lifecycle import can_transition
from bot.domain.text_rules import REASON_MAX, TextRuleError
from bot.domain.workdays import WorkCalendar
from bot.filters import IsOfficer
from bot.services import casework
from bot.services.casework import CaseRefused, Refusal, notifier
from bot.services.delivery import DeliveryWorker
from bot.services.privacy import reporter_for_officer
from bot.services.roles import Roles
from bot.ui import case_keyboards as kb
from bot.ui.case_callbacks import OfficerAction, OfficerCb, TemplateCb
from bot.ui.case_render import (
    case_card_parts,
    case_timeline_parts,
    inbox_button_label,
    inbox_header,
    refusal_text,
    text_rule_error,
    wrong_kind_text,
)
from bot.ui.render import esc, split_html
from bot.ui.form_step import run_button_step, run_text_step
from storage.base import utcnow
from storage.models import Citizen

router = Router(name=__name__)
router.message.filter(F.chat.type == "private")

# What each text-taking button leads to, and the status it needs.
_TARGET = {
    OfficerAction.ASK: ReportStatus.AWAITING_REPORTER,
    OfficerAction.ANSWER: ReportStatus.ANSWERED,
    OfficerAction.RETURN: ReportStatus.RETURNED,
}


class OfficerForm(StatesGroup):
    text = State()  # data: action, report_id


def _not_command(message: Message) -> bool:
    return not (message.text or "").startswith("/")


@router.message(Command("kotak"), IsOfficer())
async def inbox(message: Message, session: AsyncSession, roles: Roles, calendar: WorkCalendar,
                bot: Bot) -> None:
    await _send_inbox(bot, message.chat.id, session, roles, calendar, 0)


async def _send_inbox(bot: Bot, chat_id: int, session: AsyncSession, roles: Roles,
                      calendar: WorkCalendar, page: int) -> None:
    result = await casework.agency_inbox(session, roles, page)
    today = calendar.today()
    text = inbox_header(result.total, result.page, result.pages)
    if not result.reports:
        text += "\n\n" + _("No open reports. Well done!")
    items = [(r.id, inbox_button_label(r, today)) for r in result.reports]
    await bot.send_message(chat_id, text, reply_markup=kb.inbox_kb(items, result.page, result.pages))


@router.callback_query(OfficerCb.filter(F.a == OfficerAction.LIST))
async def inbox_page(callback: CallbackQuery, callback_data: OfficerCb, session: AsyncSession,
                     roles: Roles, calendar: WorkCalendar, bot: Bot) -> None:
    try:
        await _send_inbox(bot, callback.from_user.id, session, roles, calendar, callback_data.p)
    except CaseRefused as exc:
        await callback.answer(refusal_text(exc.refusal), show_alert=True)
        return
    await callback.answer()


@router.callback_query(OfficerCb.filter(F.a == OfficerAction.OPEN))
async def open_case(callback: CallbackQuery, callback_data: OfficerCb, session: AsyncSession,
                    roles: Roles, calendar: WorkCalendar, locale: str, bot: Bot) -> None:
    try:
        view = await casework.officer_case(session, roles, callback_data.r)
    except CaseRefused as exc:
        await callback.answer(refusal_text(exc.refusal), show_alert=True)
        return
    await callback.answer()
    r = view.report
    # Only attachments of the report itself and of the reporter's answers exist; both are
    # shown as a count here (the files came with the notifications).
    parts = case_card_parts(
        r, reporter_html=reporter_for_officer(r, view.reporter),
        agency_name=view.agency_names.get(r.agency_id) if r.agency_id else None,
        attachment_count=len(view.attachments), due=r.followup_due, today=calendar.today(),
        tz=calendar.tz, locale=locale,
    ) + case_timeline_parts(view.events, view.agency_names, calendar.tz, locale)
    messages = split_html(parts)
    markup = kb.officer_actions_kb(r.id, r.status)
    for i, text in enumerate(messages):
        last = i == len(messages) - 1
        await bot.send_message(callback.from_user.id, text,
                               reply_markup=markup if last and markup.inline_keyboard else None)


@router.callback_query(OfficerCb.filter(F.a == OfficerAction.TAKE))
async def take(callback: CallbackQuery, callback_data: OfficerCb, session: AsyncSession, roles: Roles,
               citizen: Citizen, settings: Settings, i18n: I18n, calendar: WorkCalendar,
               delivery: DeliveryWorker, bot: Bot) -> None:
    report = await run_button_step(callback, delivery, casework.take_report(
        session, notifier(settings, i18n, calendar), roles, citizen.id, callback_data.r, utcnow()
    ))
    if report is None:
        return
    await callback.answer(_("You took it up."))
    await bot.send_message(
        callback.from_user.id,
        _("🛠 <code>{tracking_id}</code> is now in progress. The reporter was told. Answer by "
          "tapping a button below.").format(tracking_id=esc(report.tracking_id)),
        reply_markup=kb.officer_actions_kb(report.id, report.status),
    )


@router.callback_query(OfficerCb.filter(F.a.in_(set(_TARGET))))
async def ask_for_text(callback: CallbackQuery, callback_data: OfficerCb, session: AsyncSession,
                       roles: Roles, state: FSMContext, bot: Bot) -> None:
    try:
        view = await casework.officer_case(session, roles, callback_data.r)
        if not can_transition(view.report.status, _TARGET[callback_data.a]) or (
            callback_data.a == OfficerAction.ASK and view.report.status == ReportStatus.AWAITING_REPORTER
        ):
            raise CaseRefused(Refusal.NOT_NOW)
    except CaseRefused as exc:
        await callback.answer(refusal_text(exc.refusal), show_alert=True)
        return
    await callback.answer()
    await state.set_state(OfficerForm.text)
    await state.set_data({"action": callback_data.a.value, "report_id": callback_data.r})
    prompts = {
        OfficerAction.ASK: _("Write your question for the reporter of <code>{tracking_id}</code>."),
        OfficerAction.ANSWER: _("Write the agency's answer to <code>{tracking_id}</code>."),
        OfficerAction.RETURN: _("Why is <code>{tracking_id}</code> not your agency's authority? "
                                "The admin reads this to forward it."),
    }
    text = prompts[callback_data.a].format(tracking_id=esc(view.report.tracking_id))
    templates = await casework.templates_for(session, roles)
    if templates:
        text += "\n" + _("Or pick a template below.")
    text += "\n" + _("/batal cancels.")
    await bot.send_message(callback.from_user.id, text,
                           reply_markup=kb.templates_kb([(t.id, t.title) for t in templates]))


async def _act(session: AsyncSession, settings: Settings, i18n: I18n, calendar: WorkCalendar,
               roles: Roles, citizen: Citizen, data: dict, text: str) -> str:
    n = notifier(settings, i18n, calendar)
    action = OfficerAction(data.get("action"))
    report_id = int(data.get("report_id", 0))
    now = utcnow()
    if action == OfficerAction.ASK:
        await casework.request_info(session, n, roles, citizen.id, report_id, text, now)
        return _("❓ Your question was sent to the reporter. Their answer will come here.")
    if action == OfficerAction.ANSWER:
        await casework.answer_report(session, n, roles, citizen.id, report_id, text, now)
        return _("✅ Your answer was sent to the reporter, who may reply within 10 working days.")
    await casework.return_report(session, n, roles, citizen.id, report_id, text, now)
    return _("↩️ The report went back to the admin to be forwarded to the right agency.")


@router.message(OfficerForm.text, F.text, _not_command)
async def text_given(message: Message, session: AsyncSession, roles: Roles, citizen: Citizen,
                     settings: Settings, i18n: I18n, calendar: WorkCalendar, state: FSMContext,
                     delivery: DeliveryWorker) -> None:
    data = await state.get_data()
    done = await run_text_step(
        message, state, delivery,
        _act(session, settings, i18n, calendar, roles, citizen, data, message.text or ""),
        invalid=(ValueError,),  # form data that does not parse (an unknown action)
    )
    if done is not None:
        await message.answer(done)


@router.callback_query(TemplateCb.filter(), OfficerForm.text)
async def template_picked(callback: CallbackQuery, callback_data: TemplateCb, session: AsyncSession,
                          roles: Roles, citizen: Citizen, settings: Settings, i18n: I18n,
                          calendar: WorkCalendar, state: FSMContext, delivery: DeliveryWorker,
                          bot: Bot) -> None:
    data = await state.get_data()
    try:
        body = await casework.template_text(session, roles, callback_data.t)
        done = await _act(session, settings, i18n, calendar, roles, citizen, data, body)
    except (CaseRefused, ValueError) as exc:
        await callback.answer(refusal_text(exc.refusal if isinstance(exc, CaseRefused) else "invalid"),
                              show_alert=True)
        return
    await state.clear()
    delivery.wake()
    await callback.answer()
    await bot.send_message(callback.from_user.id, done)


@router.message(Command("batal", "cancel"), StateFilter(OfficerForm))
async def cancel(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer(_("Cancelled. Nothing was sent."))


@router.message(Command("templat"))
async def templates(message: Message, command: CommandObject, session: AsyncSession, roles: Roles,
                    citizen: Citizen) -> None:
    """``/templat`` lists; ``/templat Title | text`` adds (global for admins, else the agency's)."""
    if not (roles.is_admin or roles.is_officer):
        await message.answer(refusal_text("forbidden"))
        return
    args = (command.args or "").strip()
    if not args:
        found = await casework.templates_for(session, roles)
        lines = [_("<b>Response templates</b>")]
        lines += [f"• <b>{esc(t.title)}</b>: {esc(t.body[:200])}" for t in found] or [_("None yet.")]
        lines.append(_("Add one with <code>/templat Title | text</code>."))
        await message.answer("\n".join(lines))
        return
    title, sep, body = args.partition("|")
    if not sep:
        await message.answer(_("Write it as <code>/templat Title | text</code>."))
        return
    try:
        template = await casework.add_template(session, roles, citizen.id, title, body)
    except TextRuleError as exc:
        await message.answer(text_rule_error(exc.reason, exc.limit))
        return
    except CaseRefused as exc:
        await message.answer(refusal_text(exc.refusal))
        return
    await message.answer(_("Template <b>{title}</b> saved.").format(title=esc(template.title)))


# Registered last: anything the text step above cannot use (a sticker, a voice note, a photo, a
# location...) is answered with what the step expects; the step and its data stay. Commands
# pass through to the routers below.
@router.message(OfficerForm.text, _not_command)
async def wrong_kind(message: Message, session: AsyncSession, roles: Roles, state: FSMContext) -> None:
    action = (await state.get_data()).get("action")
    expects = {
        OfficerAction.ASK.value: "question",
        OfficerAction.ANSWER.value: "answer",
        OfficerAction.RETURN.value: "return",
    }.get(action, "answer")
    text = wrong_kind_text(expects, REASON_MAX)
    if await casework.templates_for(session, roles):
        text += "\n" + _("Or pick a template above.")
    await message.answer(text)
