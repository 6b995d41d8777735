"""Weekly summary to the admins: per agency, what came in, what was completed and what is
overdue, with the average working days to a first response and to completion.

The numbers are computed here over one week (bot/services/statistics.py works by year); the
definitions follow it: working days, local dates, overdue = open past the step's deadline.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from statistics import fmean

from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy import or_, select

from bot.config import Settings
from bot.domain.enums import ReportStatus
from bot.domain.lifecycle import VERIFICATION_QUEUE, WITH_AGENCY
from bot.domain.workdays import WorkCalendar
from bot.jobs.base import SessionFactory, lease_of, run_leased, send_to_admins
from bot.ui.formatting import decimal, number, short_date
from bot.ui.render import esc
from storage.models.agency import Agency
from storage.models.report import Report

JOB_NAME = "weekly_summary"


@dataclass
class WeekFigures:
    received: int = 0
    completed: int = 0
    overdue: int = 0
    response_days: list[int] = field(default_factory=list)
    completion_days: list[int] = field(default_factory=list)

    @property
    def avg_response_days(self) -> float | None:
        return fmean(self.response_days) if self.response_days else None

    @property
    def avg_completion_days(self) -> float | None:
        return fmean(self.completion_days) if self.completion_days else None


def summary_day(now: datetime, settings: Settings, calendar: WorkCalendar) -> date:
    """This week's summary day (local), whether or not it has come yet."""
    today = calendar.local_date(now)
    monday = today - timedelta(days=today.weekday())
    return monday + timedelta(days=settings.notifications.weekly_summary_weekday)


async def send_weekly_summary(
    session_factory: SessionFactory,
    settings: Settings,
    calendar: WorkCalendar,
    i18n: I18n,
    now: datetime,
) -> int | None:
    """Messages written (one per admin), or None before this week's summary time or when
    another process has this week's run."""
    day = summary_day(now, settings, calendar)
    at = datetime.combine(day, settings.notifications.weekly_summary_time, tzinfo=calendar.tz)
    if now < at:
        return None
    year, week, _wd = day.isocalendar()

    async def body() -> int:
        return await _send(session_factory, settings, calendar, i18n, now, day)

    return await run_leased(
        session_factory, JOB_NAME, f"{year}-W{week:02d}", now, lease_of(settings), body
    )


async def week_figures(
    session, calendar: WorkCalendar, start: date, end: date
) -> tuple[dict[int | None, WeekFigures], dict[int, str]]:
    """Figures for the local days [start, end) per agency (None: not yet assigned), and the
    agency names. Overdue is counted as of the last day of the week."""
    lo = datetime.combine(start, time(), calendar.tz)
    hi = datetime.combine(end, time(), calendar.tz)
    last_day = end - timedelta(days=1)
    reports = await session.scalars(
        select(Report).where(
            or_(
                Report.submitted_at.between(lo, hi),
                Report.closed_at.between(lo, hi),
                Report.first_response_at.between(lo, hi),
                Report.status.in_(list(WITH_AGENCY | VERIFICATION_QUEUE)),
            )
        )
    )
    figures: dict[int | None, WeekFigures] = defaultdict(WeekFigures)
    for r in reports:
        f = figures[r.agency_id]
        submitted = calendar.local_date(r.submitted_at)
        if lo <= r.submitted_at < hi:
            f.received += 1
        if r.first_response_at and lo <= r.first_response_at < hi:
            f.response_days.append(
                calendar.working_days_between(submitted, calendar.local_date(r.first_response_at))
            )
        if r.status == ReportStatus.CLOSED and r.closed_at and lo <= r.closed_at < hi:
            f.completed += 1
            f.completion_days.append(
                calendar.working_days_between(submitted, calendar.local_date(r.closed_at))
            )
        due = (
            r.followup_due
            if r.status in WITH_AGENCY
            else r.verify_due
            if r.status in VERIFICATION_QUEUE
            else None
        )
        if due is not None and last_day > due:
            f.overdue += 1
    names = dict((await session.execute(select(Agency.id, Agency.name))).all())
    return dict(figures), names


def _block(title: str, f: WeekFigures) -> str:
    return "\n".join(
        [
            f"<b>{title}</b>",
            _("Received this week: {n}").format(n=number(f.received)),
            _("Completed this week: {n}").format(n=number(f.completed)),
            _("Open and overdue: {n}").format(n=number(f.overdue)),
            _("Average to first response: {d} working days").format(d=decimal(f.avg_response_days)),
            _("Average to completion: {d} working days").format(d=decimal(f.avg_completion_days)),
        ]
    )


def render_summary(
    figures: dict[int | None, WeekFigures], names: dict[int, str], start: date, end: date, locale: str
) -> list[str]:
    total = WeekFigures()
    for f in figures.values():
        total.received += f.received
        total.completed += f.completed
        total.overdue += f.overdue
        total.response_days += f.response_days
        total.completion_days += f.completion_days
    parts = [
        _("<b>Weekly summary</b> {start} – {end}").format(
            start=short_date(start, locale),
            end=short_date(end - timedelta(days=1), locale),
        ),
        _block(_("All agencies"), total),
    ]
    ordered = sorted(
        (k for k in figures if k is not None), key=lambda k: names.get(k, "").casefold()
    )
    for agency_id in ordered:
        parts.append("\n" + _block(esc(names.get(agency_id, "?")), figures[agency_id]))
    if None in figures:
        parts.append("\n" + _block(_("Not yet assigned"), figures[None]))
    parts.append("\n" + how_to_read(end - timedelta(days=1), locale))
    return parts


def how_to_read(last_day: date, locale: str) -> str:
    """Why the columns do not add up: they count different sets of reports (see week_figures)."""
    return _(
        "ℹ️ <b>How to read this</b>\n"
        "• <b>Received</b> and <b>completed</b> count what happened during these seven days; a "
        "report completed this week may have come in weeks ago.\n"
        "• <b>Open and overdue</b> counts every report still open on {date} and past the "
        "deadline of its step (verification or the agency's answer), whichever week it came in. "
        "That is why it can be higher than the reports received this week.\n"
        "• Averages are working days from receipt, over the reports first answered or completed "
        "this week; – means there was none."
    ).format(date=short_date(last_day, locale))


async def _send(session_factory, settings, calendar, i18n, now, day: date) -> int:
    start, end = day - timedelta(days=7), day
    async with session_factory() as session:
        figures, names = await week_figures(session, calendar, start, end)
    return await send_to_admins(
        session_factory, settings, i18n, JOB_NAME, day, now,
        lambda locale: render_summary(figures, names, start, end, locale),
    )
