"""The reporter's side of the dialogue: answering an officer's question, rating the answer
(Puas 1–5, optional comment) or reopening it (Belum selesai, with a reason).

Any text, photo or document sent outside a form while exactly one report waits for the
citizen's answer is that answer; with several waiting, the citizen chooses. Everything else
falls through to the routers below (SkipHandler).
"""

from __future__ import annotations

from typing import Any

from aiogram import Bot, F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.domain.enums import ReportStatus
from bot.domain.text_rules import REASON_MAX
from bot.domain.workdays import WorkCalendar
from bot.services import casework
from bot.services.casework import CaseRefused, FileRef, Refusal, notifier
from bot.services.delivery import DeliveryWorker
from bot.ui import case_keyboards as kb
from bot.ui.case_callbacks import ReporterAction, ReporterCb
from bot.ui.case_render import refusal_text, text_rule_error, wrong_kind_text
from bot.ui.render import esc
from bot.ui.form_step import run_button_step, run_text_step
from storage.base import utcnow
from storage.models import Citizen
from storage.repositories.cases import CaseRepo

router = Router(name=__name__)
router.message.filter(F.chat.type == "private")

_REPLY_CONTENT = F.text | F.photo | F.document | F.video


class ReporterForm(StatesGroup):
    answer = State()  # data: report_id; the next message answers the question
    more = State()  # data: report_id; further files of the answer just sent (albums)
    choose = State()  # data: text, files; which report it answers
    comment = State()  # data: report_id; optional comment after rating
    dispute = State()  # data: report_id; why it is not solved


def _not_command(message: Message) -> bool:
    return not (message.text or "").startswith("/")


def _content(message: Message) -> tuple[str | None, list[FileRef]]:
    text = message.text or message.caption
    files: list[FileRef] = []
    if message.photo:
        p = message.photo[-1]
        files.append(FileRef(p.file_id, p.file_unique_id, "photo", p.file_size))
    elif message.document:
        d = message.document
        files.append(FileRef(d.file_id, d.file_unique_id, "document", d.file_size, d.mime_type, d.file_name))
    elif message.video:
        v = message.video
        files.append(FileRef(v.file_id, v.file_unique_id, "video", v.file_size, v.mime_type, v.file_name))
    return text, files


def _files_data(files: list[FileRef]) -> list[dict[str, Any]]:
    return [f.__dict__ for f in files]


async def _own(session: AsyncSession, citizen: Citizen, report_id: int, status: ReportStatus):
    report = await CaseRepo(session).get_with_details(report_id)
    if report is None or report.citizen_id != citizen.id:
        raise CaseRefused(Refusal.FORBIDDEN)
    if report.status != status:
        raise CaseRefused(Refusal.NOT_NOW)
    return report


async def _send_reply(message: Message, session: AsyncSession, citizen: Citizen, n, report_id: int,
                      text: str | None, files: list[FileRef], state: FSMContext,
                      delivery: DeliveryWorker, *, continuing: bool = False) -> bool:
    report = await run_text_step(
        message, state, delivery,
        casework.reporter_reply(session, n, citizen, report_id, text, files, utcnow(), continuing=continuing),
        keep_state=True,  # the files of an album follow, one message each
    )
    if report is None:
        return False
    await state.set_state(ReporterForm.more)
    await state.set_data({"report_id": report.id})
    if not continuing:
        await message.answer(
            _("📨 Your answer on <code>{tracking_id}</code> was sent to the agency. You may still "
              "send photos or documents for it now.").format(tracking_id=esc(report.tracking_id))
        )
    return True


@router.callback_query(ReporterCb.filter(F.a == ReporterAction.REPLY))
async def reply_button(callback: CallbackQuery, callback_data: ReporterCb, session: AsyncSession,
                       citizen: Citizen, state: FSMContext, bot: Bot) -> None:
    try:
        report = await _own(session, citizen, callback_data.r, ReportStatus.AWAITING_REPORTER)
    except CaseRefused as exc:
        await callback.answer(refusal_text(exc.refusal), show_alert=True)
        return
    await callback.answer()
    await state.set_state(ReporterForm.answer)
    await state.set_data({"report_id": report.id})
    await bot.send_message(
        callback.from_user.id,
        _("Write your answer for <code>{tracking_id}</code> (you may attach a photo or a document). "
          "/batal cancels.").format(tracking_id=esc(report.tracking_id)),
    )


@router.message(ReporterForm.answer, _REPLY_CONTENT, _not_command)
async def answer_given(message: Message, session: AsyncSession, citizen: Citizen, settings: Settings,
                       i18n: I18n, calendar: WorkCalendar, state: FSMContext, delivery: DeliveryWorker) -> None:
    report_id = int((await state.get_data()).get("report_id", 0))
    text, files = _content(message)
    if not files and not (text or "").strip():
        # Nothing to pass on: ask again rather than drop the question the citizen is answering.
        await message.answer(text_rule_error("too_short", 1))
        return
    await _send_reply(message, session, citizen, notifier(settings, i18n, calendar), report_id, text,
                      files, state, delivery)


@router.message(ReporterForm.more, _REPLY_CONTENT, _not_command)
async def more_given(message: Message, session: AsyncSession, citizen: Citizen, settings: Settings,
                     i18n: I18n, calendar: WorkCalendar, state: FSMContext, delivery: DeliveryWorker) -> None:
    report_id = int((await state.get_data()).get("report_id", 0))
    if not await casework.accepts_more_reply(session, citizen, report_id):
        # The dialogue moved on (the officer answered): this message is something new.
        await state.clear()
        raise SkipHandler
    text, files = _content(message)
    if await _send_reply(message, session, citizen, notifier(settings, i18n, calendar), report_id, text,
                         files, state, delivery, continuing=True):
        await message.answer(_("Added to your answer."))


@router.message(StateFilter(None), _REPLY_CONTENT, _not_command)
async def unprompted(message: Message, session: AsyncSession, citizen: Citizen, settings: Settings,
                     i18n: I18n, calendar: WorkCalendar, state: FSMContext, delivery: DeliveryWorker) -> None:
    pending = await casework.pending_questions(session, citizen)
    if not pending:
        raise SkipHandler
    text, files = _content(message)
    if len(pending) == 1:
        await _send_reply(message, session, citizen, notifier(settings, i18n, calendar), pending[0].id,
                          text, files, state, delivery)
        return
    await state.set_state(ReporterForm.choose)
    await state.set_data({"text": text, "files": _files_data(files)})
    await message.answer(
        _("Several of your reports are waiting for an answer. Which one is this for?"),
        reply_markup=kb.choose_report_kb([(r.id, f"{r.tracking_id} · {r.title[:30]}") for r in pending]),
    )


@router.callback_query(ReporterCb.filter(F.a == ReporterAction.CHOOSE), ReporterForm.choose)
async def chosen(callback: CallbackQuery, callback_data: ReporterCb, session: AsyncSession, citizen: Citizen,
                 settings: Settings, i18n: I18n, calendar: WorkCalendar, state: FSMContext,
                 delivery: DeliveryWorker) -> None:
    data = await state.get_data()
    files = [FileRef(**f) for f in data.get("files", [])]
    await callback.answer()
    assert isinstance(callback.message, Message)
    await _send_reply(callback.message, session, citizen, notifier(settings, i18n, calendar), callback_data.r,
                      data.get("text"), files, state, delivery)


@router.callback_query(ReporterCb.filter(F.a == ReporterAction.SATISFIED))
async def satisfied(callback: CallbackQuery, callback_data: ReporterCb, session: AsyncSession,
                    citizen: Citizen, bot: Bot) -> None:
    try:
        report = await _own(session, citizen, callback_data.r, ReportStatus.ANSWERED)
    except CaseRefused as exc:
        await callback.answer(refusal_text(exc.refusal), show_alert=True)
        return
    await callback.answer()
    await bot.send_message(
        callback.from_user.id,
        _("How satisfied are you with the answer to <code>{tracking_id}</code>? 1 star is poor, "
          "5 stars is excellent.").format(tracking_id=esc(report.tracking_id)),
        reply_markup=kb.rating_kb(report.id),
    )


@router.callback_query(ReporterCb.filter(F.a == ReporterAction.RATE))
async def rated(callback: CallbackQuery, callback_data: ReporterCb, session: AsyncSession, citizen: Citizen,
                settings: Settings, i18n: I18n, calendar: WorkCalendar, state: FSMContext,
                delivery: DeliveryWorker, bot: Bot) -> None:
    report = await run_button_step(callback, delivery, casework.accept_answer(
        session, notifier(settings, i18n, calendar), citizen, callback_data.r, callback_data.v, utcnow()
    ))
    if report is None:
        return
    await callback.answer(_("Thank you!"))
    await state.set_state(ReporterForm.comment)
    await state.set_data({"report_id": report.id})
    await bot.send_message(
        callback.from_user.id,
        _("Thank you for your rating: <code>{tracking_id}</code> is completed. Would you like to "
          "add a comment for the agency? Write it, or tap Skip.").format(tracking_id=esc(report.tracking_id)),
        reply_markup=kb.skip_comment_kb(report.id),
    )


@router.message(ReporterForm.comment, F.text, _not_command)
async def comment_given(message: Message, session: AsyncSession, citizen: Citizen, settings: Settings,
                        i18n: I18n, calendar: WorkCalendar, state: FSMContext, delivery: DeliveryWorker) -> None:
    report_id = int((await state.get_data()).get("report_id", 0))
    if await run_text_step(message, state, delivery, casework.add_rating_comment(
        session, notifier(settings, i18n, calendar), citizen, report_id, message.text or "", utcnow()
    )) is not None:
        await message.answer(_("Thank you, your comment was passed on to the agency."))


@router.callback_query(ReporterCb.filter(F.a == ReporterAction.SKIP_COMMENT))
async def comment_skipped(callback: CallbackQuery, callback_data: ReporterCb, state: FSMContext) -> None:
    # Only the comment step of this very report ends here: an old or forged Skip must not cost
    # a form (or another step) the citizen is in the middle of.
    data = await state.get_data()
    if await state.get_state() == ReporterForm.comment.state and data.get("report_id") == callback_data.r:
        await state.clear()
    await callback.answer(_("Thank you!"))


@router.callback_query(ReporterCb.filter(F.a == ReporterAction.NOT_SOLVED))
async def not_solved(callback: CallbackQuery, callback_data: ReporterCb, session: AsyncSession,
                     citizen: Citizen, calendar: WorkCalendar, state: FSMContext, bot: Bot) -> None:
    try:
        report = await _own(session, citizen, callback_data.r, ReportStatus.ANSWERED)
        if report.reply_due is not None and calendar.today() > report.reply_due:
            raise CaseRefused(Refusal.TOO_LATE)
    except CaseRefused as exc:
        await callback.answer(refusal_text(exc.refusal), show_alert=True)
        return
    await callback.answer()
    await state.set_state(ReporterForm.dispute)
    await state.set_data({"report_id": report.id})
    await bot.send_message(
        callback.from_user.id,
        _("What is not solved yet about <code>{tracking_id}</code>? Your reason goes to the agency. "
          "/batal cancels.").format(tracking_id=esc(report.tracking_id)),
    )


@router.message(ReporterForm.dispute, F.text, _not_command)
async def dispute_given(message: Message, session: AsyncSession, citizen: Citizen, settings: Settings,
                        i18n: I18n, calendar: WorkCalendar, state: FSMContext, delivery: DeliveryWorker) -> None:
    report_id = int((await state.get_data()).get("report_id", 0))
    await run_text_step(message, state, delivery, casework.dispute_answer(
        session, notifier(settings, i18n, calendar), citizen, report_id, message.text or "", utcnow()
    ))


@router.message(Command("batal", "cancel"), StateFilter(ReporterForm))
async def cancel(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer(_("Cancelled."))


# Registered last: what the steps above cannot use (a sticker, a voice note, a location; a photo
# where only text goes) is answered with what they expect; the step and its data stay.
_EXPECTS = {
    ReporterForm.answer.state: "reply",
    ReporterForm.comment.state: "comment",
    ReporterForm.dispute.state: "dispute",
}


@router.message(StateFilter(ReporterForm.answer, ReporterForm.comment, ReporterForm.dispute), _not_command)
async def wrong_kind(message: Message, state: FSMContext) -> None:
    expects = _EXPECTS.get(await state.get_state() or "", "reply")
    markup = None
    if expects == "comment":
        markup = kb.skip_comment_kb(int((await state.get_data()).get("report_id", 0)))
    await message.answer(wrong_kind_text(expects, REASON_MAX), reply_markup=markup)
