"""The overdue list behind the daily escalation's "Show all" button, paged. Admins only (the
admin audience's filter; the service asks the access rules again)."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.access import Actor
from bot.domain.workdays import WorkCalendar
from bot.services.overdue import overdue_page
from bot.ui.admin_callbacks import OverdueCb
from bot.ui.overdue_render import overdue_view


async def overdue_list(callback: CallbackQuery, callback_data: OverdueCb, session: AsyncSession,
                       actor: Actor, calendar: WorkCalendar) -> None:
    page = await overdue_page(session, actor, calendar.today(), callback_data.page)
    text, markup = overdue_view(page, calendar)
    await callback.answer()
    # The escalation's button opens the list below it; ◀/▶ then turn the list's own page.
    if callback_data.new or not isinstance(callback.message, Message):
        await callback.bot.send_message(callback.from_user.id, text, reply_markup=markup)
    else:
        await callback.message.edit_text(text, reply_markup=markup)


def router() -> Router:
    r = Router(name=__name__)
    r.callback_query.register(overdue_list, OverdueCb.filter())
    return r
