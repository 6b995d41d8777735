"""What nobody else handled: a gentle pointer for messages, an answer for stale buttons."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

router = Router(name=__name__)


@router.callback_query()
async def stale_button(callback: CallbackQuery) -> None:
    # Buttons of finished or abandoned forms stay in the chat; pressing one must not spin forever.
    await callback.answer(_("This button is no longer active."), show_alert=True)


@router.message(F.chat.type == "private")
async def unknown_message(message: Message) -> None:
    await message.answer(
        _(
            "I did not understand that. Send /lapor to file a report, /laporan to see your "
            "reports, or /bantuan for help."
        )
    )
