"""/batal and every dialog's "Batal" button: the one way out of any multi-step dialog.

Placed before the audiences (``handlers/__init__.py``), so no step of any role can take /batal
as its text and no role filter stands in the way (an officer revoked mid-dialog can still leave
it). The dialogs and what cancelling each says are in ``bot/ui/dialogs.py``.
"""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message, ReplyKeyboardRemove

from bot.filters import PRIVATE_CHAT
from bot.ui.dialogs import DialogCancelCb, cancelled_text, group_of, nothing_to_cancel, stale_cancel
from bot.ui.form_step import drop_buttons


async def cancel_dialog(state: FSMContext, bot: Bot, chat_id: int) -> None:
    """Leave the dialog ``state`` is in and say what was dropped. A reply keyboard a step showed
    (the location step's) goes with it."""
    current = await state.get_state()
    await state.clear()
    text = cancelled_text(current) if current else nothing_to_cancel()
    await bot.send_message(chat_id, text, reply_markup=ReplyKeyboardRemove())


async def cancel_command(message: Message, state: FSMContext, bot: Bot) -> None:
    await cancel_dialog(state, bot, message.chat.id)


async def cancel_button(callback: CallbackQuery, callback_data: DialogCancelCb, state: FSMContext, bot: Bot) -> None:
    current = await state.get_state()
    if current is None or group_of(current) != callback_data.d:
        # An old dialog's button: it must not cancel whatever the user is doing now.
        await callback.answer(stale_cancel(), show_alert=True)
        await drop_buttons(callback)
        return
    await callback.answer()
    await drop_buttons(callback)
    await cancel_dialog(state, bot, callback.from_user.id)


def router() -> Router:
    r = Router(name=__name__)
    r.message.filter(PRIVATE_CHAT)
    r.message.register(cancel_command, Command("batal", "cancel"))
    r.callback_query.register(cancel_button, DialogCancelCb.filter())
    return r
