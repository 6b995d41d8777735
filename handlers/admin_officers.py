"""/petugas: the admin's list of liaison officers, with revoking (button, then confirm)."""

from __future__ import annotations

import logging

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.commands import update_role_commands
from bot.config import Settings
from bot.domain.access import Actor
from bot.domain.paging import clamp_page
from bot.filters import PRIVATE_CHAT
from bot.services.officers import OfficerView, get_officer, list_officers, revoke_officer
from bot.services.ports import Notifier
from bot.ui.officer_admin import (
    OfficerAction,
    OfficerCb,
    OfficerPageCb,
    officer_list_keyboard,
    revoke_confirm_keyboard,
)
from bot.ui.render import esc

log = logging.getLogger(__name__)


PAGE = 10


def _identity(view: OfficerView) -> str:
    # Admins may see identities (domain.md, privacy); agencies never get this screen.
    handle = f" (@{esc(view.username)})" if view.username else ""
    return f"{esc(view.display_name)}{handle} · <code>{view.telegram_id}</code>"


def _page_text(views: list[OfficerView], total: int, page: int, pages: int) -> str:
    lines = [_("<b>Liaison officers</b> ({total})").format(total=total)]
    agency = None
    for view in views:
        if view.agency_name != agency:
            agency = view.agency_name
            lines.append(f"\n<b>{esc(agency)}</b>")
        lines.append(f"• {_identity(view)}")
    if pages > 1:
        lines.append("\n" + _("Page {page} of {pages}").format(page=page + 1, pages=pages))
    return "\n".join(lines)


async def _render(session: AsyncSession, actor: Actor, page: int):
    views = await list_officers(session, actor=actor)
    page, pages = clamp_page(page, len(views), PAGE)
    chunk = views[page * PAGE:(page + 1) * PAGE]
    if not views:
        return _("No liaison officers yet. Invite one with /undang."), None
    return _page_text(chunk, len(views), page, pages), officer_list_keyboard(chunk, page, pages)


async def officers_command(message: Message, session: AsyncSession, actor: Actor) -> None:
    text, markup = await _render(session, actor, 0)
    await message.answer(text, reply_markup=markup)


async def officers_page(
    callback: CallbackQuery, callback_data: OfficerPageCb, session: AsyncSession, actor: Actor
) -> None:
    text, markup = await _render(session, actor, callback_data.page)
    await callback.answer()
    if isinstance(callback.message, Message):
        await callback.message.edit_text(text, reply_markup=markup)


async def revoke_asked(
    callback: CallbackQuery, callback_data: OfficerCb, session: AsyncSession, actor: Actor
) -> None:
    view = await get_officer(session, callback_data.officer_id, actor=actor)
    if view is None:
        await callback.answer(_("This officer has already been revoked."), show_alert=True)
        return
    await callback.answer()
    if isinstance(callback.message, Message):
        await callback.message.edit_text(
            _("Revoke {who} as liaison officer of <b>{agency}</b>? They lose access at once.").format(
                who=_identity(view), agency=esc(view.agency_name)
            ),
            reply_markup=revoke_confirm_keyboard(view.officer_id),
        )


async def revoke_cancelled(
    callback: CallbackQuery, session: AsyncSession, actor: Actor
) -> None:
    text, markup = await _render(session, actor, 0)
    await callback.answer(_("Cancelled."))
    if isinstance(callback.message, Message):
        await callback.message.edit_text(text, reply_markup=markup)


async def revoke_confirmed(
    callback: CallbackQuery,
    callback_data: OfficerCb,
    session: AsyncSession,
    actor: Actor,
    notifier: Notifier,
    settings: Settings,
    bot: Bot,
    i18n: I18n,
) -> None:
    result = await revoke_officer(session, callback_data.officer_id, actor=actor, notifier=notifier)
    if result is None:
        await callback.answer(_("This officer no longer exists."), show_alert=True)
        return
    if result.already_revoked:
        await callback.answer(_("This officer has already been revoked."), show_alert=True)
    else:
        await callback.answer(_("Revoked."))
        await update_role_commands(
            bot, i18n, session, result.telegram_id, result.language or i18n.default_locale,
            officer=result.still_officer, admin=result.telegram_id in settings.roles.admin_ids,
        )
    if isinstance(callback.message, Message):
        await callback.message.edit_text(
            _("Liaison officer of <b>{agency}</b> revoked.").format(agency=esc(result.agency_name)),
            reply_markup=None,
        )


def router() -> Router:
    r = Router(name=__name__)
    r.message.filter(PRIVATE_CHAT)
    r.message.register(officers_command, Command("petugas"))
    r.callback_query.register(officers_page, OfficerPageCb.filter())
    r.callback_query.register(revoke_asked, OfficerCb.filter(F.action == OfficerAction.ASK))
    r.callback_query.register(revoke_cancelled, OfficerCb.filter(F.action == OfficerAction.NO))
    r.callback_query.register(revoke_confirmed, OfficerCb.filter(F.action == OfficerAction.YES))
    return r
