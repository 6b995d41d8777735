"""A casework call from a form's text step (a comment, a reason, an answer) or from a button,
answered alike everywhere.

A text that breaks a rule keeps the form open and says why, so the user can send it again; a
refusal ends the form, since the same text sent again cannot succeed; a success ends it too
(unless the caller moves on to another step) and wakes the delivery loop for the messages the
service wrote to the outbox.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bot.domain.access import Reason, Refused
from bot.domain.text_rules import TextRuleError
from bot.services.delivery import DeliveryWorker
from bot.ui.case_render import refusal_text, text_rule_error

T = TypeVar("T")


async def run_text_step(
    message: Message,
    state: FSMContext,
    delivery: DeliveryWorker,
    call: Awaitable[T],
    *,
    keep_state: bool = False,
    invalid: tuple[type[Exception], ...] = (),
) -> T | None:
    """Await ``call`` (a casework service; its result is never None) and answer a failure;
    None when it failed. ``invalid``: further errors that mean stale or forged form data,
    answered as the "invalid" refusal."""
    try:
        result = await call
    except TextRuleError as exc:  # before ``invalid``: a TextRuleError is a ValueError too
        await message.answer(text_rule_error(exc.reason, exc.limit))
        return None
    except (Refused, *invalid) as exc:
        await state.clear()
        await message.answer(refusal_text(exc if isinstance(exc, Refused) else Reason.INVALID))
        return None
    if not keep_state:
        await state.clear()
    delivery.wake()
    return result


async def run_button_step(callback: CallbackQuery, delivery: DeliveryWorker, call: Awaitable[T]) -> T | None:
    """The same for a button pressed outside a form: a refusal is an alert on the button; on
    success the delivery loop is woken and the caller answers the callback."""
    try:
        result = await call
    except Refused as exc:
        await refuse_button(callback, exc)
        return None
    delivery.wake()
    return result


async def refuse_button(callback: CallbackQuery, exc: Refused) -> None:
    """Answer a refused button once, as an alert. When the report moved on (the refusal knows
    its status now), the buttons of the kind just pressed go from that message: they can no
    longer act. Others stay (a card's category and SP4N-LAPOR! buttons work in any status)."""
    await callback.answer(refusal_text(exc), show_alert=True)
    if exc.status is not None:
        await drop_buttons_like(callback)


async def drop_buttons(callback: CallbackQuery) -> None:
    """The pressed message loses all its buttons (a notice answered, a dialog left)."""
    if isinstance(callback.message, Message) and callback.message.reply_markup is not None:
        await callback.message.edit_reply_markup(reply_markup=None)


async def drop_buttons_like(callback: CallbackQuery) -> None:
    """Remove from the pressed message every button with the pressed one's callback prefix."""
    message = callback.message
    if not isinstance(message, Message) or message.reply_markup is None or not callback.data:
        return
    prefix = callback.data.split(":", 1)[0] + ":"
    shown = message.reply_markup.inline_keyboard
    rows = [[b for b in row if not (b.callback_data or "").startswith(prefix)] for row in shown]
    rows = [row for row in rows if row]
    if rows == shown:
        return
    await message.edit_reply_markup(reply_markup=InlineKeyboardMarkup(inline_keyboard=rows) if rows else None)
