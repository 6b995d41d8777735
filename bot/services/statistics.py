"""Statistics for the coordinator (/statistik): what the annual evaluation asks for.

Pure computations over ``ReportFact`` rows; ``year_statistics`` only fetches and calls
``compute``. Definitions (one place, so the text, the chart and the tests agree):

- the cohort of a year is the reports *received* in it (local date of submission);
- received = verified? + waiting + in progress + answered + completed + rejected + archived
  partition the cohort by its status now; "verified" counts reports assigned at least once,
  "answered" those that got an answer at least once (followed up);
- the backlog (tunggakan) is taken at the reference date (the year's last day, or today for
  the running year): every report open on that date, *whatever year it came in*, so reports
  carried over from earlier years count; "overdue" are those of them past the deadline of the
  step they were in (verification, or the agency's follow-up). A report answered and waiting
  for the reporter is the reporter's turn, not late;
- days are working days (Indonesian holidays excluded).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from statistics import fmean

from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.deadlines import is_overdue
from bot.domain.enums import EventKind, ReportStatus
from bot.domain.lifecycle import TERMINAL, VERIFICATION_QUEUE, WITH_AGENCY
from bot.domain.workdays import WorkCalendar
from storage.repositories.stats import ReportFact, StatsRepo

ENDED_KINDS = (EventKind.REJECTED.value, EventKind.ARCHIVED.value)


@dataclass
class Figures:
    received: int = 0
    verified: int = 0
    waiting: int = 0
    in_progress: int = 0
    answered: int = 0
    completed: int = 0
    rejected: int = 0
    archived: int = 0
    reopened: int = 0
    # At the reference date; ``*_carried`` is the part received before the year.
    backlog: int = 0
    backlog_carried: int = 0
    overdue: int = 0
    overdue_carried: int = 0
    response_days: list[int] = field(default_factory=list)
    completion_days: list[int] = field(default_factory=list)
    ratings: list[int] = field(default_factory=list)

    @property
    def completion_rate(self) -> float | None:
        return self.completed / self.received if self.received else None

    @property
    def avg_response_days(self) -> float | None:
        return fmean(self.response_days) if self.response_days else None

    @property
    def avg_completion_days(self) -> float | None:
        return fmean(self.completion_days) if self.completion_days else None

    @property
    def avg_rating(self) -> float | None:
        return fmean(self.ratings) if self.ratings else None


@dataclass
class YearStats:
    year: int
    as_of: date
    total: Figures
    # Keyed by the agency a report is assigned to now; None: not assigned yet.
    by_agency: dict[int | None, Figures]
    agency_names: dict[int, str]
    received_by_month: list[int]
    # Of the reports received in each month, how many are completed: sums to total.completed.
    completed_by_month: list[int]

    def agency_name(self, agency_id: int | None) -> str:
        if agency_id is None:
            return _("Not assigned yet")
        return self.agency_names.get(agency_id, f"#{agency_id}")

    def agencies_by_backlog(self) -> list[tuple[int | None, Figures]]:
        rows = [(a, f) for a, f in self.by_agency.items() if f.backlog]
        return sorted(rows, key=lambda r: (-r[1].backlog, -r[1].overdue, self.agency_name(r[0])))


def reference_date(year: int, today: date) -> date:
    """The day the backlog is counted on: the year's last day, or today while it runs."""
    return min(date(year, 12, 31), today)


def ended_at(fact: ReportFact) -> datetime | None:
    """When a report stopped being open, or None while it is open (as far as we know)."""
    if fact.status not in TERMINAL:
        return None
    if fact.status == ReportStatus.CLOSED:
        return fact.closed_at or fact.updated_at
    return fact.ended_event_at or fact.updated_at


def step_due(fact: ReportFact, on: date, cal: WorkCalendar) -> date | None:
    """The deadline a report open on ``on`` was held to, None when it was the reporter's turn."""
    if fact.answered_at is not None and cal.local_date(fact.answered_at) <= on and (
        fact.status == ReportStatus.ANSWERED or fact.status in TERMINAL
    ):
        return None
    if fact.assigned_at is not None and cal.local_date(fact.assigned_at) <= on:
        return fact.followup_due
    return fact.verify_due


def compute(
    facts: list[ReportFact],
    year: int,
    cal: WorkCalendar,
    today: date,
    agency_names: dict[int, str] | None = None,
) -> YearStats:
    as_of = reference_date(year, today)
    total = Figures()
    by_agency: dict[int | None, Figures] = defaultdict(Figures)
    received_by_month = [0] * 12
    completed_by_month = [0] * 12

    for fact in facts:
        submitted = cal.local_date(fact.submitted_at)
        if submitted > as_of:
            continue
        groups = (total, by_agency[fact.agency_id])
        if submitted.year == year:
            status = ReportStatus(fact.status)
            month = submitted.month - 1
            received_by_month[month] += 1
            if status == ReportStatus.CLOSED:
                completed_by_month[month] += 1
            for g in groups:
                _count_cohort(g, fact, status, submitted, cal)
        end = ended_at(fact)
        if end is None or cal.local_date(end) > as_of:
            due = step_due(fact, as_of, cal)
            late = due is not None and is_overdue(due, as_of)
            carried = submitted.year < year
            for g in groups:
                g.backlog += 1
                g.backlog_carried += carried
                g.overdue += late
                g.overdue_carried += late and carried

    return YearStats(
        year=year,
        as_of=as_of,
        total=total,
        by_agency=dict(by_agency),
        agency_names=dict(agency_names or {}),
        received_by_month=received_by_month,
        completed_by_month=completed_by_month,
    )


def _count_cohort(g: Figures, fact: ReportFact, status: ReportStatus, submitted: date,
                  cal: WorkCalendar) -> None:
    g.received += 1
    g.verified += fact.assigned_at is not None
    g.answered += fact.answered_at is not None
    g.reopened += fact.reopened_count > 0
    if status in VERIFICATION_QUEUE:
        g.waiting += 1
    elif status in WITH_AGENCY:
        g.in_progress += 1
    elif status == ReportStatus.ANSWERED:
        pass  # waiting for the reporter: counted in ``answered`` already
    elif status == ReportStatus.CLOSED:
        g.completed += 1
        if fact.closed_at is not None:
            g.completion_days.append(cal.working_days_between(submitted, cal.local_date(fact.closed_at)))
    elif status == ReportStatus.REJECTED:
        g.rejected += 1
    elif status == ReportStatus.ARCHIVED:
        g.archived += 1
    if fact.first_response_at is not None:
        g.response_days.append(
            cal.working_days_between(submitted, cal.local_date(fact.first_response_at))
        )
    if fact.rating is not None:
        g.ratings.append(fact.rating)


def local_bounds(year: int, cal: WorkCalendar) -> tuple[datetime, datetime]:
    """The year as UTC instants, from local midnight of 1 January to that of the next year."""
    start = datetime.combine(date(year, 1, 1), time(), cal.tz)
    end = datetime.combine(date(year + 1, 1, 1), time(), cal.tz)
    return start, end


async def year_statistics(
    session: AsyncSession, year: int, cal: WorkCalendar, today: date | None = None
) -> YearStats:
    today = today or cal.today()
    as_of = reference_date(year, today)
    before = datetime.combine(as_of + timedelta(days=1), time(), cal.tz)
    repo = StatsRepo(session)
    facts = await repo.facts(submitted_before=before, ended_kinds=ENDED_KINDS)
    return compute(facts, year, cal, today, await repo.agency_names())


async def agency_load(
    session: AsyncSession, cal: WorkCalendar, today: date | None = None
) -> dict[int | None, tuple[int, int]]:
    """``{agency_id: (open, overdue)}`` today, for the directory."""
    today = today or cal.today()
    stats = await year_statistics(session, today.year, cal, today)
    return {a: (f.backlog, f.overdue) for a, f in stats.by_agency.items() if f.backlog}
