"""What nobody else handled: a pointer (or a report made of the message) for text, and an answer
for every button no router took: a stale one, or a staff button pressed by someone without the
role (the audience routers turned it away), so nothing is left spinning and nothing is done."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.config import Settings
from bot.domain.access import Reason
from bot.domain.text_rules import TextRuleError, validate_body
from bot.ui import intake_render as r
from bot.ui.case_callbacks import OfficerCb
from bot.ui.case_render import refusal_text
from bot.ui.citizen_keyboards import citizen_menu_keyboard
from bot.ui.intake_keyboards import report_from_text_kb
from handlers.intake.from_text import keep_offered_text
from handlers.start import ask_consent
from storage.models import Citizen


async def staff_only(callback: CallbackQuery) -> None:
    # An officer's button pressed by someone who is not an active officer: a member of the
    # agency's group chat, a revoked officer, a forged press. Nothing is done.
    await callback.answer(refusal_text(Reason.FORBIDDEN), show_alert=True)


async def stale_button(callback: CallbackQuery) -> None:
    # Buttons of finished or abandoned forms stay in the chat; pressing one must not spin forever.
    await callback.answer(_("This button is no longer active."), show_alert=True)


async def unknown_message(
    message: Message, state: FSMContext, bot: Bot, settings: Settings, citizen: Citizen | None = None
) -> None:
    # "Selamat siang, saya mau lapor lampu jalan mati di RT 05": often a newcomer's first
    # message. Long enough to be a description, it is kept and offered as a report's start.
    text = message.text or ""
    if text and not text.startswith("/") and await state.get_state() is None:
        try:
            validate_body(text)
        except TextRuleError:
            pass
        else:
            if citizen is not None and citizen.consent_at is None:
                # The notice promises that nothing but the Telegram id is kept before consent,
                # so a newcomer's message is not kept: they agree first, then send it again.
                await message.answer(r.agree_then_send_again())
                await ask_consent(bot, message.chat.id, settings.privacy)
                return
            await keep_offered_text(state, message.message_id, text)
            await message.answer(r.offer_report_from_text(), reply_markup=report_from_text_kb(message.message_id))
            return
    await message.answer(
        _(
            "I did not understand that. Send /lapor to file a report, /laporan to see your "
            "reports, or /bantuan for help."
        ),
        reply_markup=citizen_menu_keyboard(),
    )


def router() -> Router:
    r = Router(name=__name__)
    r.callback_query.register(staff_only, OfficerCb.filter())
    r.callback_query.register(stale_button)
    r.message.register(unknown_message, F.chat.type == "private")
    return r
