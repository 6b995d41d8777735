"""Escalation to the coordinating admins: the tunggakan list. On working days each admin gets
one message with the reports past their follow-up deadline (still with an agency), grouped per
agency, oldest first, and the reports waiting in the verification queue past verify_due.

Working days only: deadlines count working days, so a weekend list would repeat Friday's."""

from __future__ import annotations

from datetime import date, timedelta

from bot.domain.lifecycle import VERIFICATION_QUEUE, WITH_AGENCY
from bot.jobs.base import JobContext, run_daily, send_to_admins
from bot.services.notices import Escalation
from storage.models.agency import Agency
from storage.models.report import Report
from storage.repositories.cases import CaseRepo

JOB_NAME = "escalation"


async def escalate_overdue(ctx: JobContext) -> int | None:
    """Messages written (one per admin when anything is overdue), or None when skipped."""
    return await run_daily(JOB_NAME, ctx.settings.notifications.escalation_time, send_escalations, ctx)


def by_agency(rows: list[tuple[Report, Agency]]) -> list[tuple[Agency, list[Report]]]:
    """Reports grouped under their agency; agencies in the order of their first report."""
    grouped: dict[int, tuple[Agency, list[Report]]] = {}
    for report, agency in rows:
        grouped.setdefault(agency.id, (agency, []))[1].append(report)
    return list(grouped.values())


async def send_escalations(ctx: JobContext, today: date) -> int:
    async with ctx.session_factory() as session:
        repo = CaseRepo(session)
        # Past due: the deadline day itself is still in time.
        followups = by_agency(await repo.followups_due_by(WITH_AGENCY, today - timedelta(days=1)))
        verification = await repo.verification_overdue(VERIFICATION_QUEUE, today)
    if not followups and not verification:
        return 0
    return await send_to_admins(ctx, JOB_NAME, today, Escalation(followups, verification, today))
