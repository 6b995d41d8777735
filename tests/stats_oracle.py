"""The statistics of bot/services/statistics.py computed the simple way: row by row in Python
from ``ReportFact`` rows, following the definitions in that module's docstring word for word.

Too slow for a million reports (it was the product's code until issue 15), exactly right for
checking the SQL aggregation against (tests/storage/test_stats_equivalence.py) and for
hand-countable unit tests (tests/unit/test_statistics.py)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta

from bot.domain.deadlines import is_overdue
from bot.domain.enums import ReportStatus
from bot.domain.lifecycle import VERIFICATION_QUEUE, WITH_AGENCY
from bot.domain.timing import facts_of_history
from bot.domain.workdays import WorkCalendar
from bot.services.statistics import Figures, YearStats, ended_at, reference_date, step_due
from storage.repositories.stats import ReportFact


def store_facts(report, cal: WorkCalendar, ended_event_at: datetime | None = None) -> None:
    """Fill the facts ``core.change_status`` stores (bot.domain.timing) on a report row a test
    writes whole; the end as ``ended_at`` reads it from the row and its timeline
    (``ended_event_at``: its rejection or archiving, if recorded)."""
    closed = report.status == ReportStatus.CLOSED
    end = (report.closed_at if closed else ended_event_at) or report.updated_at
    for name, value in facts_of_history(report.submitted_at, report.status, report.first_response_at,
                                        report.closed_at, end, cal, answered_at=report.answered_at,
                                        completion_due=report.completion_due).items():
        setattr(report, name, value)


def compute(
    facts: list[ReportFact],
    year: int,
    cal: WorkCalendar,
    today: date,
    agency_names: dict[int, str] | None = None,
    category_names: dict[int, str] | None = None,
) -> YearStats:
    as_of = reference_date(year, today)
    total = Figures()
    by_agency: dict[int | None, Figures] = defaultdict(Figures)
    by_category: dict[int | None, Figures] = defaultdict(Figures)
    received_by_month = [0] * 12
    completed_by_month = [0] * 12

    for fact in facts:
        submitted = cal.local_date(fact.submitted_at)
        if submitted > as_of:
            continue
        groups = (total, by_agency[fact.agency_id], by_category[fact.category_id])
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
        by_category=dict(by_category),
        category_names=dict(category_names or {}),
    )


def _count_cohort(g: Figures, fact: ReportFact, status: ReportStatus, submitted: date,
                  cal: WorkCalendar) -> None:
    g.received += 1
    g.verified += fact.assigned_at is not None
    g.answered += fact.answered_at is not None
    g.reopened += fact.reopened_count > 0
    g.forwarded += fact.lapor_id is not None
    if status in VERIFICATION_QUEUE:
        g.waiting += 1
    elif status in WITH_AGENCY:
        g.in_progress += 1
    elif status == ReportStatus.ANSWERED:
        pass  # waiting for the reporter: counted in ``answered`` already
    elif status == ReportStatus.CLOSED:
        g.completed += 1
        if fact.closed_at is not None:
            g.add_completion(cal.working_days_between(submitted, cal.local_date(fact.closed_at)))
        done = fact.answered_at or fact.closed_at
        if done is not None and fact.completion_due is not None:
            if cal.local_date(done) <= fact.completion_due:
                g.completed_in_time += 1
            else:
                g.completed_late += 1
    elif status == ReportStatus.REJECTED:
        g.rejected += 1
    elif status == ReportStatus.ARCHIVED:
        g.archived += 1
    if fact.first_response_at is not None:
        g.add_response(cal.working_days_between(submitted, cal.local_date(fact.first_response_at)))
    if fact.rating is not None:
        g.add_rating(fact.rating)


def week(facts: list[ReportFact], cal: WorkCalendar, start: date, end: date) -> dict[int | None, Figures]:
    """The weekly summary's figures for the local days [start, end) per agency, row by row (the
    job's code until issue 15; ``bot.jobs.weekly_summary.week_figures`` sums stored facts)."""
    lo = datetime.combine(start, time(), cal.tz)
    hi = datetime.combine(end, time(), cal.tz)
    last_day = end - timedelta(days=1)
    figures: dict[int | None, Figures] = defaultdict(Figures)
    for r in facts:
        f = figures[r.agency_id]
        submitted = cal.local_date(r.submitted_at)
        if lo <= r.submitted_at < hi:
            f.received += 1
        if r.first_response_at and lo <= r.first_response_at < hi:
            f.add_response(cal.working_days_between(submitted, cal.local_date(r.first_response_at)))
        if r.status == ReportStatus.CLOSED and r.closed_at and lo <= r.closed_at < hi:
            f.completed += 1
            f.add_completion(cal.working_days_between(submitted, cal.local_date(r.closed_at)))
        due = (r.followup_due if r.status in WITH_AGENCY
               else r.verify_due if r.status in VERIFICATION_QUEUE else None)
        if due is not None and last_day > due:
            f.overdue += 1
    return {a: f for a, f in figures.items() if f != Figures()}
