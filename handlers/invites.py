"""Officer invites: the deep link that binds an officer, and the admin's /undang.

Two routers: ``deep_link_router`` (the /start inv_... deep link, open to everyone; it must come
before handlers.start) and ``admin_router`` (/undang and its buttons, in the admin audience).
"""

from __future__ import annotations

import logging
from zoneinfo import ZoneInfo

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.commands import update_role_commands
from bot.config import Settings
from bot.domain.access import Actor
from bot.filters import PRIVATE_CHAT
from bot.services.officers import (
    INVITE_PREFIX,
    AgencyNotFound,
    RedeemOutcome,
    agency_choices,
    create_invite,
    find_agencies,
    redeem_invite,
)
from bot.services.ports import Notifier
from bot.ui.dialogs import with_cancel
from bot.ui.formatting import short_datetime
from bot.ui.officer_admin import InvitePageCb, InvitePickCb, agency_picker
from bot.ui.render import esc, esc_truncate
from storage.models import Citizen

log = logging.getLogger(__name__)
# How much of a search is echoed back: enough to spot a typo, never past Telegram's 4096.
QUERY_ECHO = 100


class InviteForm(StatesGroup):
    agency = State()  # waiting for the admin to type (part of) an agency name


# -- the deep link ---------------------------------------------------------------------------
async def open_invite(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    citizen: Citizen,
    actor: Actor,
    bot: Bot,
    i18n: I18n,
    locale: str,
    notifier: Notifier,
    settings: Settings,
) -> None:
    result = await redeem_invite(session, citizen, command.args or "", user=message.from_user,
                                 notifier=notifier, admin_ids=settings.roles.admin_ids)
    if not result.ok:
        await message.answer(_refusal(result.outcome))
        return
    assert result.agency is not None
    await message.answer(
        _(
            "✅ You are now a liaison officer of <b>{agency}</b>.\n"
            "\n"
            "Reports assigned to your agency will reach you here, with buttons to follow them "
            "up, ask the reporter for details, answer, or return them as not your authority.\n"
            "/kotak: your agency's open reports, overdue first."
        ).format(agency=esc(result.agency.name))
    )
    await update_role_commands(bot, i18n, session, message.chat.id, locale, officer=True, admin=actor.is_admin)


def _refusal(outcome: RedeemOutcome) -> str:
    if outcome is RedeemOutcome.RATE_LIMITED:
        return _("Too many attempts with invalid invite links. Please try again in an hour.")
    if outcome is RedeemOutcome.EXPIRED:
        return _("This invite link has expired. Ask the LAPOR! admin for a new one.")
    if outcome is RedeemOutcome.USED:
        return _("This invite link has already been used. Ask the LAPOR! admin for a new one.")
    return _("This invite link is not valid. Check that you opened the whole link, or ask the "
             "LAPOR! admin for a new one.")


# -- /undang (admins) ------------------------------------------------------------------------
async def invite_command(
    message: Message, command: CommandObject, session: AsyncSession, actor: Actor,
    state: FSMContext,
) -> None:
    await state.set_state(InviteForm.agency)
    if query := (command.args or "").strip():
        await _offer_matches(message, session, actor, query)
        return
    agencies, page, pages = await agency_choices(session, actor=actor)
    if not agencies:
        await state.clear()
        await message.answer(_("The agency directory is empty. Import it first with "
                               "<code>lapor-bot agencies import FILE</code>."))
        return
    await message.answer(_picker_text(), reply_markup=_with_cancel(agency_picker(agencies, page, pages)))


def _with_cancel(markup: InlineKeyboardMarkup) -> InlineKeyboardMarkup:
    return with_cancel(markup, InviteForm.__name__)


def _picker_text() -> str:
    return _("<b>Invite a liaison officer</b>\nWhich agency? Pick it below or type (part of) its "
             "name, e.g. <i>PUPR</i> or <i>Kesehatan</i>.")


async def agency_typed(message: Message, session: AsyncSession, actor: Actor) -> None:
    await _offer_matches(message, session, actor, message.text or "")


async def _offer_matches(message: Message, session: AsyncSession, actor: Actor, query: str) -> None:
    agencies = await find_agencies(session, query, actor=actor)
    if not agencies:
        await message.answer(
            _("No agency matches “{query}”. Type another part of its name.").format(
                query=esc_truncate(query, QUERY_ECHO))
        )
        return
    await message.answer(_("Which agency?"), reply_markup=_with_cancel(agency_picker(agencies)))


async def picker_page(
    callback: CallbackQuery, callback_data: InvitePageCb, session: AsyncSession, actor: Actor
) -> None:
    agencies, page, pages = await agency_choices(session, actor=actor, page=callback_data.page)
    await callback.answer()
    if isinstance(callback.message, Message):
        await callback.message.edit_text(_picker_text(),
                                         reply_markup=_with_cancel(agency_picker(agencies, page, pages)))


async def agency_picked(
    callback: CallbackQuery,
    callback_data: InvitePickCb,
    session: AsyncSession,
    actor: Actor,
    state: FSMContext,
    settings: Settings,
    bot: Bot,
) -> None:
    try:
        created = await create_invite(session, callback_data.agency_id, actor=actor)
    except AgencyNotFound:
        await callback.answer(_("That agency no longer exists or is inactive."), show_alert=True)
        return
    # Only the invite's own search step ends here; a picker pressed later leaves other steps be.
    if await state.get_state() == InviteForm.agency.state:
        await state.clear()
    await callback.answer()
    if isinstance(callback.message, Message):
        await callback.message.edit_reply_markup(reply_markup=None)
    me = await bot.me()
    await bot.send_message(
        callback.from_user.id,
        _(
            "🔗 Invite link for a liaison officer of <b>{agency}</b>:\n"
            "{link}\n"
            "\n"
            "It works once, for one person, until {expires}. Send it privately to the officer; "
            "whoever opens it first becomes an officer of this agency."
        ).format(
            agency=esc(created.agency.name),
            link=esc(created.link(me.username or "")),
            expires=short_datetime(created.invite.expires_at, ZoneInfo(settings.app.timezone)),
        ),
    )


def deep_link_router() -> Router:
    r = Router(name=__name__)
    r.message.filter(PRIVATE_CHAT)
    r.message.register(open_invite, CommandStart(deep_link=True, magic=F.args.startswith(INVITE_PREFIX)))
    return r


def admin_router() -> Router:
    r = Router(name=f"{__name__}.admin")
    r.message.filter(PRIVATE_CHAT)
    r.message.register(invite_command, Command("undang"))
    r.message.register(agency_typed, InviteForm.agency, F.text, ~F.text.startswith("/"))
    r.callback_query.register(picker_page, InvitePageCb.filter())
    r.callback_query.register(agency_picked, InvitePickCb.filter())
    return r
