"""/verifikasi: the admin's queue, and per report assign / reject / archive / postpone / re-route,
and the supervisory flag.

Thin: every action goes to ``bot.services.casework.verification``, which asks the access rules
again (callback data can be forged).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.access import Action, Actor, Reason, Refused
from bot.domain.enums import Classification
from bot.domain.lifecycle import VERIFICATION_QUEUE
from bot.domain.text_rules import REASON_MAX
from bot.domain.tracking import normalize_tracking_id
from bot.domain.workdays import WorkCalendar
from bot.filters import PRIVATE_CHAT, not_command
from bot.services import open311_intake, walk_in
from bot.services.casework import verification
from bot.services.casework.core import Casework
from bot.services.delivery import DeliveryWorker
from bot.ui import case_keyboards as kb
from bot.ui.callback_types import parse_row_id
from bot.ui.case_callbacks import VerifyAction, VerifyCb
from bot.ui.case_extras import api_filer_line, with_card_extras
from bot.ui.case_render import (
    archive_reason,
    case_card_parts,
    case_timeline_parts,
    due_text,
    queue_button_label,
    queue_header,
    refusal_text,
    rejection_reason,
    reporter_for_admin,
    supervisory_lines,
    wrong_kind_text,
)
from bot.ui.dialogs import cancel_keyboard, with_cancel
from bot.ui.form_step import drop_buttons_like, refuse_button, run_button_step, run_text_step
from bot.ui.render import esc, split_html
from bot.ui.walk_in_render import walk_in_line
from storage.base import utcnow

log = logging.getLogger(__name__)


class VerifyForm(StatesGroup):
    search = State()  # typing part of an agency name
    reject_note = State()  # optional free text after a reason template
    duplicate = State()  # the tracking ID this report duplicates


class ArchiveForm(StatesGroup):
    note = State()  # optional free text after an archive reason


async def _refuse(callback: CallbackQuery, exc: Refused) -> None:
    await refuse_button(callback, exc)


async def _queue(
    session: AsyncSession, actor: Actor, calendar: WorkCalendar, page: int
) -> tuple[str, InlineKeyboardMarkup]:
    today = calendar.today()
    q = await verification.verification_queue(session, actor, page, today)
    text = queue_header(q.total, q.overdue, q.page, q.pages)
    if not q.reports:
        text += "\n\n" + _("Nothing is waiting for verification.")
    items = [(r.id, queue_button_label(r, today)) for r in q.reports]
    return text, kb.queue_kb(items, q.page, q.pages)


async def show_queue(message: Message, session: AsyncSession, actor: Actor, calendar: WorkCalendar) -> None:
    text, markup = await _queue(session, actor, calendar, 0)
    await message.answer(text, reply_markup=markup)


async def queue_page(callback: CallbackQuery, callback_data: VerifyCb, session: AsyncSession,
                     actor: Actor, calendar: WorkCalendar, bot: Bot) -> None:
    try:
        text, markup = await _queue(session, actor, calendar, callback_data.p)
    except Refused as exc:
        await _refuse(callback, exc)
        return
    await callback.answer()
    await bot.send_message(callback.from_user.id, text, reply_markup=markup)


async def _send_card(bot: Bot, chat_id: int, session: AsyncSession, actor: Actor,
                     calendar: WorkCalendar, locale: str, report_id: int) -> None:
    view = await verification.admin_case(session, actor, report_id)
    r = view.report
    extra = []
    if view.returned_reason:
        extra.append(
            _("↩️ <b>Returned by {agency}:</b> {reason}").format(
                agency=esc(view.returned_by or "?"), reason=esc(view.returned_reason)
            )
        )
    if (walk := await walk_in.walk_in_of(session, actor, r.id)) is not None:
        extra.append(walk_in_line(r.channel, walk.name, walk.phone, walk.claimed_at is not None))
    elif view.reporter is None and (filed := await open311_intake.filer(session, actor, r.id)):
        sub, key_name = filed
        extra.append(api_filer_line(sub.first_name, sub.last_name, sub.email, sub.phone, key_name))
    if r.requested_agency_id:
        extra.append(
            _("<b>Citizen's choice:</b> {agency}").format(
                agency=esc(view.agency_names.get(r.requested_agency_id, "?"))
            )
        )
    extra.extend(supervisory_lines(r))
    parts = case_card_parts(
        r, reporter_html=reporter_for_admin(r, view.reporter),
        agency_name=view.agency_names.get(r.agency_id) if r.agency_id else None,
        attachment_count=len(view.attachments), due=r.verify_due, today=calendar.today(),
        cal=calendar, locale=locale, extra=extra,
    ) + case_timeline_parts(view.events, view.agency_names, calendar.tz, locale)
    messages = split_html(parts)
    supervisory = r.supervisory if r.classification == Classification.COMPLAINT else None
    actions = kb.verify_actions_kb(r.id, view.suggested, supervisory) if r.status in VERIFICATION_QUEUE else None
    markup = with_card_extras(actions, r.id)  # category and SP4N-LAPOR! number, in any status
    for i, text in enumerate(messages):
        sent = await bot.send_message(chat_id, text, reply_markup=markup if i == len(messages) - 1 else None)
    if actions is not None:  # its Disposisi / Tolak / Tunda go once the report moves on
        await verification.card_shown(session, actor, chat_id, sent.message_id, r.id)


async def _settle_cards(bot: Bot, session: AsyncSession, report_id: int, pressed: CallbackQuery | None = None) -> None:
    """The report left verification: every admin's card of it keeps only the buttons that work
    in any status (category, SP4N-LAPOR! number). ``pressed``: the button that moved it; its
    message loses that kind of button too, edited once if it is itself a card."""
    cards = await verification.settled_cards(session, report_id)
    message = pressed.message if pressed is not None else None
    if pressed is not None and not (isinstance(message, Message)
                                    and (message.chat.id, message.message_id) in cards):
        await drop_buttons_like(pressed)
    for chat_id, message_id in cards:
        try:
            await bot.edit_message_reply_markup(chat_id=chat_id, message_id=message_id,
                                                reply_markup=with_card_extras(None, report_id))
        except TelegramBadRequest:  # deleted by the admin, or too old to edit: nothing to fix
            log.info("card %s/%s of report %s could not be edited", chat_id, message_id, report_id)


async def open_case(callback: CallbackQuery, callback_data: VerifyCb, session: AsyncSession, actor: Actor,
                    calendar: WorkCalendar, locale: str, bot: Bot, state: FSMContext) -> None:
    try:
        await _send_card(bot, callback.from_user.id, session, actor, calendar, locale, callback_data.r)
    except Refused as exc:
        await _refuse(callback, exc)
        return
    await state.clear()
    await callback.answer()


async def _still_may(callback: CallbackQuery, session: AsyncSession, actor: Actor, action: Action,
                     report_id: int) -> bool:
    """Before a step of assigning or rejecting opens: a stale card's button says where the
    report went instead (and loses its buttons)."""
    try:
        await verification.ensure_may(session, actor, action, report_id)
    except Refused as exc:
        await refuse_button(callback, exc)
        return False
    return True


async def pick_kind(callback: CallbackQuery, callback_data: VerifyCb, bot: Bot, session: AsyncSession,
                    actor: Actor) -> None:
    if not await _still_may(callback, session, actor, Action.ASSIGN, callback_data.r):
        return
    await callback.answer()
    await bot.send_message(callback.from_user.id, _("Which kind of agency?"),
                           reply_markup=kb.pick_kinds_kb(callback_data.r))


async def pick_from_kind(callback: CallbackQuery, callback_data: VerifyCb, session: AsyncSession,
                         actor: Actor, bot: Bot) -> None:
    if not await _still_may(callback, session, actor, Action.ASSIGN, callback_data.r):
        return
    found = await verification.agencies_of_kind(session, actor, callback_data.v, callback_data.p)
    await callback.answer()
    text = kb.agency_kind_label(callback_data.v) if found.agencies else _("No agencies of this kind.")
    await bot.send_message(
        callback.from_user.id, text,
        reply_markup=kb.pick_agencies_kb(callback_data.r, [(a.id, a.name) for a in found.agencies],
                                         kind=callback_data.v, page=found.page, pages=found.pages),
    )


async def search_prompt(callback: CallbackQuery, callback_data: VerifyCb, session: AsyncSession, actor: Actor,
                        state: FSMContext, bot: Bot) -> None:
    try:
        await verification.ensure_may(session, actor, Action.ASSIGN, callback_data.r)
    except Refused as exc:
        await _refuse(callback, exc)
        return
    await state.set_state(VerifyForm.search)
    await state.set_data({"report_id": callback_data.r})
    await callback.answer()
    await bot.send_message(callback.from_user.id, _("Type part of the agency's name (or /batal)."),
                           reply_markup=cancel_keyboard(VerifyForm.__name__))


async def search_agencies(message: Message, session: AsyncSession, actor: Actor, state: FSMContext) -> None:
    report_id = int((await state.get_data()).get("report_id", 0))
    found = await verification.search_agencies(session, actor, message.text or "")
    if not found:
        await message.answer(_("No agency matches. Try another part of the name (or /batal)."))
        return
    await state.clear()
    await message.answer(_("Choose the agency:"),
                         reply_markup=kb.pick_agencies_kb(report_id, [(a.id, a.name) for a in found]))


async def assign(callback: CallbackQuery, callback_data: VerifyCb, session: AsyncSession, actor: Actor,
                 casework: Casework, delivery: DeliveryWorker, bot: Bot) -> None:
    agency_id = parse_row_id(callback_data.v)
    if agency_id is None:
        await callback.answer(refusal_text(Reason.INVALID), show_alert=True)
        return
    assigned = await run_button_step(callback, delivery, verification.assign_report(
        session, casework, actor, callback_data.r, agency_id, utcnow()
    ))
    if assigned is None:
        return
    report, agency = assigned
    await callback.answer(_("Assigned."))
    await _settle_cards(bot, session, report.id, callback)  # the card, or the agency list, is done
    await bot.send_message(
        callback.from_user.id,
        _(
            "✅ <code>{tracking_id}</code> was assigned to <b>{agency}</b>. "
            "Its officers and the reporter are notified."
        ).format(
            tracking_id=esc(report.tracking_id), agency=esc(agency.name)
        ),
    )


async def reject_menu(callback: CallbackQuery, callback_data: VerifyCb, bot: Bot, session: AsyncSession,
                      actor: Actor) -> None:
    if not await _still_may(callback, session, actor, Action.REJECT, callback_data.r):
        return
    await callback.answer()
    await bot.send_message(callback.from_user.id, _("Why is the report rejected?"),
                           reply_markup=kb.reject_reasons_kb(callback_data.r))


async def reject_reason(callback: CallbackQuery, callback_data: VerifyCb, session: AsyncSession, actor: Actor,
                        state: FSMContext, bot: Bot) -> None:
    if callback_data.v not in kb.REJECT_REASONS:
        await callback.answer(refusal_text(Reason.INVALID), show_alert=True)
        return
    try:
        action = Action.MARK_DUPLICATE if callback_data.v == "duplicate" else Action.REJECT
        await verification.ensure_may(session, actor, action, callback_data.r)
    except Refused as exc:
        await _refuse(callback, exc)
        return
    await callback.answer()
    await state.set_data({"report_id": callback_data.r, "reason": callback_data.v})
    if callback_data.v == "duplicate":
        await state.set_state(VerifyForm.duplicate)
        await bot.send_message(
            callback.from_user.id, _("Send the tracking ID of the report this one duplicates (or /batal)."),
            reply_markup=cancel_keyboard(VerifyForm.__name__),
        )
        return
    await state.set_state(VerifyForm.reject_note)
    await bot.send_message(
        callback.from_user.id,
        _("Add a note for the reporter (optional), or reject without one. /batal cancels."),
        reply_markup=with_cancel(kb.skip_note_kb(callback_data.r), VerifyForm.__name__),
    )


async def _reject(session: AsyncSession, casework: Casework, i18n: I18n, actor: Actor, report_id: int,
                  code: str, extra: str | None) -> str:
    """Reject with the template's words in the REPORTER's language, plus the admin's text."""
    lang = await _reporter_language(session, actor, report_id)
    reason = rejection_reason(i18n, lang, code, extra)
    report = await verification.reject_report(session, casework, actor, report_id, reason, utcnow())
    return report.tracking_id


async def _reporter_language(session: AsyncSession, actor: Actor, report_id: int) -> str | None:
    view = await verification.admin_case(session, actor, report_id)
    return (view.reporter.language if view.reporter else None) or view.report.language


@dataclass(frozen=True)
class _Ending:
    """A report ended at verification with a reason the reporter reads: rejected or archived.
    Both take a preset reason, then an optional note (typed, or skipped with a button)."""

    finish: Callable[[AsyncSession, Casework, I18n, Actor, int, str, str | None], Awaitable[str]]
    note_prompt: Callable[[], str]
    skip_kb: Callable[[int], InlineKeyboardMarkup]
    done_answer: Callable[[], str]
    done_text: Callable[[str], str]


def _rejected_text(tracking_id: str) -> str:
    text = _("❌ <code>{tracking_id}</code> was rejected; the reporter is told why.")
    return text.format(tracking_id=esc(tracking_id))


REJECTING = _Ending(
    finish=_reject,
    note_prompt=lambda: _("Add a note for the reporter (optional), or reject without one. /batal cancels."),
    skip_kb=lambda report_id: kb.skip_note_kb(report_id),
    done_answer=lambda: _("Rejected."),
    done_text=_rejected_text,
)


async def _end_without_note(ending: _Ending, callback: CallbackQuery, callback_data: VerifyCb, session: AsyncSession,
                            actor: Actor, casework: Casework, i18n: I18n, state: FSMContext,
                            delivery: DeliveryWorker, bot: Bot) -> None:
    data = await state.get_data()
    if int(data.get("report_id", 0)) != callback_data.r:
        await callback.answer(refusal_text(Reason.INVALID), show_alert=True)
        return
    try:
        tracking_id = await ending.finish(session, casework, i18n, actor, callback_data.r, str(data.get("reason")),
                                          None)
    except Refused as exc:
        await state.clear()
        await _refuse(callback, exc)
        return
    await state.clear()
    delivery.wake()
    await callback.answer(ending.done_answer())
    await _settle_cards(bot, session, callback_data.r, callback)
    await bot.send_message(callback.from_user.id, ending.done_text(tracking_id))


async def _end_with_note(ending: _Ending, message: Message, session: AsyncSession, actor: Actor,
                         casework: Casework, i18n: I18n, state: FSMContext, delivery: DeliveryWorker,
                         bot: Bot) -> None:
    data = await state.get_data()
    report_id = int(data.get("report_id", 0))
    if not (message.text or "").strip():
        # Spaces are not a note; ending with one would send the reporter an empty reason.
        await message.answer(ending.note_prompt(), reply_markup=ending.skip_kb(report_id))
        return
    tracking_id = await run_text_step(message, state, delivery, ending.finish(
        session, casework, i18n, actor, report_id, str(data.get("reason")), message.text,
    ))
    if tracking_id is not None:
        await _settle_cards(bot, session, report_id)
        await message.answer(ending.done_text(tracking_id))


async def reject_without_note(callback: CallbackQuery, callback_data: VerifyCb, session: AsyncSession,
                              actor: Actor, casework: Casework, i18n: I18n, state: FSMContext,
                              delivery: DeliveryWorker, bot: Bot) -> None:
    await _end_without_note(REJECTING, callback, callback_data, session, actor, casework, i18n, state, delivery, bot)


async def reject_with_note(message: Message, session: AsyncSession, actor: Actor, casework: Casework,
                           i18n: I18n, state: FSMContext, delivery: DeliveryWorker, bot: Bot) -> None:
    await _end_with_note(REJECTING, message, session, actor, casework, i18n, state, delivery, bot)


async def reject_duplicate(message: Message, session: AsyncSession, actor: Actor, casework: Casework,
                           i18n: I18n, state: FSMContext, delivery: DeliveryWorker, bot: Bot) -> None:
    data = await state.get_data()
    report_id = int(data.get("report_id", 0))
    tracking_id = normalize_tracking_id(message.text or "")
    other = await verification.find_by_tracking_id(session, actor, tracking_id) if tracking_id else None
    if other is None or other.id == report_id:
        await message.answer(_("No other report has that tracking ID. Send it again (or /batal)."))
        return
    try:
        reason = rejection_reason(i18n, await _reporter_language(session, actor, report_id), "duplicate",
                                  tracking_id)
        duplicate, original = await verification.mark_duplicate(session, casework, actor, report_id, other.id,
                                                                reason, utcnow())
    except Refused as exc:
        await state.clear()
        await message.answer(refusal_text(exc))
        return
    await state.clear()
    delivery.wake()
    await _settle_cards(bot, session, report_id)
    await message.answer(
        _("🔁 <code>{duplicate}</code> was joined to <code>{original}</code> as a duplicate; its reporter now "
          "follows <code>{original}</code> and is told so.").format(
            duplicate=esc(duplicate.tracking_id), original=esc(original.tracking_id)))


async def postpone(callback: CallbackQuery, callback_data: VerifyCb, session: AsyncSession, actor: Actor,
                   casework: Casework, delivery: DeliveryWorker) -> None:
    if await run_button_step(callback, delivery, verification.postpone_report(
        session, casework, actor, callback_data.r, utcnow()
    )) is not None:
        await callback.answer(_("Postponed. It stays in the queue."), show_alert=True)


async def archive_menu(callback: CallbackQuery, callback_data: VerifyCb, bot: Bot, session: AsyncSession,
                       actor: Actor) -> None:
    if not await _still_may(callback, session, actor, Action.ARCHIVE, callback_data.r):
        return
    await callback.answer()
    await bot.send_message(callback.from_user.id, _("Why does the report need no follow-up?"),
                           reply_markup=kb.archive_reasons_kb(callback_data.r))


async def archive_pick(callback: CallbackQuery, callback_data: VerifyCb, session: AsyncSession, actor: Actor,
                       state: FSMContext, bot: Bot) -> None:
    if callback_data.v not in kb.ARCHIVE_REASONS:
        await callback.answer(refusal_text(Reason.INVALID), show_alert=True)
        return
    if not await _still_may(callback, session, actor, Action.ARCHIVE, callback_data.r):
        return
    await callback.answer()
    await state.set_state(ArchiveForm.note)
    await state.set_data({"report_id": callback_data.r, "reason": callback_data.v})
    await bot.send_message(
        callback.from_user.id,
        _("Add a note for the reporter (optional), or archive without one. /batal cancels."),
        reply_markup=with_cancel(kb.skip_archive_note_kb(callback_data.r), ArchiveForm.__name__),
    )


async def _archive(session: AsyncSession, casework: Casework, i18n: I18n, actor: Actor, report_id: int,
                   code: str, extra: str | None) -> str:
    """Archive with the reason's words in the REPORTER's language, plus the admin's text."""
    lang = await _reporter_language(session, actor, report_id)
    reason = archive_reason(i18n, lang, code, extra)
    report = await verification.archive_report(session, casework, actor, report_id, reason, utcnow())
    return report.tracking_id


def _archived_text(tracking_id: str) -> str:
    text = _("🗄 <code>{tracking_id}</code> was archived; the reporter is told why.")
    return text.format(tracking_id=esc(tracking_id))


ARCHIVING = _Ending(
    finish=_archive,
    note_prompt=lambda: _("Add a note for the reporter (optional), or archive without one. /batal cancels."),
    skip_kb=lambda report_id: kb.skip_archive_note_kb(report_id),
    done_answer=lambda: _("Archived."),
    done_text=_archived_text,
)


async def archive_without_note(callback: CallbackQuery, callback_data: VerifyCb, session: AsyncSession,
                               actor: Actor, casework: Casework, i18n: I18n, state: FSMContext,
                               delivery: DeliveryWorker, bot: Bot) -> None:
    await _end_without_note(ARCHIVING, callback, callback_data, session, actor, casework, i18n, state, delivery, bot)


async def archive_with_note(message: Message, session: AsyncSession, actor: Actor, casework: Casework,
                            i18n: I18n, state: FSMContext, delivery: DeliveryWorker, bot: Bot) -> None:
    await _end_with_note(ARCHIVING, message, session, actor, casework, i18n, state, delivery, bot)


async def supervisory(callback: CallbackQuery, callback_data: VerifyCb, session: AsyncSession, actor: Actor,
                      casework: Casework, calendar: WorkCalendar, locale: str, bot: Bot) -> None:
    if callback_data.v not in ("0", "1"):
        await callback.answer(refusal_text(Reason.INVALID), show_alert=True)
        return
    try:
        report = await verification.set_supervisory(session, casework, actor, callback_data.r, callback_data.v == "1")
    except Refused as exc:
        await _refuse(callback, exc)
        return
    due = due_text(report.completion_due, calendar.today(), locale)
    if report.supervisory:
        note = _("Marked as supervisory: to be completed by {date}.").format(date=due)
    else:
        note = _("No longer supervisory: to be completed by {date}.").format(date=due)
    await callback.answer(note)
    await drop_buttons_like(callback)  # the card below replaces this one, with the flag as it is now
    await _send_card(bot, callback.from_user.id, session, actor, calendar, locale, report.id)


# Registered last: what the text steps above cannot use (a sticker, a voice note, a photo...) is
# answered with what they expect; the step and its data stay. Commands pass through.
_EXPECTS = {
    VerifyForm.reject_note.state: "reject_note",
    VerifyForm.duplicate.state: "duplicate",
    VerifyForm.search.state: "search",
    ArchiveForm.note.state: "archive_note",
}


async def wrong_kind(message: Message, state: FSMContext) -> None:
    expects = _EXPECTS.get(await state.get_state() or "", "search")
    markup = None
    if expects == "reject_note":
        # The "reject without a note" button again, as the whitespace answer above does.
        markup = kb.skip_note_kb(int((await state.get_data()).get("report_id", 0)))
    elif expects == "archive_note":
        markup = kb.skip_archive_note_kb(int((await state.get_data()).get("report_id", 0)))
    await message.answer(wrong_kind_text(expects, REASON_MAX), reply_markup=markup)


def router() -> Router:
    r = Router(name=__name__)
    r.message.filter(PRIVATE_CHAT)
    r.message.register(show_queue, Command("verifikasi"))
    r.callback_query.register(queue_page, VerifyCb.filter(F.a == VerifyAction.LIST))
    r.callback_query.register(open_case, VerifyCb.filter(F.a == VerifyAction.OPEN))
    r.callback_query.register(pick_kind, VerifyCb.filter(F.a == VerifyAction.PICK))
    r.callback_query.register(pick_from_kind, VerifyCb.filter(F.a == VerifyAction.KIND))
    r.callback_query.register(search_prompt, VerifyCb.filter(F.a == VerifyAction.SEARCH))
    r.message.register(search_agencies, VerifyForm.search, F.text, not_command)
    r.callback_query.register(assign, VerifyCb.filter(F.a == VerifyAction.ASSIGN))
    r.callback_query.register(reject_menu, VerifyCb.filter(F.a == VerifyAction.REJECT))
    r.callback_query.register(reject_reason, VerifyCb.filter(F.a == VerifyAction.REASON))
    r.callback_query.register(reject_without_note, VerifyCb.filter(F.a == VerifyAction.SKIP_NOTE),
                              VerifyForm.reject_note)
    r.message.register(reject_with_note, VerifyForm.reject_note, F.text, not_command)
    r.message.register(reject_duplicate, VerifyForm.duplicate, F.text, not_command)
    r.callback_query.register(postpone, VerifyCb.filter(F.a == VerifyAction.POSTPONE))
    r.callback_query.register(archive_menu, VerifyCb.filter(F.a == VerifyAction.ARCHIVE))
    r.callback_query.register(archive_pick, VerifyCb.filter(F.a == VerifyAction.ARCHIVE_REASON))
    r.callback_query.register(archive_without_note, VerifyCb.filter(F.a == VerifyAction.ARCHIVE_SKIP_NOTE),
                              ArchiveForm.note)
    r.message.register(archive_with_note, ArchiveForm.note, F.text, not_command)
    r.callback_query.register(supervisory, VerifyCb.filter(F.a == VerifyAction.SUPERVISORY))
    r.message.register(wrong_kind, StateFilter(VerifyForm, ArchiveForm), not_command)
    return r
