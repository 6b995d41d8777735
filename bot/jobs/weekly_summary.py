"""Weekly summary to the admins: per agency, what came in, what was completed and what is
overdue, with the average working days to a first response and to completion.

The numbers are computed here over one week (bot/services/statistics.py works by year); the
definitions follow it: working days, local dates, overdue = open past the step's deadline.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta

from sqlalchemy import Row

from bot.config import Settings
from bot.domain.enums import ReportStatus
from bot.domain.lifecycle import VERIFICATION_QUEUE, WITH_AGENCY
from bot.domain.workdays import WorkCalendar
from bot.jobs.base import JobContext, run_leased, send_to_admins
from bot.services.notices import WeeklySummary
from bot.services.statistics import Figures
from storage.models.report import Report
from storage.repositories.cases import CaseRepo
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
            reports = await CaseRepo(session).active_between(
                *_bounds(ctx.calendar, start, end), WITH_AGENCY | VERIFICATION_QUEUE)
            names = await StatsRepo(session).agency_names()
        figures = week_figures(reports, ctx.calendar, start, end)
        return await send_to_admins(ctx, JOB_NAME, day, WeeklySummary(figures, names, start, end))

    return await run_leased(ctx.session_factory, JOB_NAME, f"{year}-W{week:02d}", ctx.now, ctx.lease, body)


def _bounds(calendar: WorkCalendar, start: date, end: date) -> tuple[datetime, datetime]:
    return datetime.combine(start, time(), calendar.tz), datetime.combine(end, time(), calendar.tz)


def week_figures(
    reports: Sequence[Report | Row], calendar: WorkCalendar, start: date, end: date
) -> dict[int | None, Figures]:
    """Figures for the local days [start, end) per agency (None: not yet assigned). Overdue is
    counted as of the last day of the week."""
    lo, hi = _bounds(calendar, start, end)
    last_day = end - timedelta(days=1)
    figures: dict[int | None, Figures] = defaultdict(Figures)
    for r in reports:
        f = figures[r.agency_id]
        submitted = calendar.local_date(r.submitted_at)
        if lo <= r.submitted_at < hi:
            f.received += 1
        if r.first_response_at and lo <= r.first_response_at < hi:
            f.add_response(
                calendar.working_days_between(submitted, calendar.local_date(r.first_response_at))
            )
        if r.status == ReportStatus.CLOSED and r.closed_at and lo <= r.closed_at < hi:
            f.completed += 1
            f.add_completion(
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
    return dict(figures)
