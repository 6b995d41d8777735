"""The text of /statistik, from the ``YearStats`` the chart is drawn from as well."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from bot.services.statistics import Figures, YearStats
from bot.ui.formatting import decimal, number, percent, short_date
from bot.ui.render import esc


def figures_lines(f: Figures) -> list[str]:
    n = number
    lines = [
        _("Received: <b>{n}</b>").format(n=n(f.received)),
        _("Verified (assigned): {n}").format(n=n(f.verified)),
        _("Waiting for verification: {n}").format(n=n(f.waiting)),
        _("In progress at the agency: {n}").format(n=n(f.in_progress)),
        _("Answered (followed up): {n}").format(n=n(f.answered)),
        _("Completed: <b>{n}</b> ({rate})").format(n=n(f.completed), rate=percent(f.completion_rate)),
        _("Rejected: {n}").format(n=n(f.rejected)),
    ]
    if f.archived:
        lines.append(_("Archived: {n}").format(n=n(f.archived)))
    lines += [
        _("Backlog (tunggakan): <b>{n}</b>, of which carried over from earlier years: {c}").format(
            n=n(f.backlog), c=n(f.backlog_carried)),
        _("Overdue: <b>{n}</b>, of which carried over: {c}").format(n=n(f.overdue), c=n(f.overdue_carried)),
        _("Average to first response: {d} working days").format(d=decimal(f.avg_response_days)),
        _("Average to completion: {d} working days").format(d=decimal(f.avg_completion_days)),
        _("Average rating: {r} (of {n} rated)").format(r=decimal(f.avg_rating), n=n(len(f.ratings))),
        _("Reopened: {n}").format(n=n(f.reopened)),
    ]
    return lines


def render_statistics(stats: YearStats) -> list[str]:
    """Parts of the message (HTML): the totals, then one block per agency."""
    parts = [
        _("📊 <b>Statistics {year}</b>\nReports received in {year}; backlog as of {date}.").format(
            year=stats.year, date=short_date(stats.as_of))
        + "\n\n" + "\n".join(figures_lines(stats.total))
    ]
    agencies = [(a, f) for a, f in stats.by_agency.items() if f.received or f.backlog]
    agencies.sort(key=lambda r: (r[0] is None, stats.agency_name(r[0])))
    if agencies:
        parts.append(_("<b>Per agency</b>"))
    for agency_id, f in agencies:
        parts.append(f"<b>{esc(stats.agency_name(agency_id))}</b>\n" + "\n".join(figures_lines(f)))
    return parts
