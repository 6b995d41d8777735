"""/datawarga <tracking ID | Telegram ID>: an admin acts on a citizen's data request made outside
the bot (a letter, a visit, an e-mail to the controller): a copy of the data, withdrawal of
consent, erasure of the identity. Each step asks for confirmation where destructive and is
audited (bot/services/data_rights.py)."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.domain.access import Actor, Refused
from bot.filters import PRIVATE_CHAT
from bot.services import data_rights
from bot.ui.case_render import refusal_text
from bot.ui.privacy import (
    DataRequestCb,
    PrivacyAction,
    data_request_keyboard,
    privacy_text,
    screen,
    staff_refusal,
)
from bot.ui.render import esc_truncate
from handlers.privacy import export_filename
from storage.base import utcnow
from storage.models import Citizen


async def lookup(message: Message, command: CommandObject, session: AsyncSession, actor: Actor,
                 settings: Settings, locale: str) -> None:
    query = (command.args or "").strip()
    if not query:
        await message.answer(_(
            "Send <code>/datawarga LPR-…</code> (a tracking ID of one of their reports) or "
            "<code>/datawarga 123456789</code> (their Telegram ID) to act on a citizen's request "
            "about their data made outside the bot."))
        return
    citizen = await data_rights.find(session, query, actor=actor)
    if citizen is None:
        await message.answer(_("No citizen found for “{query}”: an anonymous Open311 report, an "
                               "erased identity, or a typo.").format(query=esc_truncate(query, 40)))
        return
    await _show(message, session, citizen, settings, locale)


async def _show(message: Message, session: AsyncSession, citizen: Citizen, settings: Settings,
                locale: str) -> None:
    summary = await data_rights.summary(session, citizen)
    await message.answer(privacy_text(citizen, summary, settings.privacy.controller, locale),
                         reply_markup=data_request_keyboard(citizen.id))


async def pressed(callback: CallbackQuery, callback_data: DataRequestCb, session: AsyncSession, actor: Actor,
                  settings: Settings, locale: str, bot: Bot) -> None:
    citizen = await data_rights.by_id(session, callback_data.citizen_id, actor=actor)
    message = callback.message if isinstance(callback.message, Message) else None
    if citizen is None:
        await callback.answer(_("This citizen's identity is no longer stored."), show_alert=True)
        return
    action = callback_data.action
    try:
        if action is PrivacyAction.EXPORT:
            content = await data_rights.export(session, citizen, actor=actor, now=utcnow())
            await callback.answer()
            await bot.send_document(callback.from_user.id,
                                    BufferedInputFile(content, export_filename(citizen.telegram_id)),
                                    caption=_("📄 Everything stored about this citizen: give it to them "
                                              "by the channel their request came in."))
            return
        if action in (PrivacyAction.WITHDRAW, PrivacyAction.ERASE, PrivacyAction.CANCEL):
            # Only a wish until confirmed; whoever presses must be an admin (the audience filter).
            await callback.answer()
            if message is None:
                return
            summary = await data_rights.summary(session, citizen)
            text, markup = screen(action, citizen, summary, settings.privacy.controller, locale,
                                  lambda confirm: data_request_keyboard(citizen.id, confirm))
            await message.edit_text(text, reply_markup=markup)
            return
        step = (data_rights.withdraw_consent if action is PrivacyAction.WITHDRAW_YES
                else data_rights.erase_identity)
        outcome = await step(session, citizen, actor=actor, now=utcnow(), admin_ids=settings.roles.admin_ids)
    except Refused as exc:
        await callback.answer(refusal_text(exc.reason) if action is PrivacyAction.EXPORT else staff_refusal(),
                              show_alert=True)
        return
    await callback.answer()
    done = (_("✅ Consent withdrawn: {n} open report(s) continue anonymously; nothing more is sent "
              "to the citizen. Recorded in /audit.") if action is PrivacyAction.WITHDRAW_YES else
            _("✅ Identity erased: {n} report(s) are no longer linked to the citizen. Recorded in /audit."))
    if message is not None:
        await message.edit_text(done.format(n=outcome.reports_anonymised), reply_markup=None)


def router() -> Router:
    r = Router(name=__name__)
    r.message.filter(PRIVATE_CHAT)
    r.message.register(lookup, Command("datawarga"))
    r.callback_query.register(pressed, DataRequestCb.filter())
    return r
