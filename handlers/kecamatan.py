"""A kecamatan officer's view of the kelurahan and desa under it (issue 13): from /kotak, their
overdue reports, each read-only, with one button to remind the village's officers. Acting on a
report stays with the village (the services refuse anything else, whatever the button says)."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.access import Actor, Refused
from bot.domain.workdays import WorkCalendar
from bot.services.casework import oversight
from bot.services.casework.core import Casework
from bot.services.delivery import DeliveryWorker
from bot.ui import case_keyboards as kb
from bot.ui.case_callbacks import KecamatanAction, KecamatanCb
from bot.ui.case_render import agency_case_parts
from bot.ui.form_step import refuse_button
from bot.ui.formatting import short_date
from bot.ui.render import esc, esc_truncate, split_html
from storage.base import utcnow


async def villages_overdue(callback: CallbackQuery, callback_data: KecamatanCb, session: AsyncSession,
                           actor: Actor, calendar: WorkCalendar, locale: str, bot: Bot) -> None:
    today = calendar.today()
    try:
        lines, page, pages, total = await oversight.overdue_page(session, actor, today, callback_data.p)
    except Refused as exc:
        await refuse_button(callback, exc)
        return
    await callback.answer()
    text = _("<b>Overdue in the villages under your kecamatan</b>: {total} · page {page} of {pages}\n"
             "You may look and remind; the village's officers act on them.").format(
        total=total, page=page + 1, pages=pages)
    if not lines:
        text += "\n\n" + _("None. Every village is on time.")
    items = [(line.report_id,
              f"{line.tracking_id} · {line.agency_name or ''} · {short_date(line.due, locale)}") for line in lines]
    await bot.send_message(callback.from_user.id, text, reply_markup=kb.villages_overdue_kb(items, page, pages))


async def open_village_case(callback: CallbackQuery, callback_data: KecamatanCb, session: AsyncSession,
                            actor: Actor, calendar: WorkCalendar, locale: str, bot: Bot) -> None:
    try:
        view = await oversight.overseer_case(session, actor, callback_data.r)
    except Refused as exc:
        await refuse_button(callback, exc)
        return
    await callback.answer()
    r = view.report
    parts = [_("👁 Read-only: the report of <b>{village}</b>.").format(
        village=esc_truncate(view.agency_names.get(r.agency_id, ""), 200) if r.agency_id else "")]
    parts += agency_case_parts(view, calendar, locale)
    messages = split_html(parts)
    for i, text in enumerate(messages):
        last = i == len(messages) - 1
        await bot.send_message(callback.from_user.id, text,
                               reply_markup=kb.overseer_case_kb(r.id, callback_data.p) if last else None)


async def remind(callback: CallbackQuery, callback_data: KecamatanCb, session: AsyncSession, actor: Actor,
                 casework: Casework, delivery: DeliveryWorker) -> None:
    try:
        report, sent = await oversight.remind_agency(session, casework, actor, callback_data.r, utcnow())
    except Refused as exc:
        await refuse_button(callback, exc)
        return
    if sent:
        delivery.wake()
        text = _("🔔 The village's officers were reminded of {tracking_id}.")
    else:
        text = _("{tracking_id} was already reminded today.")
    await callback.answer(text.format(tracking_id=esc(report.tracking_id)), show_alert=True)


def router() -> Router:
    r = Router(name=__name__)
    r.callback_query.register(villages_overdue, KecamatanCb.filter(F.a == KecamatanAction.LIST))
    r.callback_query.register(open_village_case, KecamatanCb.filter(F.a == KecamatanAction.OPEN))
    r.callback_query.register(remind, KecamatanCb.filter(F.a == KecamatanAction.REMIND))
    return r
