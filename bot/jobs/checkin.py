"""Check-in: some working days after a report closed (``checkin_after_days``, 0 = off), ask the
reporter once whether the problem is really solved. The answer is a reporter's use case
(``bot.services.casework.reporter.answer_checkin``): "no" reopens the report, as a dispute does."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.enums import ReportStatus
from bot.domain.workdays import WorkCalendar
from bot.jobs.base import JobContext, run_daily, write_once
from bot.services.casework.reporter import CHECKIN_JOB, checkin_key
from bot.services.notices import CheckinQuestion
from bot.services.recipients import reporter_of
from storage.models.report import Report
from storage.repositories.cases import CaseRepo

JOB_NAME = CHECKIN_JOB
# A check-in missed for longer than this (the bot was down, the feature just switched on) is
# not sent late: a question about a report closed long ago reads as noise.
LATE_LIMIT = timedelta(days=7)


async def send_checkins(ctx: JobContext) -> int | None:
    """Questions written, or None when switched off, not a working day, not yet time, or
    another process has today's run."""
    if ctx.settings.notifications.checkin_after_days <= 0:
        return None
    return await run_daily(JOB_NAME, ctx.settings.notifications.checkin_time, ask_due, ctx)


def checkin_day(closed_at: datetime, days: int, calendar: WorkCalendar) -> date:
    return calendar.add_working_days(calendar.local_date(closed_at), days)


async def ask_due(ctx: JobContext, today: date) -> int:
    days = ctx.settings.notifications.checkin_after_days
    # Working days never outnumber calendar days by more than the longest holiday run; twice
    # the count plus the late limit and a fortnight of holidays is a safe window.
    since = ctx.now - timedelta(days=2 * days + 14) - LATE_LIMIT
    async with ctx.session_factory() as session:
        closed = await CaseRepo(session).closed_since(ReportStatus.CLOSED, since)

    async def ask(session: AsyncSession, report: Report) -> None:
        if (to := await reporter_of(session, report)) is not None:
            await ctx.notifier.send(session, to, CheckinQuestion(report), now=ctx.now)

    asked = 0
    for report in closed:
        due = checkin_day(report.closed_at, days, ctx.calendar)
        if not (due <= today and today - due <= LATE_LIMIT):
            continue
        # The effect key has no date: once per report, ever.
        if await write_once(ctx.session_factory, JOB_NAME, checkin_key(report.id), ctx.now,
                            partial(ask, report=report)):
            asked += 1
    return asked
