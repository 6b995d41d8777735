"""Erase the name and phone of walk-ins (complaints an admin filed on a citizen's behalf) once
their report has been finished for ``[intake] walk_in_retention_days`` (UU PDP: personal data is
kept no longer than its purpose needs)."""

from __future__ import annotations

from datetime import date

from bot.jobs.base import JobContext, run_daily
from bot.services.walk_in import erase_personal_data

JOB_NAME = "walk_in_retention"


async def erase_walk_in_data(ctx: JobContext) -> int | None:
    """Daily with the auto-close; how many walk-ins were erased, or None when not due."""
    return await run_daily(JOB_NAME, ctx.settings.notifications.auto_close_time, _erase, ctx,
                           working_days_only=False)


async def _erase(ctx: JobContext, today: date) -> int:
    async with ctx.session_factory() as session:
        return await erase_personal_data(session, retention_days=ctx.settings.intake.walk_in_retention_days,
                                         now=ctx.now)
