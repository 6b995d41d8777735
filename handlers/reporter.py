"""The reporter's side of the dialogue: answering an officer's question, adding information to
an open report, rating the answer (Puas 1–5, optional comment) or reopening it (Belum selesai,
with a reason).

Any text, photo or document sent outside a form while exactly one report waits for the
citizen's answer is that answer; with several waiting, the citizen chooses. The answer ends
the exchange: only the other files of the same album join it. Whatever comes later is offered
as an addition ("Tambahkan informasi ke LPR-…?") and relayed only once confirmed, so a phone
number typed minutes later does not reach every officer of the agency by accident. From
/laporan the reporter may add information to an open report on purpose. Everything else falls
through to the routers below (SkipHandler).
"""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from aiogram import Bot, F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.access import Action, Actor, Reason, Refused
from bot.domain.text_rules import REASON_MAX
from bot.filters import PRIVATE_CHAT, not_command
from bot.services.casework import reporter
from bot.services.casework.core import Casework
from bot.services.casework.reporter import Addition, FileRef
from bot.services.delivery import DeliveryWorker
from bot.ui import case_keyboards as kb
from bot.ui.case_callbacks import ReporterAction, ReporterCb
from bot.ui.case_render import refusal_text, text_rule_error, wrong_kind_text
from bot.ui.dialogs import cancel_keyboard, with_cancel
from bot.ui.form_step import refuse_button, run_button_step, run_text_step
from bot.ui.render import esc
from storage.base import utcnow

_REPLY_CONTENT = F.text | F.photo | F.document | F.video
# An addition may also be a voice note or a map point.
_ADD_CONTENT = _REPLY_CONTENT | F.voice | F.location
ADDITION_FILES_MAX = 10


class ReporterForm(StatesGroup):
    answer = State()  # data: report_id; the next message answers the question
    # data: report_id, album, kind (reply | add); the rest of the album just sent joins it,
    # anything else is offered as an addition
    more = State()
    offer = State()  # data: report_id, text, files, location, album; "add this to LPR-…?"
    addition = State()  # data: report_id; the next message is added to the report (/laporan)
    choose = State()  # data: text, files; which report it answers
    comment = State()  # data: report_id; optional comment after rating
    dispute = State()  # data: report_id; why it is not solved


def _content(message: Message) -> tuple[str | None, list[FileRef]]:
    text = message.text or message.caption
    files: list[FileRef] = []
    if message.photo:
        p = message.photo[-1]
        files.append(FileRef(p.file_id, p.file_unique_id, "photo", p.file_size, "image/jpeg"))
    elif message.document:
        d = message.document
        files.append(FileRef(d.file_id, d.file_unique_id, "document", d.file_size, d.mime_type, d.file_name))
    elif message.video:
        v = message.video
        files.append(FileRef(v.file_id, v.file_unique_id, "video", v.file_size, v.mime_type, v.file_name))
    elif message.voice:
        v = message.voice
        files.append(FileRef(v.file_id, v.file_unique_id, "voice", v.file_size, v.mime_type))
    return text, files


def _addition(message: Message) -> Addition:
    text, files = _content(message)
    loc = message.location
    return Addition(text, files, (loc.latitude, loc.longitude) if loc is not None else None)


def _files_data(files: list[FileRef]) -> list[dict[str, Any]]:
    return [f.__dict__ for f in files]


async def _button_report(callback: CallbackQuery, session: AsyncSession, casework: Casework, actor: Actor,
                         action: Action, report_id: int):
    """The report a button of the reporter's is about, or None when refused (answered here)."""
    try:
        return await reporter.report_for(session, casework, actor, action, report_id, utcnow())
    except Refused as exc:
        await refuse_button(callback, exc)
        return None


async def _send_reply(message: Message, session: AsyncSession, casework: Casework, actor: Actor, report_id: int,
                      text: str | None, files: list[FileRef], state: FSMContext,
                      delivery: DeliveryWorker, *, continuing: bool = False) -> bool:
    report = await run_text_step(
        message, state, delivery,
        reporter.reporter_reply(session, casework, actor, report_id, text, files, utcnow(), continuing=continuing),
        keep_state=True,  # the files of an album follow, one message each
    )
    if report is None:
        return False
    await state.set_state(ReporterForm.more)
    await state.set_data({"report_id": report.id, "album": message.media_group_id, "kind": "reply"})
    if not continuing:
        await message.answer(
            _("📨 Your answer on <code>{tracking_id}</code> was sent to the agency.").format(
                tracking_id=esc(report.tracking_id))
        )
    return True


async def _open_step(callback: CallbackQuery, session: AsyncSession, casework: Casework, actor: Actor,
                     action: Action, report_id: int, state: FSMContext, step: State, bot: Bot,
                     prompt: str) -> None:
    """A button that makes the next message the reporter's answer or addition on a report."""
    report = await _button_report(callback, session, casework, actor, action, report_id)
    if report is None:
        return
    await callback.answer()
    await state.set_state(step)
    await state.set_data({"report_id": report.id})
    await bot.send_message(callback.from_user.id, prompt.format(tracking_id=esc(report.tracking_id)),
                           reply_markup=cancel_keyboard(ReporterForm.__name__))


async def reply_button(callback: CallbackQuery, callback_data: ReporterCb, session: AsyncSession,
                       casework: Casework, actor: Actor, state: FSMContext, bot: Bot) -> None:
    await _open_step(callback, session, casework, actor, Action.REPLY, callback_data.r, state, ReporterForm.answer,
                     bot, _("Write your answer for <code>{tracking_id}</code> (you may attach a photo or a "
                            "document). /batal cancels."))


async def answer_given(message: Message, session: AsyncSession, casework: Casework, actor: Actor,
                       state: FSMContext, delivery: DeliveryWorker) -> None:
    report_id = int((await state.get_data()).get("report_id", 0))
    text, files = _content(message)
    if not files and not (text or "").strip():
        # Nothing to pass on: ask again rather than drop the question the citizen is answering.
        await message.answer(text_rule_error("too_short", 1))
        return
    await _send_reply(message, session, casework, actor, report_id, text, files, state, delivery)


async def more_given(message: Message, session: AsyncSession, casework: Casework, actor: Actor,
                     state: FSMContext, delivery: DeliveryWorker) -> None:
    data = await state.get_data()
    report_id = int(data.get("report_id", 0))
    album = data.get("album")
    if album is not None and message.media_group_id == album:
        # Telegram delivers an album one message per file: the rest of what was just sent.
        if data.get("kind") == "add":
            await _add(message, session, casework, actor, state, delivery, report_id, continuing=True)
            return
        if await reporter.accepts_more_reply(session, actor, report_id):
            text, files = _content(message)
            await _send_reply(message, session, casework, actor, report_id, text, files, state, delivery,
                              continuing=True)
            return
    # Anything else after the answer is something new: offered, never relayed unasked.
    await _offer(message, session, actor, state, report_id)


async def _offer(message: Message, session: AsyncSession, actor: Actor, state: FSMContext, report_id: int,
                 pending: dict[str, Any] | None = None) -> None:
    """"Add this to LPR-…?" The message waits in the FSM data until the citizen confirms."""
    try:
        report = await reporter.report_accepting_additions(session, actor, report_id)
    except Refused as exc:
        await state.clear()
        if exc.reason == Reason.MUTED:
            # Refused, and said so: nothing is dropped silently.
            await message.answer(refusal_text(exc.reason))
            return
        # Closed, or not theirs any more: the message is for the routers below.
        raise SkipHandler from None
    addition = _addition(message)
    data = pending or {"report_id": report.id, "text": None, "files": [], "location": None, "album": None}
    if addition.text:
        data["text"] = "\n".join(t for t in (data["text"], addition.text) if t)
    data["files"] = (data["files"] + _files_data(list(addition.files)))[:ADDITION_FILES_MAX]
    if addition.location is not None:
        data["location"] = list(addition.location)
    same_album = message.media_group_id is not None and message.media_group_id == data.get("album")
    data["album"] = message.media_group_id
    await state.set_state(ReporterForm.offer)
    await state.set_data(data)
    if same_album:
        return  # asked once per album
    await message.answer(
        _("➕ Add this to <code>{tracking_id}</code>? It goes to the officers handling the report.").format(
            tracking_id=esc(report.tracking_id)),
        reply_markup=kb.confirm_addition_kb(report.id),
    )


async def offer_given(message: Message, session: AsyncSession, actor: Actor, state: FSMContext) -> None:
    """More messages while the question is open: they join what waits for the answer."""
    data = await state.get_data()
    await _offer(message, session, actor, state, int(data.get("report_id", 0)), pending=data)


async def addition_confirmed(callback: CallbackQuery, callback_data: ReporterCb, session: AsyncSession,
                             casework: Casework, actor: Actor, state: FSMContext, delivery: DeliveryWorker,
                             bot: Bot) -> None:
    data = await state.get_data()
    if await state.get_state() != ReporterForm.offer.state or data.get("report_id") != callback_data.r:
        await callback.answer(_("This question has expired. Send your message again."), show_alert=True)
        return
    location = data.get("location")
    addition = Addition(data.get("text"), [FileRef(**f) for f in data.get("files", [])],
                        tuple(location) if location else None)
    report = await run_button_step(callback, delivery, reporter.add_information(
        session, casework, actor, callback_data.r, addition, utcnow()))
    if report is None:
        return
    await _back_to_after(state, report.id)
    await callback.answer()
    await _clear_buttons(callback)
    await bot.send_message(callback.from_user.id, _added_text(report.tracking_id))


async def addition_dropped(callback: CallbackQuery, callback_data: ReporterCb, state: FSMContext) -> None:
    data = await state.get_data()
    if await state.get_state() == ReporterForm.offer.state and data.get("report_id") == callback_data.r:
        await _back_to_after(state, callback_data.r)
    await callback.answer(_("Not sent."))
    await _clear_buttons(callback)


async def _back_to_after(state: FSMContext, report_id: int) -> None:
    # The next message is offered for this report again (no album continues: it was asked).
    await state.set_state(ReporterForm.more)
    await state.set_data({"report_id": report_id, "album": None, "kind": "add"})


async def _clear_buttons(callback: CallbackQuery) -> None:
    if isinstance(callback.message, Message):
        with suppress(TelegramBadRequest):
            await callback.message.edit_reply_markup(reply_markup=None)


def _added_text(tracking_id: str) -> str:
    return _("➕ Added to <code>{tracking_id}</code>; the officers handling it received it.").format(
        tracking_id=esc(tracking_id))


async def add_button(callback: CallbackQuery, callback_data: ReporterCb, session: AsyncSession,
                     casework: Casework, actor: Actor, state: FSMContext, bot: Bot) -> None:
    """➕ under a report in /laporan: the next message is added to it."""
    await _open_step(callback, session, casework, actor, Action.ADD_INFO, callback_data.r, state,
                     ReporterForm.addition, bot,
                     _("Send what you want to add to <code>{tracking_id}</code>: text, a photo, a document, a "
                       "location or a voice note. /batal cancels."))


async def addition_given(message: Message, session: AsyncSession, casework: Casework, actor: Actor,
                         state: FSMContext, delivery: DeliveryWorker) -> None:
    report_id = int((await state.get_data()).get("report_id", 0))
    await _add(message, session, casework, actor, state, delivery, report_id)


async def _add(message: Message, session: AsyncSession, casework: Casework, actor: Actor, state: FSMContext,
               delivery: DeliveryWorker, report_id: int, *, continuing: bool = False) -> None:
    try:
        report = await reporter.add_information(session, casework, actor, report_id, _addition(message),
                                                utcnow(), continuing=continuing)
    except Refused as exc:
        if exc.reason != Reason.INVALID:
            await state.clear()  # muted, over the limit, closed: this addition is over
        await message.answer(refusal_text(exc.reason))
        return
    delivery.wake()
    await state.set_state(ReporterForm.more)
    await state.set_data({"report_id": report.id, "album": message.media_group_id, "kind": "add"})
    if not continuing:
        await message.answer(_added_text(report.tracking_id))


async def unprompted(message: Message, session: AsyncSession, casework: Casework, actor: Actor,
                     state: FSMContext, delivery: DeliveryWorker) -> None:
    pending = await reporter.pending_questions(session, actor)
    if not pending:
        raise SkipHandler
    text, files = _content(message)
    if len(pending) == 1:
        await _send_reply(message, session, casework, actor, pending[0].id, text, files, state, delivery)
        return
    await state.set_state(ReporterForm.choose)
    await state.set_data({"text": text, "files": _files_data(files)})
    await message.answer(
        _("Several of your reports are waiting for an answer. Which one is this for?"),
        reply_markup=with_cancel(kb.choose_report_kb([(r.id, f"{r.tracking_id} · {r.title[:30]}")
                                                      for r in pending]), ReporterForm.__name__),
    )


async def chosen(callback: CallbackQuery, callback_data: ReporterCb, session: AsyncSession,
                 casework: Casework, actor: Actor, state: FSMContext, delivery: DeliveryWorker) -> None:
    data = await state.get_data()
    files = [FileRef(**f) for f in data.get("files", [])]
    await callback.answer()
    assert isinstance(callback.message, Message)
    await _send_reply(callback.message, session, casework, actor, callback_data.r, data.get("text"), files,
                      state, delivery)


async def satisfied(callback: CallbackQuery, callback_data: ReporterCb, session: AsyncSession,
                    casework: Casework, actor: Actor, bot: Bot) -> None:
    report = await _button_report(callback, session, casework, actor, Action.RATE, callback_data.r)
    if report is None:
        return
    await callback.answer()
    await bot.send_message(
        callback.from_user.id,
        _("How satisfied are you with the answer to <code>{tracking_id}</code>? 1 star is poor, "
          "5 stars is excellent.").format(tracking_id=esc(report.tracking_id)),
        reply_markup=kb.rating_kb(report.id),
    )


async def rated(callback: CallbackQuery, callback_data: ReporterCb, session: AsyncSession, casework: Casework,
                actor: Actor, state: FSMContext, delivery: DeliveryWorker, bot: Bot) -> None:
    report = await run_button_step(callback, delivery, reporter.accept_answer(
        session, casework, actor, callback_data.r, callback_data.v, utcnow()
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


async def comment_given(message: Message, session: AsyncSession, casework: Casework, actor: Actor,
                        state: FSMContext, delivery: DeliveryWorker) -> None:
    report_id = int((await state.get_data()).get("report_id", 0))
    if await run_text_step(message, state, delivery, reporter.add_rating_comment(
        session, casework, actor, report_id, message.text or "", utcnow()
    )) is not None:
        await message.answer(_("Thank you, your comment was passed on to the agency."))


async def comment_skipped(callback: CallbackQuery, callback_data: ReporterCb, state: FSMContext) -> None:
    # Only the comment step of this very report ends here: an old or forged Skip must not cost
    # a form (or another step) the citizen is in the middle of.
    data = await state.get_data()
    if await state.get_state() == ReporterForm.comment.state and data.get("report_id") == callback_data.r:
        await state.clear()
    await callback.answer(_("Thank you!"))


async def not_solved(callback: CallbackQuery, callback_data: ReporterCb, session: AsyncSession,
                     casework: Casework, actor: Actor, state: FSMContext, bot: Bot) -> None:
    report = await _button_report(callback, session, casework, actor, Action.DISPUTE, callback_data.r)
    if report is None:
        return
    await callback.answer()
    await state.set_state(ReporterForm.dispute)
    await state.set_data({"report_id": report.id})
    await bot.send_message(
        callback.from_user.id,
        _("What is not solved yet about <code>{tracking_id}</code>? Your reason goes to the agency. "
          "/batal cancels.").format(tracking_id=esc(report.tracking_id)),
        reply_markup=cancel_keyboard(ReporterForm.__name__),
    )


async def dispute_given(message: Message, session: AsyncSession, casework: Casework, actor: Actor,
                        state: FSMContext, delivery: DeliveryWorker) -> None:
    report_id = int((await state.get_data()).get("report_id", 0))
    await run_text_step(message, state, delivery, reporter.dispute_answer(
        session, casework, actor, report_id, message.text or "", utcnow()
    ))


# Registered last: what the steps above cannot use (a sticker, a voice note, a location; a photo
# where only text goes) is answered with what they expect; the step and its data stay.
_EXPECTS = {
    ReporterForm.answer.state: "reply",
    ReporterForm.addition.state: "addition",
    ReporterForm.comment.state: "comment",
    ReporterForm.dispute.state: "dispute",
}


async def wrong_kind(message: Message, state: FSMContext) -> None:
    expects = _EXPECTS.get(await state.get_state() or "", "reply")
    markup = None
    if expects == "comment":
        markup = kb.skip_comment_kb(int((await state.get_data()).get("report_id", 0)))
    await message.answer(wrong_kind_text(expects, REASON_MAX), reply_markup=markup)


def router() -> Router:
    r = Router(name=__name__)
    r.message.filter(PRIVATE_CHAT)
    r.callback_query.register(reply_button, ReporterCb.filter(F.a == ReporterAction.REPLY))
    r.message.register(answer_given, ReporterForm.answer, _REPLY_CONTENT, not_command)
    r.message.register(more_given, ReporterForm.more, _ADD_CONTENT, not_command)
    r.message.register(offer_given, ReporterForm.offer, _ADD_CONTENT, not_command)
    r.message.register(addition_given, ReporterForm.addition, _ADD_CONTENT, not_command)
    r.callback_query.register(add_button, ReporterCb.filter(F.a == ReporterAction.ADD_INFO))
    r.callback_query.register(addition_confirmed, ReporterCb.filter(F.a == ReporterAction.CONFIRM_ADD))
    r.callback_query.register(addition_dropped, ReporterCb.filter(F.a == ReporterAction.DROP_ADD))
    r.message.register(unprompted, StateFilter(None), _REPLY_CONTENT, not_command)
    r.callback_query.register(chosen, ReporterCb.filter(F.a == ReporterAction.CHOOSE), ReporterForm.choose)
    r.callback_query.register(satisfied, ReporterCb.filter(F.a == ReporterAction.SATISFIED))
    r.callback_query.register(rated, ReporterCb.filter(F.a == ReporterAction.RATE))
    r.message.register(comment_given, ReporterForm.comment, F.text, not_command)
    r.callback_query.register(comment_skipped, ReporterCb.filter(F.a == ReporterAction.SKIP_COMMENT))
    r.callback_query.register(not_solved, ReporterCb.filter(F.a == ReporterAction.NOT_SOLVED))
    r.message.register(dispute_given, ReporterForm.dispute, F.text, not_command)
    r.message.register(wrong_kind, StateFilter(ReporterForm.answer, ReporterForm.comment, ReporterForm.dispute,
                                                ReporterForm.addition), not_command)
    return r
