"""The liaison officer's side: notification buttons, /kotak, asking, answering, returning (the
response templates' own command is in ``handlers/templates.py``).

The services ask the access rules (the officer's agencies, the report's status) on every press,
so a forged or stale button gets a refusal, never an action.
"""

from __future__ import annotations

from contextlib import suppress

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.base import StorageKey
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.access import Action, Actor, Reason, Refused
from bot.domain.text_rules import REASON_MAX, TextRuleError, validate_reason
from bot.domain.workdays import WorkCalendar
from bot.filters import PRIVATE_CHAT, not_command
from bot.services.casework import followup, oversight, reporter, templates
from bot.services.casework.core import Casework
from bot.services.delivery import DeliveryWorker
from bot.ui import case_keyboards as kb
from bot.ui.case_callbacks import DraftAction, DraftCb, OfficerAction, OfficerCb, TemplateCb
from bot.ui.case_render import (
    agency_case_parts,
    inbox_button_label,
    inbox_header,
    refusal_text,
    text_rule_error,
    wrong_kind_text,
)
from bot.ui.dialogs import with_cancel
from bot.ui.form_step import drop_buttons, drop_buttons_like, refuse_button, run_button_step, run_text_step
from bot.ui.render import esc, split_html
from bot.ui.template_render import draft_from_template, draft_replaced, draft_to_copy, edited_draft
from storage.base import utcnow

# The buttons that open a text step, and the action the text will do.
_TEXT_ACTIONS = {
    OfficerAction.ASK: Action.ASK,
    OfficerAction.ANSWER: Action.ANSWER,
    OfficerAction.RETURN: Action.RETURN,
}


class OfficerForm(StatesGroup):
    text = State()  # data: action, report_id
    # A draft shown to the officer (from a template, or their edit of it), sent only when they
    # press "send"; data: + draft, draft_message_id (the message whose buttons act on it)
    draft = State()


async def inbox(message: Message, session: AsyncSession, actor: Actor, calendar: WorkCalendar,
                bot: Bot) -> None:
    await _send_inbox(bot, message.chat.id, session, actor, calendar, 0)


async def _send_inbox(bot: Bot, chat_id: int, session: AsyncSession, actor: Actor,
                      calendar: WorkCalendar, page: int) -> None:
    result = await followup.agency_inbox(session, actor, page)
    today = calendar.today()
    text = inbox_header(result.total, result.page, result.pages)
    if not result.reports:
        text += "\n\n" + _("No open reports. Well done!")
    items = [(r.id, inbox_button_label(r, today)) for r in result.reports]
    villages = await oversight.overdue_count(session, actor, today)
    await bot.send_message(chat_id, text, reply_markup=kb.inbox_kb(items, result.page, result.pages,
                                                                      villages_overdue=villages))


async def inbox_page(callback: CallbackQuery, callback_data: OfficerCb, session: AsyncSession,
                     actor: Actor, calendar: WorkCalendar, bot: Bot) -> None:
    try:
        await _send_inbox(bot, callback.from_user.id, session, actor, calendar, callback_data.p)
    except Refused as exc:
        await refuse_button(callback, exc)
        return
    await callback.answer()


async def open_case(callback: CallbackQuery, callback_data: OfficerCb, session: AsyncSession,
                    actor: Actor, calendar: WorkCalendar, locale: str, bot: Bot) -> None:
    try:
        view = await followup.officer_case(session, actor, callback_data.r)
    except Refused as exc:
        await refuse_button(callback, exc)
        return
    await callback.answer()
    r = view.report
    messages = split_html(agency_case_parts(view, calendar, locale))
    markup = kb.officer_actions_kb(r.id, r.status)
    for i, text in enumerate(messages):
        last = i == len(messages) - 1
        await bot.send_message(callback.from_user.id, text,
                               reply_markup=markup if last and markup.inline_keyboard else None)


async def take(callback: CallbackQuery, callback_data: OfficerCb, session: AsyncSession, actor: Actor,
               casework: Casework, delivery: DeliveryWorker, bot: Bot) -> None:
    report = await run_button_step(callback, delivery, followup.take_report(
        session, casework, actor, callback_data.r, utcnow()
    ))
    if report is None:
        return
    await callback.answer(_("You took it up."))
    await drop_buttons_like(callback)  # "Ambil" is done; the message below has what comes next
    await bot.send_message(
        callback.from_user.id,
        _("🛠 <code>{tracking_id}</code> is now in progress. The reporter was told. Answer by "
          "tapping a button below.").format(tracking_id=esc(report.tracking_id)),
        reply_markup=kb.officer_actions_kb(report.id, report.status),
    )


def _private_state(state: FSMContext, callback: CallbackQuery) -> FSMContext:
    """A button pressed in the agency's group chat: the text step runs in the officer's private
    chat, so nothing written in the group is ever taken for an answer to the reporter."""
    message = callback.message
    if message is None or message.chat.type == "private":
        return state
    user_id = callback.from_user.id
    return FSMContext(storage=state.storage, key=StorageKey(state.key.bot_id, chat_id=user_id, user_id=user_id))


async def mute(callback: CallbackQuery, callback_data: OfficerCb, session: AsyncSession, actor: Actor,
               delivery: DeliveryWorker) -> None:
    """🔇 under a relayed message: the reporter's additions on this report stop (or resume)."""
    muted = callback_data.a == OfficerAction.MUTE
    report = await run_button_step(callback, delivery, reporter.set_relays_muted(
        session, actor, callback_data.r, muted=muted, now=utcnow()
    ))
    if report is None:
        return
    if muted:
        text = _("🔇 Muted: the reporter's further messages on {tracking_id} are refused (they are told "
                 "so). Answers to your questions still arrive.").format(tracking_id=report.tracking_id)
    else:
        text = _("🔔 The reporter may add messages to {tracking_id} again.").format(tracking_id=report.tracking_id)
    await callback.answer(text, show_alert=True)
    if isinstance(callback.message, Message) and callback.message.reply_markup is not None:
        # The same message now offers the opposite.
        rows = [[b for b in row if not (b.callback_data or "").startswith(("oc:mu:", "oc:um:"))]
                for row in callback.message.reply_markup.inline_keyboard]
        rows = [row for row in rows if row] + [[kb.mute_reporter_button(report.id, muted=muted)]]
        with suppress(TelegramBadRequest):
            await callback.message.edit_reply_markup(reply_markup=InlineKeyboardMarkup(inline_keyboard=rows))


async def ask_for_text(callback: CallbackQuery, callback_data: OfficerCb, session: AsyncSession,
                       actor: Actor, state: FSMContext, bot: Bot) -> None:
    try:
        report = await followup.report_for(session, actor, _TEXT_ACTIONS[callback_data.a], callback_data.r)
    except Refused as exc:
        await refuse_button(callback, exc)
        return
    in_group = callback.message is not None and callback.message.chat.type != "private"
    await callback.answer(_("Write it in your private chat with the bot.") if in_group else None)
    state = _private_state(state, callback)
    await state.set_state(OfficerForm.text)
    await state.set_data({"action": callback_data.a.value, "report_id": callback_data.r})
    prompts = {
        OfficerAction.ASK: _("Write your question for the reporter of <code>{tracking_id}</code>."),
        OfficerAction.ANSWER: _("Write the agency's answer to <code>{tracking_id}</code>."),
        OfficerAction.RETURN: _("Why is <code>{tracking_id}</code> not your agency's authority? "
                                "The admin reads this to forward it."),
    }
    text = prompts[callback_data.a].format(tracking_id=esc(report.tracking_id))
    found = await templates.templates_for(session, actor)
    if found:
        text += "\n" + _("Or pick a template below.")
    text += "\n" + _("/batal cancels.")
    await bot.send_message(callback.from_user.id, text, reply_markup=with_cancel(
        kb.templates_kb([(t.id, t.title) for t in found]), OfficerForm.__name__))


async def _act(session: AsyncSession, casework: Casework, actor: Actor, data: dict, text: str) -> str:
    action = OfficerAction(data.get("action"))
    report_id = int(data.get("report_id", 0))
    now = utcnow()
    if action == OfficerAction.ASK:
        await followup.request_info(session, casework, actor, report_id, text, now)
        return _("❓ Your question was sent to the reporter. Their answer will come here.")
    if action == OfficerAction.ANSWER:
        await followup.answer_report(session, casework, actor, report_id, text, now)
        return _("✅ Your answer was sent to the reporter, who may reply within 10 working days.")
    await followup.return_report(session, casework, actor, report_id, text, now)
    return _("↩️ The report went back to the admin to be forwarded to the right agency.")


async def text_given(message: Message, session: AsyncSession, actor: Actor, casework: Casework,
                     state: FSMContext, delivery: DeliveryWorker) -> None:
    data = await state.get_data()
    done = await run_text_step(
        message, state, delivery,
        _act(session, casework, actor, data, message.text or ""),
        invalid=(ValueError,),  # form data that does not parse (an unknown action)
    )
    if done is not None:
        await message.answer(done)


async def template_picked(callback: CallbackQuery, callback_data: TemplateCb, session: AsyncSession,
                          actor: Actor, state: FSMContext, bot: Bot) -> None:
    """A template opens as a draft: its words are shown, nothing goes to the reporter until the
    officer sends it as it is or sends their own version and confirms that."""
    data = await state.get_data()
    try:
        report_id = int(data.get("report_id", 0))
        action = _TEXT_ACTIONS[OfficerAction(data.get("action"))]
        template = await templates.usable_template(session, actor, callback_data.t)
        await followup.report_for(session, actor, action, report_id)
    except (Refused, ValueError, KeyError) as exc:
        await callback.answer(refusal_text(exc if isinstance(exc, Refused) else Reason.INVALID),
                              show_alert=True)
        return
    await callback.answer()
    await _show_draft(bot, callback.from_user.id, state, report_id, template.body,
                      draft_from_template(template.title, template.body), edited=False)


async def _show_draft(bot: Bot, chat_id: int, state: FSMContext, report_id: int, draft: str, shown: str,
                      *, edited: bool) -> None:
    if replaced := (await state.get_data()).get("draft_message_id"):
        # The previous draft's buttons go: only the latest draft can be sent.
        with suppress(TelegramBadRequest):
            await bot.edit_message_reply_markup(chat_id=chat_id, message_id=replaced, reply_markup=None)
    await state.set_state(OfficerForm.draft)
    await state.update_data(draft=draft, draft_message_id=None)
    sent = await bot.send_message(chat_id, shown, reply_markup=with_cancel(
        kb.draft_kb(report_id, edited=edited), OfficerForm.__name__))
    # Only the buttons under this message act on this draft: an older preview's "send" must not
    # send a text the officer has replaced since.
    await state.update_data(draft_message_id=sent.message_id)


async def _current_draft(callback: CallbackQuery, callback_data: DraftCb, state: FSMContext) -> dict | None:
    """The form's data when the pressed button is under the draft shown last, else None (answered)."""
    data = await state.get_data()
    message_id = callback.message.message_id if callback.message is not None else None
    if callback_data.r != data.get("report_id") or message_id != data.get("draft_message_id"):
        await callback.answer(draft_replaced(), show_alert=True)
        return None
    return data


async def draft_send(callback: CallbackQuery, callback_data: DraftCb, session: AsyncSession, actor: Actor,
                     casework: Casework, state: FSMContext, delivery: DeliveryWorker, bot: Bot) -> None:
    data = await _current_draft(callback, callback_data, state)
    if data is None:
        return
    try:
        done = await _act(session, casework, actor, data, str(data.get("draft", "")))
    except Refused as exc:  # the report moved on: this text step cannot succeed any more
        await state.clear()
        await refuse_button(callback, exc)
        return
    except ValueError:  # stale form data (or a text the rules refuse: it was checked when shown)
        await state.clear()
        await callback.answer(refusal_text(Reason.INVALID), show_alert=True)
        return
    await state.clear()
    delivery.wake()
    await callback.answer()
    await drop_buttons(callback)
    await bot.send_message(callback.from_user.id, done)


async def draft_edit(callback: CallbackQuery, callback_data: DraftCb, state: FSMContext, bot: Bot) -> None:
    """"Ubah": the draft as text to copy; whatever the officer sends next is their version."""
    data = await _current_draft(callback, callback_data, state)
    if data is None:
        return
    await callback.answer()
    await bot.send_message(callback.from_user.id, draft_to_copy(str(data.get("draft", ""))),
                           reply_markup=with_cancel(None, OfficerForm.__name__))


async def draft_text_given(message: Message, state: FSMContext, bot: Bot) -> None:
    """The officer's own version of a draft: checked now, shown back, sent only once confirmed."""
    try:
        text = validate_reason(message.text or "")
    except TextRuleError as exc:
        await message.answer(text_rule_error(exc.reason, exc.limit))
        return
    report_id = int((await state.get_data()).get("report_id", 0))
    await _show_draft(bot, message.chat.id, state, report_id, text, edited_draft(text), edited=True)


# Registered last: anything the text step above cannot use (a sticker, a voice note, a photo, a
# location...) is answered with what the step expects; the step and its data stay. Commands
# pass through to the routers below.
async def wrong_kind(message: Message, session: AsyncSession, actor: Actor, state: FSMContext) -> None:
    action = (await state.get_data()).get("action")
    expects = {
        OfficerAction.ASK.value: "question",
        OfficerAction.ANSWER.value: "answer",
        OfficerAction.RETURN.value: "return",
    }.get(action, "answer")
    text = wrong_kind_text(expects, REASON_MAX)
    if await templates.templates_for(session, actor):
        text += "\n" + _("Or pick a template above.")
    await message.answer(text)


def router() -> Router:
    r = Router(name=__name__)
    r.message.filter(PRIVATE_CHAT)
    r.message.register(inbox, Command("kotak"))
    r.callback_query.register(inbox_page, OfficerCb.filter(F.a == OfficerAction.LIST))
    r.callback_query.register(open_case, OfficerCb.filter(F.a == OfficerAction.OPEN))
    r.callback_query.register(take, OfficerCb.filter(F.a == OfficerAction.TAKE))
    r.callback_query.register(mute, OfficerCb.filter(F.a.in_({OfficerAction.MUTE, OfficerAction.UNMUTE})))
    r.callback_query.register(ask_for_text, OfficerCb.filter(F.a.in_(set(_TEXT_ACTIONS))))
    r.message.register(text_given, OfficerForm.text, F.text, not_command)
    r.message.register(draft_text_given, OfficerForm.draft, F.text, not_command)
    # Another template while a draft is shown replaces the draft.
    r.callback_query.register(template_picked, TemplateCb.filter(), StateFilter(OfficerForm.text, OfficerForm.draft))
    r.callback_query.register(draft_send, DraftCb.filter(F.a == DraftAction.SEND), OfficerForm.draft)
    r.callback_query.register(draft_edit, DraftCb.filter(F.a == DraftAction.EDIT), OfficerForm.draft)
    r.message.register(wrong_kind, StateFilter(OfficerForm.text, OfficerForm.draft), not_command)
    return r
