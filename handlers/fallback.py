"""What nobody else handled: a gentle pointer for messages, and an answer for every button no
router took: a stale one, or a staff button pressed by someone without the role (the audience
routers turned it away), so nothing is left spinning and nothing is done."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _


async def stale_button(callback: CallbackQuery) -> None:
    # Buttons of finished or abandoned forms stay in the chat; pressing one must not spin forever.
    await callback.answer(_("This button is no longer active."), show_alert=True)


async def unknown_message(message: Message) -> None:
    await message.answer(
        _(
            "I did not understand that. Send /lapor to file a report, /laporan to see your "
            "reports, or /bantuan for help."
        )
    )


def router() -> Router:
    r = Router(name=__name__)
    r.callback_query.register(stale_button)
    r.message.register(unknown_message, F.chat.type == "private")
    return r
