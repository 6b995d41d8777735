"""/statistik as text: the totals, then one block per agency and a line per category (HTML)."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from bot.services.statistics import Figures, YearStats
from bot.ui.render import esc


def number(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.0f}%"


def figures_lines(f: Figures) -> list[str]:
    lines = [
        _("Received: <b>{n}</b>").format(n=f.received),
        _("Verified (assigned): {n}").format(n=f.verified),
        _("Waiting for verification: {n}").format(n=f.waiting),
        _("In progress at the agency: {n}").format(n=f.in_progress),
        _("Answered (followed up): {n}").format(n=f.answered),
        _("Completed: <b>{n}</b> ({rate})").format(n=f.completed, rate=_pct(f.completion_rate)),
        _("Rejected: {n}").format(n=f.rejected),
    ]
    if f.archived:
        lines.append(_("Archived: {n}").format(n=f.archived))
    lines += [
        _("Backlog (tunggakan): <b>{n}</b>, of which carried over from earlier years: {c}").format(
            n=f.backlog, c=f.backlog_carried),
        _("Overdue: <b>{n}</b>, of which carried over: {c}").format(n=f.overdue, c=f.overdue_carried),
        _("Average to first response: {d} working days").format(d=number(f.avg_response_days)),
        _("Average to completion: {d} working days").format(d=number(f.avg_completion_days)),
        _("Average rating: {r} (of {n} rated)").format(r=number(f.avg_rating), n=len(f.ratings)),
        _("Reopened: {n}").format(n=f.reopened),
        _("Entered into SP4N-LAPOR!: {n}").format(n=f.forwarded),
    ]
    return lines


def render_statistics(stats: YearStats) -> list[str]:
    """Parts of the message (HTML): the totals, then one block per agency, then the categories."""
    parts = [
        _("📊 <b>Statistics {year}</b>\nReports received in {year}; backlog as of {date}.").format(
            year=stats.year, date=stats.as_of.strftime("%d-%m-%Y"))
        + "\n\n" + "\n".join(figures_lines(stats.total))
    ]
    agencies = [(a, f) for a, f in stats.by_agency.items() if f.received or f.backlog]
    agencies.sort(key=lambda r: (r[0] is None, stats.agency_name(r[0])))
    if agencies:
        parts.append(_("<b>Per agency</b>"))
    for agency_id, f in agencies:
        parts.append(f"<b>{esc(stats.agency_name(agency_id))}</b>\n" + "\n".join(figures_lines(f)))
    if categories := stats.categories_by_received():
        parts.append(_("<b>Per category</b> (received · completed · backlog)"))
        parts.append("\n".join(
            f"• {esc(stats.category_name(c))}: {f.received} · {f.completed} · {f.backlog}"
            for c, f in categories
        ))
    return parts
