"""The overdue list (tunggakan), a page at a time: the line shared with the escalation."""

from __future__ import annotations

from datetime import date

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.domain.workdays import WorkCalendar
from bot.services.overdue import OverduePage
from bot.ui.admin_callbacks import OverdueCb
from bot.ui.formatting import number, short_date
from bot.ui.pager import add_pager
from bot.ui.render import esc, esc_truncate
from storage.repositories.overdue import OverdueLine


def overdue_line(r: OverdueLine, today: date, calendar: WorkCalendar, locale: str | None = None) -> str:
    """A report in the overdue list: who it waits for, since when."""
    days = calendar.working_days_between(r.due, today)
    waits_for = esc(r.agency_name) if r.agency_name is not None else _("verification")
    late = _("{who}, due {date}, {n} working days late").format(
        who=waits_for, date=short_date(r.due, locale), n=days)
    return f"• <code>{esc(r.tracking_id)}</code> {esc_truncate(r.title, 80)} ({late})"


def overdue_view(page: OverduePage, calendar: WorkCalendar) -> tuple[str, InlineKeyboardMarkup | None]:
    head = _("⏰ <b>Overdue reports</b>: {n} on {date} (page {page} of {pages})").format(
        n=number(page.total), date=short_date(page.today), page=page.page + 1, pages=page.pages)
    if not page.lines:
        return head + "\n\n" + _("Nothing is overdue now."), None
    text = "\n".join([head, "", *(overdue_line(r, page.today, calendar) for r in page.lines)])
    kb = InlineKeyboardBuilder()
    nav = add_pager(kb, page.page, page.pages, lambda p: OverdueCb(page=p))
    return text, kb.as_markup() if nav else None
