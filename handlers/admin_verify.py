"""/verifikasi: the admin's queue, and per report assign / reject / postpone / re-route.

Thin: every action goes to ``bot.services.casework``, which checks the admin role again (the
callback handlers here deliberately do not filter on it, so a forged press is answered with a
refusal rather than silently ignored).
"""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.domain.paging import clamp_page
from bot.domain.text_rules import REASON_MAX
from bot.domain.tracking import normalize_tracking_id
from bot.domain.workdays import WorkCalendar
from bot.filters import IsAdmin
from bot.services import casework
from bot.services.casework import CaseRefused, notifier
from bot.services.delivery import DeliveryWorker
from bot.services.privacy import reporter_for_admin
from bot.services.roles import Roles
from bot.ui import case_keyboards as kb
from bot.ui.callback_types import parse_row_id
from bot.ui.case_callbacks import VerifyAction, VerifyCb
from bot.ui.case_render import (
    case_card_parts,
    case_timeline_parts,
    queue_button_label,
    queue_header,
    refusal_text,
    wrong_kind_text,
)
from bot.ui.form_step import run_button_step, run_text_step
from bot.ui.render import esc, split_html
from storage.base import utcnow
from storage.models import Citizen
from storage.repositories.agencies import AgencyRepo

router = Router(name=__name__)
router.message.filter(F.chat.type == "private")

KIND_PAGE = 8


class VerifyForm(StatesGroup):
    search = State()  # typing part of an agency name
    reject_note = State()  # optional free text after a reason template
    duplicate = State()  # the tracking ID this report duplicates


def _not_command(message: Message) -> bool:
    return not (message.text or "").startswith("/")


async def _refuse(callback: CallbackQuery, exc: CaseRefused) -> None:
    await callback.answer(refusal_text(exc.refusal), show_alert=True)


async def _refused_non_admin(callback: CallbackQuery, roles: Roles) -> bool:
    """Refuse a button that only shows a menu or prompt; the service checks the role again
    when the action itself comes."""
    if roles.is_admin:
        return False
    await callback.answer(refusal_text("forbidden"), show_alert=True)
    return True


async def _queue(
    session: AsyncSession, roles: Roles, calendar: WorkCalendar, page: int
) -> tuple[str, InlineKeyboardMarkup]:
    today = calendar.today()
    q = await casework.verification_queue(session, roles, page, today)
    text = queue_header(q.total, q.overdue, q.page, q.pages)
    if not q.reports:
        text += "\n\n" + _("Nothing is waiting for verification.")
    items = [(r.id, queue_button_label(r, today)) for r in q.reports]
    return text, kb.queue_kb(items, q.page, q.pages)


@router.message(Command("verifikasi"), IsAdmin())
async def show_queue(message: Message, session: AsyncSession, roles: Roles, calendar: WorkCalendar) -> None:
    text, markup = await _queue(session, roles, calendar, 0)
    await message.answer(text, reply_markup=markup)


@router.callback_query(VerifyCb.filter(F.a == VerifyAction.LIST))
async def queue_page(callback: CallbackQuery, callback_data: VerifyCb, session: AsyncSession,
                     roles: Roles, calendar: WorkCalendar, bot: Bot) -> None:
    try:
        text, markup = await _queue(session, roles, calendar, callback_data.p)
    except CaseRefused as exc:
        await _refuse(callback, exc)
        return
    await callback.answer()
    await bot.send_message(callback.from_user.id, text, reply_markup=markup)


async def _send_card(bot: Bot, chat_id: int, session: AsyncSession, roles: Roles,
                     calendar: WorkCalendar, locale: str, report_id: int) -> None:
    view = await casework.admin_case(session, roles, report_id)
    r = view.report
    extra = []
    if view.returned_reason:
        extra.append(
            _("↩️ <b>Returned by {agency}:</b> {reason}").format(
                agency=esc(view.returned_by or "?"), reason=esc(view.returned_reason)
            )
        )
    if r.requested_agency_id:
        extra.append(
            _("<b>Citizen's choice:</b> {agency}").format(
                agency=esc(view.agency_names.get(r.requested_agency_id, "?"))
            )
        )
    parts = case_card_parts(
        r, reporter_html=reporter_for_admin(view.reporter),
        agency_name=view.agency_names.get(r.agency_id) if r.agency_id else None,
        attachment_count=len(view.attachments), due=r.verify_due, today=calendar.today(),
        tz=calendar.tz, locale=locale, extra=extra,
    ) + case_timeline_parts(view.events, view.agency_names, calendar.tz, locale)
    messages = split_html(parts)
    from bot.domain.lifecycle import VERIFICATION_QUEUE

    markup = kb.verify_actions_kb(r.id, view.suggested) if r.status in VERIFICATION_QUEUE else None
    for i, text in enumerate(messages):
        await bot.send_message(chat_id, text, reply_markup=markup if i == len(messages) - 1 else None)


@router.callback_query(VerifyCb.filter(F.a == VerifyAction.OPEN))
async def open_case(callback: CallbackQuery, callback_data: VerifyCb, session: AsyncSession, roles: Roles,
                    calendar: WorkCalendar, locale: str, bot: Bot, state: FSMContext) -> None:
    try:
        await _send_card(bot, callback.from_user.id, session, roles, calendar, locale, callback_data.r)
    except CaseRefused as exc:
        await _refuse(callback, exc)
        return
    await state.clear()
    await callback.answer()


@router.callback_query(VerifyCb.filter(F.a == VerifyAction.PICK))
async def pick_kind(callback: CallbackQuery, callback_data: VerifyCb, roles: Roles, bot: Bot) -> None:
    if await _refused_non_admin(callback, roles):
        return
    await callback.answer()
    await bot.send_message(callback.from_user.id, _("Which kind of agency?"),
                           reply_markup=kb.pick_kinds_kb(callback_data.r))


@router.callback_query(VerifyCb.filter(F.a == VerifyAction.KIND))
async def pick_from_kind(callback: CallbackQuery, callback_data: VerifyCb, session: AsyncSession,
                         roles: Roles, bot: Bot) -> None:
    if await _refused_non_admin(callback, roles):
        return
    repo = AgencyRepo(session)
    total = await repo.count_by_kind(callback_data.v)
    page, pages = clamp_page(callback_data.p, total, KIND_PAGE)
    agencies = await repo.list_by_kind(callback_data.v, offset=page * KIND_PAGE, limit=KIND_PAGE)
    await callback.answer()
    text = kb.agency_kind_label(callback_data.v) if agencies else _("No agencies of this kind.")
    await bot.send_message(
        callback.from_user.id, text,
        reply_markup=kb.pick_agencies_kb(callback_data.r, [(a.id, a.name) for a in agencies],
                                         kind=callback_data.v, page=page, pages=pages),
    )


@router.callback_query(VerifyCb.filter(F.a == VerifyAction.SEARCH))
async def search_prompt(callback: CallbackQuery, callback_data: VerifyCb, roles: Roles,
                        state: FSMContext, bot: Bot) -> None:
    if await _refused_non_admin(callback, roles):
        return
    await state.set_state(VerifyForm.search)
    await state.set_data({"report_id": callback_data.r})
    await callback.answer()
    await bot.send_message(callback.from_user.id, _("Type part of the agency's name (or /batal)."))


@router.message(VerifyForm.search, F.text, _not_command, IsAdmin())
async def search_agencies(message: Message, session: AsyncSession, state: FSMContext) -> None:
    report_id = int((await state.get_data()).get("report_id", 0))
    found = await AgencyRepo(session).search(message.text or "")
    if not found:
        await message.answer(_("No agency matches. Try another part of the name (or /batal)."))
        return
    await state.clear()
    await message.answer(_("Choose the agency:"),
                         reply_markup=kb.pick_agencies_kb(report_id, [(a.id, a.name) for a in found]))


@router.callback_query(VerifyCb.filter(F.a == VerifyAction.ASSIGN))
async def assign(callback: CallbackQuery, callback_data: VerifyCb, session: AsyncSession, roles: Roles,
                 citizen: Citizen, settings: Settings, i18n: I18n, calendar: WorkCalendar,
                 delivery: DeliveryWorker, bot: Bot) -> None:
    agency_id = parse_row_id(callback_data.v)
    if agency_id is None:
        await callback.answer(refusal_text("invalid"), show_alert=True)
        return
    report = await run_button_step(callback, delivery, casework.assign_report(
        session, notifier(settings, i18n, calendar), roles, citizen.id, callback_data.r, agency_id, utcnow()
    ))
    if report is None:
        return
    await callback.answer(_("Assigned."))
    agency = await AgencyRepo(session).get(agency_id)
    await bot.send_message(
        callback.from_user.id,
        _(
            "✅ <code>{tracking_id}</code> was assigned to <b>{agency}</b>. "
            "Its officers and the reporter are notified."
        ).format(
            tracking_id=esc(report.tracking_id), agency=esc(agency.name if agency else "?")
        ),
    )


@router.callback_query(VerifyCb.filter(F.a == VerifyAction.REJECT))
async def reject_menu(callback: CallbackQuery, callback_data: VerifyCb, roles: Roles, bot: Bot) -> None:
    if await _refused_non_admin(callback, roles):
        return
    await callback.answer()
    await bot.send_message(callback.from_user.id, _("Why is the report rejected?"),
                           reply_markup=kb.reject_reasons_kb(callback_data.r))


@router.callback_query(VerifyCb.filter(F.a == VerifyAction.REASON))
async def reject_reason(callback: CallbackQuery, callback_data: VerifyCb, roles: Roles,
                        state: FSMContext, bot: Bot) -> None:
    if not roles.is_admin or callback_data.v not in kb.REJECT_REASONS:
        await callback.answer(refusal_text("forbidden" if not roles.is_admin else "invalid"), show_alert=True)
        return
    await callback.answer()
    await state.set_data({"report_id": callback_data.r, "reason": callback_data.v})
    if callback_data.v == "duplicate":
        await state.set_state(VerifyForm.duplicate)
        await bot.send_message(
            callback.from_user.id, _("Send the tracking ID of the report this one duplicates (or /batal).")
        )
        return
    await state.set_state(VerifyForm.reject_note)
    await bot.send_message(
        callback.from_user.id,
        _("Add a note for the reporter (optional), or reject without one. /batal cancels."),
        reply_markup=kb.skip_note_kb(callback_data.r),
    )


async def _reject(session: AsyncSession, settings: Settings, i18n: I18n, calendar: WorkCalendar,
                  roles: Roles, citizen: Citizen, report_id: int, code: str, extra: str | None) -> str:
    """Reject with the template's words in the REPORTER's language, plus the admin's text."""
    n = notifier(settings, i18n, calendar)
    view = await casework.admin_case(session, roles, report_id)
    reporter_lang = (view.reporter.language if view.reporter else None) or view.report.language
    with n.locale(reporter_lang):
        if code == "duplicate":
            reason = _("Duplicate of report {tracking_id}").format(tracking_id=extra)
        else:
            reason = kb.reject_reason_label(code)
            if extra:
                reason = f"{reason}. {extra}"
    report = await casework.reject_report(session, n, roles, citizen.id, report_id, reason, utcnow())
    return report.tracking_id


def _rejected_text(tracking_id: str) -> str:
    text = _("❌ <code>{tracking_id}</code> was rejected; the reporter is told why.")
    return text.format(tracking_id=esc(tracking_id))


@router.callback_query(VerifyCb.filter(F.a == VerifyAction.SKIP_NOTE), VerifyForm.reject_note)
async def reject_without_note(callback: CallbackQuery, callback_data: VerifyCb, session: AsyncSession,
                              roles: Roles, citizen: Citizen, settings: Settings, i18n: I18n,
                              calendar: WorkCalendar, state: FSMContext, delivery: DeliveryWorker,
                              bot: Bot) -> None:
    data = await state.get_data()
    if int(data.get("report_id", 0)) != callback_data.r:
        await callback.answer(refusal_text("invalid"), show_alert=True)
        return
    try:
        tracking_id = await _reject(session, settings, i18n, calendar, roles, citizen, callback_data.r,
                                    str(data.get("reason")), None)
    except CaseRefused as exc:
        await _refuse(callback, exc)
        return
    await state.clear()
    delivery.wake()
    await callback.answer(_("Rejected."))
    await bot.send_message(callback.from_user.id, _rejected_text(tracking_id))


@router.message(VerifyForm.reject_note, F.text, _not_command, IsAdmin())
async def reject_with_note(message: Message, session: AsyncSession, roles: Roles, citizen: Citizen,
                           settings: Settings, i18n: I18n, calendar: WorkCalendar, state: FSMContext,
                           delivery: DeliveryWorker) -> None:
    data = await state.get_data()
    if not (message.text or "").strip():
        # Spaces are not a note; rejecting with one would send the reporter an empty reason.
        await message.answer(_("Add a note for the reporter (optional), or reject without one. /batal cancels."),
                             reply_markup=kb.skip_note_kb(int(data.get("report_id", 0))))
        return
    tracking_id = await run_text_step(message, state, delivery, _reject(
        session, settings, i18n, calendar, roles, citizen, int(data.get("report_id", 0)),
        str(data.get("reason")), message.text,
    ))
    if tracking_id is not None:
        await message.answer(_rejected_text(tracking_id))


@router.message(VerifyForm.duplicate, F.text, _not_command, IsAdmin())
async def reject_duplicate(message: Message, session: AsyncSession, roles: Roles, citizen: Citizen,
                           settings: Settings, i18n: I18n, calendar: WorkCalendar, state: FSMContext,
                           delivery: DeliveryWorker) -> None:
    data = await state.get_data()
    report_id = int(data.get("report_id", 0))
    tracking_id = normalize_tracking_id(message.text or "")
    other = await casework.find_by_tracking_id(session, tracking_id) if tracking_id else None
    if other is None or other.id == report_id:
        await message.answer(_("No other report has that tracking ID. Send it again (or /batal)."))
        return
    try:
        rejected = await _reject(session, settings, i18n, calendar, roles, citizen, report_id, "duplicate", tracking_id)
    except CaseRefused as exc:
        await state.clear()
        await message.answer(refusal_text(exc.refusal))
        return
    await state.clear()
    delivery.wake()
    await message.answer(_rejected_text(rejected))


@router.callback_query(VerifyCb.filter(F.a == VerifyAction.POSTPONE))
async def postpone(callback: CallbackQuery, callback_data: VerifyCb, session: AsyncSession, roles: Roles,
                   citizen: Citizen, settings: Settings, i18n: I18n, calendar: WorkCalendar,
                   delivery: DeliveryWorker) -> None:
    if await run_button_step(callback, delivery, casework.postpone_report(
        session, notifier(settings, i18n, calendar), roles, citizen.id, callback_data.r, utcnow()
    )) is not None:
        await callback.answer(_("Postponed. It stays in the queue."), show_alert=True)


@router.message(Command("batal", "cancel"), StateFilter(VerifyForm))
async def cancel(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer(_("Cancelled."))


# Registered last: what the text steps above cannot use (a sticker, a voice note, a photo...) is
# answered with what they expect; the step and its data stay. Commands pass through.
_EXPECTS = {
    VerifyForm.reject_note.state: "reject_note",
    VerifyForm.duplicate.state: "duplicate",
    VerifyForm.search.state: "search",
}


@router.message(StateFilter(VerifyForm), _not_command, IsAdmin())
async def wrong_kind(message: Message, state: FSMContext) -> None:
    expects = _EXPECTS.get(await state.get_state() or "", "search")
    markup = None
    if expects == "reject_note":
        # The "reject without a note" button again, as the whitespace answer above does.
        markup = kb.skip_note_kb(int((await state.get_data()).get("report_id", 0)))
    await message.answer(wrong_kind_text(expects, REASON_MAX), reply_markup=markup)
