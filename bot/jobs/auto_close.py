"""Auto-close: an answered report the reporter has not replied to within 10 working days
(``reply_due``) closes by itself, and the reporter is told (domain.md, step 5 "Selesai")."""

from __future__ import annotations

from datetime import date

from bot.domain.enums import ReportStatus
from bot.jobs.base import JobContext, run_daily
from bot.services.casework.reporter import close_unanswered
from storage.repositories.cases import CaseRepo

JOB_NAME = "auto_close"


async def auto_close(ctx: JobContext) -> int | None:
    """Close every answered report past its reply deadline; the number closed, or None when
    it is not time yet or another process has today's run."""
    # Every day: reply_due already counts working days, so a weekend run closes nothing early.
    return await run_daily(JOB_NAME, ctx.settings.notifications.auto_close_time, close_overdue_answers,
                           ctx, working_days_only=False)


async def close_overdue_answers(ctx: JobContext, today: date) -> int:
    async with ctx.session_factory() as session:
        due = await CaseRepo(session).answered_past_reply_due(ReportStatus.ANSWERED, today)
    closed = 0
    # One transaction per report: a crash half-way keeps what was closed, and the next run
    # (or a process taking over the lease) closes the rest. The change is conditional on the
    # status, so a reporter who replied a moment ago keeps their report.
    for report_id in due:
        async with ctx.session_factory() as session:
            if await close_unanswered(session, ctx.casework, report_id, ctx.now):
                closed += 1
    return closed
