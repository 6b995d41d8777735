"""/instansi: the agency directory with officers and open/overdue counts, paginated; invite and
revoke from an agency's page (the officer screens' own buttons). Admins only."""

from __future__ import annotations

from collections import defaultdict

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.access import Actor
from bot.domain.workdays import WorkCalendar
from bot.filters import PRIVATE_CHAT
from bot.services.officers import OfficerView, agency_choices, get_agency, list_officers
from bot.services.statistics import agency_load
from bot.ui.admin_callbacks import DirAgencyCb, DirPageCb
from bot.ui.admin_keyboards import agency_keyboard, directory_keyboard, officer_line
from bot.ui.render import esc


async def _page(session: AsyncSession, actor: Actor, calendar: WorkCalendar, page: int):
    agencies, page, pages = await agency_choices(session, actor=actor, page=page)
    if not agencies:
        return _("The agency directory is empty. Import it first with "
                 "<code>lapor-bot agencies import FILE</code>."), None
    load = await agency_load(session, calendar)
    officers: dict[int, list[OfficerView]] = defaultdict(list)
    for view in await list_officers(session, actor=actor):
        officers[view.agency_id].append(view)
    lines = [_("🏛 <b>Agencies</b> (page {page} of {pages})").format(page=page + 1, pages=pages)]
    for agency in agencies:
        open_, overdue = load.get(agency.id, (0, 0))
        names = ", ".join(esc(v.display_name) for v in officers[agency.id]) or _("no officer yet")
        lines.append(
            _("\n<b>{name}</b>\nOpen: {open} · Overdue: {overdue}\nOfficers: {officers}").format(
                name=esc(agency.name), open=open_, overdue=overdue, officers=names)
        )
    unassigned = load.get(None)
    if unassigned and page == 0:
        lines.append(_("\nNot assigned yet: {open} open, {overdue} overdue").format(
            open=unassigned[0], overdue=unassigned[1]))
    lines.append(_("\nPick an agency to invite or revoke its officers."))
    return "\n".join(lines), directory_keyboard(agencies, page, pages)


async def directory(message: Message, session: AsyncSession, actor: Actor,
                    calendar: WorkCalendar) -> None:
    text, markup = await _page(session, actor, calendar, 0)
    await message.answer(text, reply_markup=markup)


async def directory_page(callback: CallbackQuery, callback_data: DirPageCb, session: AsyncSession,
                         actor: Actor, calendar: WorkCalendar) -> None:
    text, markup = await _page(session, actor, calendar, callback_data.page)
    await callback.answer()
    if isinstance(callback.message, Message):
        await callback.message.edit_text(text, reply_markup=markup)


async def agency_page(callback: CallbackQuery, callback_data: DirAgencyCb, session: AsyncSession,
                      actor: Actor, calendar: WorkCalendar) -> None:
    agency = await get_agency(session, callback_data.agency_id, actor=actor)
    if agency is None:
        await callback.answer(_("That agency no longer exists."), show_alert=True)
        return
    officers = await list_officers(session, actor=actor, agency_id=agency.id)
    open_, overdue = (await agency_load(session, calendar, agency_ids=[agency.id])).get(agency.id, (0, 0))
    lines = [
        f"🏛 <b>{esc(agency.name)}</b>",
        _("Open: {open} · Overdue: {overdue}").format(open=open_, overdue=overdue),
        "",
        _("<b>Liaison officers</b>"),
    ]
    lines += [officer_line(v) for v in officers] or [_("no officer yet")]
    await callback.answer()
    if isinstance(callback.message, Message):
        await callback.message.edit_text(
            "\n".join(lines), reply_markup=agency_keyboard(agency.id, officers, callback_data.page))


def router() -> Router:
    r = Router(name=__name__)
    r.message.filter(PRIVATE_CHAT)
    r.message.register(directory, Command("instansi"))
    r.callback_query.register(directory_page, DirPageCb.filter())
    r.callback_query.register(agency_page, DirAgencyCb.filter())
    return r
