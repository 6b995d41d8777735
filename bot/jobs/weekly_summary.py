"""Weekly summary to the admins: per agency, what came in, what was completed and what is
overdue, with the average working days to a first response and to completion.

The numbers are summed over one week in the database (bot/services/statistics.py works by year);
the definitions follow it: working days (stored on each report), local dates, overdue = open
past the step's deadline.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.domain.enums import ReportStatus
from bot.domain.lifecycle import VERIFICATION_QUEUE, WITH_AGENCY
from bot.domain.workdays import WorkCalendar
from bot.jobs.base import JobContext, run_leased, send_to_admins
from bot.services.notices import WeeklySummary
from bot.services.statistics import Figures
from storage.repositories.stats import StatsRepo

JOB_NAME = "weekly_summary"


def summary_day(now: datetime, settings: Settings, calendar: WorkCalendar) -> date:
    """This week's summary day (local), whether or not it has come yet."""
    today = calendar.local_date(now)
    monday = today - timedelta(days=today.weekday())
    return monday + timedelta(days=settings.notifications.weekly_summary_weekday)


async def send_weekly_summary(ctx: JobContext) -> int | None:
    """Messages written (one per admin), or None before this week's summary time or when
    another process has this week's run."""
    day = summary_day(ctx.now, ctx.settings, ctx.calendar)
    at = datetime.combine(day, ctx.settings.notifications.weekly_summary_time, tzinfo=ctx.calendar.tz)
    if ctx.now < at:
        return None
    year, week, _wd = day.isocalendar()

    async def body() -> int:
        start, end = day - timedelta(days=7), day
        async with ctx.session_factory() as session:
            figures = await week_figures(session, ctx.calendar, start, end)
            names = await StatsRepo(session).agency_names()
        return await send_to_admins(ctx, JOB_NAME, day, WeeklySummary(figures, names, start, end))

    return await run_leased(ctx.session_factory, JOB_NAME, f"{year}-W{week:02d}", ctx.now, ctx.lease, body)


def _bounds(calendar: WorkCalendar, start: date, end: date) -> tuple[datetime, datetime]:
    return datetime.combine(start, time(), calendar.tz), datetime.combine(end, time(), calendar.tz)


async def week_figures(
    session: AsyncSession, calendar: WorkCalendar, start: date, end: date
) -> dict[int | None, Figures]:
    """Figures for the local days [start, end) per agency (None: not yet assigned), summed in
    the database from the working days stored on each report. Overdue is counted as of the
    last day of the week. tests/stats_oracle.py ``week`` is the same row by row."""
    lo, hi = _bounds(calendar, start, end)
    rows = await StatsRepo(session).week(
        lo, hi, end - timedelta(days=1), closed=ReportStatus.CLOSED.value,
        with_agency=[s.value for s in WITH_AGENCY], verification_queue=[s.value for s in VERIFICATION_QUEUE])
    return {
        r.agency_id: Figures(received=r.received, completed=r.completed, overdue=r.overdue,
                             response_days_sum=r.response_days, responded=r.responded,
                             completion_days_sum=r.completion_days, completion_timed=r.completed)
        for r in rows
    }
