"""The export's rows computed the simple way: one report at a time in Python, from the facts
statistics use and the reporter's name, with the privacy rule and the deadline outcomes spelled
out. It was the product's code until issue 15 (25 s per 100k rows); now the fast export
(``bot/services/export.py``, values computed in SQL, everything constant hoisted out of the
loop) is held equal to it in tests/storage/test_export_equivalence.py."""

from __future__ import annotations

from datetime import date, datetime

from aiogram.utils.i18n import gettext as _
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.enums import Privacy, ReportStatus
from bot.domain.lifecycle import TERMINAL
from bot.domain.privacy import IdentityPart, Viewer, reporter_identity
from bot.domain.workdays import WorkCalendar
from bot.services.export import Outcome, deadline_outcome
from bot.services.statistics import ENDED_KINDS, ended_at, local_bounds
from storage.models import Citizen, Report
from storage.repositories.stats import ReportFact, StatsRepo


def _word(outcome: Outcome) -> str:
    return {Outcome.MET: _("met"), Outcome.MISSED: _("missed"), Outcome.PENDING: _("pending"),
            Outcome.NONE: "-"}[outcome]


def row(fact: ReportFact, reporter: Citizen | None, agency_names: dict[int, str],
        category_names: dict[int, str], cal: WorkCalendar, today: date) -> tuple:
    """The cells of one report, before cleaning (``export_files.cell``)."""

    def local(dt: datetime | None) -> date | None:
        return cal.local_date(dt) if dt is not None else None

    still_open = fact.status not in TERMINAL
    decided = fact.assigned_at
    if decided is None and fact.status in (ReportStatus.REJECTED, ReportStatus.ARCHIVED):
        decided = ended_at(fact)
    shown = reporter_identity(Viewer.EXPORT, fact.privacy)
    first, last, username = (reporter.first_name, reporter.last_name, reporter.username) if reporter else (None,) * 3
    name = " ".join(p for p in (first, last) if p)
    return (
        fact.tracking_id,
        fact.submitted_at.astimezone(cal.tz).strftime("%Y-%m-%d %H:%M"),
        fact.classification,
        agency_names.get(fact.agency_id, "") if fact.agency_id is not None else "",
        category_names.get(fact.category_id, "") if fact.category_id is not None else "",
        fact.status,
        fact.verify_due.isoformat() if fact.verify_due else "",
        _word(deadline_outcome(local(decided), fact.verify_due, still_open, today)),
        fact.followup_due.isoformat() if fact.followup_due else "",
        _word(deadline_outcome(local(fact.answered_at), fact.followup_due, still_open, today)),
        (cal.working_days_between(cal.local_date(fact.submitted_at), cal.local_date(fact.closed_at))
         if fact.status == ReportStatus.CLOSED and fact.closed_at else None),
        fact.rating,
        fact.privacy,
        _("yes") if fact.privacy == Privacy.CONFIDENTIAL else _("no"),
        name if IdentityPart.NAME in shown else "",
        (username or "") if IdentityPart.USERNAME in shown else "",
        fact.lapor_id or "",
        fact.channel,
        fact.completion_due.isoformat() if fact.completion_due else "",
        _word(deadline_outcome(
            local(fact.answered_at or (fact.closed_at if fact.status == ReportStatus.CLOSED else None)),
            fact.completion_due, still_open, today)),
    )


async def rows(session: AsyncSession, year: int, cal: WorkCalendar, today: date) -> list[tuple]:
    start, end = local_bounds(year, cal)
    repo = StatsRepo(session)
    facts = await repo.facts(submitted_from=start, submitted_before=end, ended_kinds=ENDED_KINDS)
    reports = {r.id: r.citizen_id for r in (await session.execute(select(Report.id, Report.citizen_id))).all()}
    citizens = {c.id: c for c in (await session.scalars(select(Citizen))).all()}
    agencies, categories = await repo.agency_names(), await repo.category_names()
    return [row(f, citizens.get(reports[f.id]), agencies, categories, cal, today) for f in facts]
