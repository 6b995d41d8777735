"""/instansi: the agency directory with officers and open/overdue counts, paginated; invite and
revoke from an agency's page (the officer screens' own buttons). Admins only."""

from __future__ import annotations

from collections import defaultdict

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.workdays import WorkCalendar
from bot.filters import IsAdmin
from bot.services.officers import OfficerView, agency_choices, list_officers
from bot.services.roles import Roles
from bot.services.statistics import agency_load
from bot.ui.admin_callbacks import DirAgencyCb, DirPageCb
from bot.ui.admin_keyboards import agency_keyboard, directory_keyboard, officer_line
from bot.ui.render import esc
from storage.repositories.agencies import AgencyRepo

router = Router(name=__name__)
router.message.filter(F.chat.type == "private", IsAdmin())
router.callback_query.filter(IsAdmin())


async def _page(session: AsyncSession, roles: Roles, calendar: WorkCalendar, page: int):
    agencies, page, pages = await agency_choices(session, roles=roles, page=page)
    if not agencies:
        return _("The agency directory is empty. Import it first with "
                 "<code>lapor-bot agencies import FILE</code>."), None
    load = await agency_load(session, calendar)
    officers: dict[int, list[OfficerView]] = defaultdict(list)
    for view in await list_officers(session, roles=roles):
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


@router.message(Command("instansi"))
async def directory(message: Message, session: AsyncSession, roles: Roles,
                    calendar: WorkCalendar) -> None:
    text, markup = await _page(session, roles, calendar, 0)
    await message.answer(text, reply_markup=markup)


@router.callback_query(DirPageCb.filter())
async def directory_page(callback: CallbackQuery, callback_data: DirPageCb, session: AsyncSession,
                         roles: Roles, calendar: WorkCalendar) -> None:
    text, markup = await _page(session, roles, calendar, callback_data.page)
    await callback.answer()
    if isinstance(callback.message, Message):
        await callback.message.edit_text(text, reply_markup=markup)


@router.callback_query(DirAgencyCb.filter())
async def agency_page(callback: CallbackQuery, callback_data: DirAgencyCb, session: AsyncSession,
                      roles: Roles, calendar: WorkCalendar) -> None:
    agency = await AgencyRepo(session).get(callback_data.agency_id)
    if agency is None:
        await callback.answer(_("That agency no longer exists."), show_alert=True)
        return
    officers = await list_officers(session, roles=roles, agency_id=agency.id)
    open_, overdue = (await agency_load(session, calendar)).get(agency.id, (0, 0))
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
