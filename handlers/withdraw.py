"""Withdrawing one's own report (from its view in /laporan): the reason, then a confirmation.

The button carries only the report; the reason waits in the FSM until the citizen confirms.
Whether the citizen may withdraw is asked of the service at every step (a forged button for
someone else's report is refused like a stale one).
"""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.access import Action, Actor, Refused
from bot.domain.text_rules import REASON_MAX, TextRuleError, validate_reason
from bot.filters import PRIVATE_CHAT, not_command
from bot.services.casework import reporter
from bot.services.casework.core import Casework
from bot.services.delivery import DeliveryWorker
from bot.ui.case_render import text_rule_error, wrong_kind_text
from bot.ui.citizen_callbacks import WithdrawAction, WithdrawCb
from bot.ui.citizen_keyboards import withdraw_confirm_keyboard
from bot.ui.dialogs import cancel_keyboard
from bot.ui.form_step import refuse_button, run_button_step
from bot.ui.render import esc
from storage.base import utcnow


class WithdrawForm(StatesGroup):
    reason = State()  # data: report_id
    confirm = State()  # data: report_id, reason


async def ask(callback: CallbackQuery, callback_data: WithdrawCb, session: AsyncSession, casework: Casework,
              actor: Actor, state: FSMContext, bot: Bot) -> None:
    try:
        report = await reporter.report_for(session, casework, actor, Action.WITHDRAW, callback_data.report_id,
                                           utcnow())
    except Refused as exc:
        await refuse_button(callback, exc)
        return
    await callback.answer()
    await state.set_state(WithdrawForm.reason)
    await state.set_data({"report_id": report.id})
    await bot.send_message(
        callback.from_user.id,
        _("Why do you want to withdraw <code>{tracking_id}</code>? Write the reason in a few words: it "
          "goes to the admin and the agency, without your name. /batal cancels.").format(
            tracking_id=esc(report.tracking_id)),
        reply_markup=cancel_keyboard(WithdrawForm.__name__),
    )


async def reason_given(message: Message, state: FSMContext) -> None:
    data = await state.get_data()
    try:
        reason = validate_reason(message.text or "")
    except TextRuleError as exc:
        await message.answer(text_rule_error(exc.reason, exc.limit))
        return
    report_id = int(data.get("report_id", 0))
    await state.set_state(WithdrawForm.confirm)
    await state.set_data({"report_id": report_id, "reason": reason})
    await message.answer(
        _("Withdraw this report? It cannot be undone: nobody will follow it up any more.\n\n"
          "<b>Reason:</b> {reason}").format(reason=esc(reason)),
        reply_markup=withdraw_confirm_keyboard(report_id),
    )


async def _pending(state: FSMContext, report_id: int) -> str | None:
    """The reason waiting for this very report's confirmation, if any."""
    data = await state.get_data()
    if await state.get_state() != WithdrawForm.confirm.state or data.get("report_id") != report_id:
        return None
    return data.get("reason")


async def confirm(callback: CallbackQuery, callback_data: WithdrawCb, session: AsyncSession, casework: Casework,
                  actor: Actor, state: FSMContext, delivery: DeliveryWorker) -> None:
    reason = await _pending(state, callback_data.report_id)
    if reason is None:
        await callback.answer(_("This confirmation is no longer valid. Open the report in /laporan again."),
                              show_alert=True)
        return
    report = await run_button_step(callback, delivery, reporter.withdraw(
        session, casework, actor, callback_data.report_id, reason, utcnow()))
    await state.clear()
    if report is None:
        return
    await callback.answer(_("Withdrawn."))
    if isinstance(callback.message, Message):
        await callback.message.edit_text(
            _("🚫 <code>{tracking_id}</code> is withdrawn. The admin and the agency were told. You can file "
              "a new report any time with /lapor.").format(tracking_id=esc(report.tracking_id)))


async def keep(callback: CallbackQuery, callback_data: WithdrawCb, state: FSMContext) -> None:
    if await _pending(state, callback_data.report_id) is not None:
        await state.clear()
    await callback.answer(_("Your report stays as it is."))
    if isinstance(callback.message, Message):
        await callback.message.edit_reply_markup(reply_markup=None)


async def wrong_kind(message: Message) -> None:
    await message.answer(wrong_kind_text("withdraw", REASON_MAX))


def router() -> Router:
    r = Router(name=__name__)
    r.message.filter(PRIVATE_CHAT)
    r.callback_query.register(ask, WithdrawCb.filter(F.action == WithdrawAction.ASK))
    r.callback_query.register(confirm, WithdrawCb.filter(F.action == WithdrawAction.CONFIRM))
    r.callback_query.register(keep, WithdrawCb.filter(F.action == WithdrawAction.KEEP))
    r.message.register(reason_given, WithdrawForm.reason, F.text, not_command)
    r.message.register(wrong_kind, WithdrawForm.reason, not_command)
    return r
