"""Escalation to the coordinating admins: the tunggakan list. On working days each admin gets
one message with the reports past their follow-up deadline (still with an agency), grouped per
agency, oldest first, and the reports waiting in the verification queue past verify_due.

Working days only: deadlines count working days, so a weekend list would repeat Friday's."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime

from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy import select

from bot.config import Settings
from bot.domain.lifecycle import VERIFICATION_QUEUE, WITH_AGENCY
from bot.domain.workdays import WorkCalendar
from bot.jobs.base import SessionFactory, report_line, run_daily, send_to_admins
from bot.ui.formatting import short_date
from bot.ui.render import esc
from storage.models.agency import Agency
from storage.models.report import Report

JOB_NAME = "escalation"


async def escalate_overdue(
    session_factory: SessionFactory,
    settings: Settings,
    calendar: WorkCalendar,
    i18n: I18n,
    now: datetime,
) -> int | None:
    """Messages written (one per admin when anything is overdue), or None when skipped."""
    return await run_daily(JOB_NAME, settings.notifications.escalation_time, send_escalations,
                           session_factory, settings, calendar, i18n, now)


async def overdue_lists(session, today: date) -> tuple[list[tuple[Agency, list[Report]]], list[Report]]:
    """(agencies with their overdue follow-ups, oldest deadline first; agencies ordered by
    their oldest report) and the overdue verification queue, oldest first."""
    rows = (
        await session.execute(
            select(Report, Agency)
            .join(Agency, Agency.id == Report.agency_id)
            .where(Report.status.in_(list(WITH_AGENCY)), Report.followup_due < today)
            .order_by(Report.followup_due, Report.id)
        )
    ).all()
    grouped: dict[int, list[Report]] = defaultdict(list)
    agencies: dict[int, Agency] = {}
    for report, agency in rows:
        agencies.setdefault(agency.id, agency)
        grouped[agency.id].append(report)
    followups = [(agencies[aid], grouped[aid]) for aid in agencies]  # insertion = oldest first
    verification = list(
        await session.scalars(
            select(Report)
            .where(Report.status.in_(list(VERIFICATION_QUEUE)), Report.verify_due < today)
            .order_by(Report.verify_due, Report.id)
        )
    )
    return followups, verification


async def send_escalations(
    session_factory: SessionFactory,
    settings: Settings,
    calendar: WorkCalendar,
    i18n: I18n,
    now: datetime,
    today: date,
) -> int:
    async with session_factory() as session:
        followups, verification = await overdue_lists(session, today)
    if not followups and not verification:
        return 0
    return await send_to_admins(
        session_factory, settings, i18n, JOB_NAME, today, now,
        lambda locale: _render(followups, verification, today, calendar, locale),
    )


def _render(followups, verification, today: date, calendar: WorkCalendar, locale: str) -> list[str]:
    def late(due: date) -> str:
        days = calendar.working_days_between(due, today)
        return _("due {date}, {n} working days late").format(
            date=short_date(due, locale), n=days
        )

    parts = [_("<b>Overdue reports (tunggakan)</b>")]
    if followups:
        parts.append("\n" + _("Past the follow-up deadline:"))
        for agency, reports in followups:
            lines = [f"<b>{esc(agency.name)}</b> ({len(reports)})"]
            lines += [report_line(r.tracking_id, r.title, late(r.followup_due)) for r in reports]
            parts.append("\n".join(lines))
    if verification:
        lines = ["\n" + _("Waiting for verification past 3 working days:")]
        lines += [report_line(r.tracking_id, r.title, late(r.verify_due)) for r in verification]
        parts.append("\n".join(lines))
    return parts
