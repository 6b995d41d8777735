"""Statistics for the coordinator (/statistik): what the annual evaluation asks for.

``year_statistics`` aggregates in the database (``StatsRepo.cohort``/``backlog``/``by_month_and_channel``):
sums over facts each report carries since they happened (``bot.domain.timing``: working days
to the first response and to closing, when it ended); tests/stats_oracle.py computes the same
figures row by row in Python from the timestamps and the timeline, and
tests/storage/test_stats_equivalence.py holds the two equal. Definitions (one place, so the
text, the chart and the tests agree):

- the cohort of a year is the reports *received* in it (local date of submission);
- received = verified? + waiting + in progress + answered + completed + rejected + archived
  partition the cohort by its status now; "verified" counts reports assigned at least once,
  "answered" those that got an answer at least once (followed up);
- the backlog (tunggakan) is taken at the reference date (the year's last day, or today for
  the running year): every report open on that date, *whatever year it came in*, so reports
  carried over from earlier years count; "overdue" are those of them past the deadline of the
  step they were in (verification, or the agency's follow-up). A report answered and waiting
  for the reporter is the reporter's turn, not late;
- days are working days (Indonesian holidays excluded);
- of the completed, "within the completion ceiling" are those whose answer (the last one; closed
  without an answer: the closing) came by their stored ``completion_due`` (14/60/5/5 working days
  from receipt by kind of report), "late" those after it; without a due date, neither.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field, fields
from datetime import date, datetime, time, timedelta

from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.enums import EventKind, ReportStatus
from bot.domain.lifecycle import TERMINAL, VERIFICATION_QUEUE, WITH_AGENCY
from bot.domain.workdays import WorkCalendar
from storage.base import utcnow
from storage.repositories.stats import ReportFact, StatsRepo

ENDED_KINDS = (EventKind.REJECTED.value, EventKind.ARCHIVED.value)
# Answered and then in one of these: the reporter's turn, never late (see ``step_due``).
REPORTER_TURN = frozenset({ReportStatus.ANSWERED}) | TERMINAL


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
    # Entered into SP4N-LAPOR! by a coordinator (the national tracking number is recorded).
    forwarded: int = 0
    # At the reference date; ``*_carried`` is the part received before the year.
    backlog: int = 0
    backlog_carried: int = 0
    overdue: int = 0
    overdue_carried: int = 0
    # Sums and counts, not lists: a year may hold hundreds of thousands of reports.
    response_days_sum: int = 0
    responded: int = 0
    completion_days_sum: int = 0
    completion_timed: int = 0
    rating_sum: int = 0
    rated: int = 0
    # Of ``completed``: answered within the completion ceiling by kind of report, or late.
    completed_in_time: int = 0
    completed_late: int = 0

    def add_response(self, days: int) -> None:
        self.response_days_sum += days
        self.responded += 1

    def add_completion(self, days: int) -> None:
        self.completion_days_sum += days
        self.completion_timed += 1

    def add_rating(self, rating: int) -> None:
        self.rating_sum += rating
        self.rated += 1

    def __iadd__(self, other: Figures) -> Figures:
        for name in _FIGURES:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        return self

    @property
    def completion_rate(self) -> float | None:
        return self.completed / self.received if self.received else None

    @property
    def avg_response_days(self) -> float | None:
        return self.response_days_sum / self.responded if self.responded else None

    @property
    def avg_completion_days(self) -> float | None:
        return self.completion_days_sum / self.completion_timed if self.completion_timed else None

    @property
    def avg_rating(self) -> float | None:
        return self.rating_sum / self.rated if self.rated else None


_FIGURES = tuple(f.name for f in fields(Figures))


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
    # Keyed by category; None: "Lainnya / Tidak tahu" (no category).
    by_category: dict[int | None, Figures] = field(default_factory=dict)
    category_names: dict[int, str] = field(default_factory=dict)
    # Reports received in the year per channel (Telegram, Open311, the counter, phone, ...).
    by_channel: dict[str, int] = field(default_factory=dict)
    # The roll-up per kecamatan: its own reports and those of the kelurahan and desa under it.
    by_kecamatan: dict[int, Figures] = field(default_factory=dict)

    def category_name(self, category_id: int | None) -> str:
        if category_id is None:
            return _("Other / not sure")
        return self.category_names.get(category_id, f"#{category_id}")

    def categories_by_received(self) -> list[tuple[int | None, Figures]]:
        rows = [(c, f) for c, f in self.by_category.items() if f.received]
        return sorted(rows, key=lambda r: (-r[1].received, self.category_name(r[0])))

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
        fact.status in REPORTER_TURN
    ):
        return None
    if fact.assigned_at is not None and cal.local_date(fact.assigned_at) <= on:
        return fact.followup_due
    return fact.verify_due


def local_bounds(year: int, cal: WorkCalendar) -> tuple[datetime, datetime]:
    """The year as UTC instants, from local midnight of 1 January to that of the next year."""
    start = datetime.combine(date(year, 1, 1), time(), cal.tz)
    end = datetime.combine(date(year + 1, 1, 1), time(), cal.tz)
    return start, end


# A report's write is stamped (``Report.changed_at``) when it is flushed and seen by others when
# its transaction commits. A month counted at ``t`` is taken as current for every write stamped
# before ``t - COMMIT_MARGIN``: longer than any transaction that writes reports (an update's
# handler, a daily job's batch) takes from its first write to its commit.
COMMIT_MARGIN = timedelta(minutes=30)

# Status partitions the cohort: which Figures field a status's count goes to. Answered is the
# reporter's turn, counted in ``answered`` alone.
_BUCKET = {ReportStatus.CLOSED: "completed", ReportStatus.REJECTED: "rejected",
           ReportStatus.ARCHIVED: "archived", **dict.fromkeys(VERIFICATION_QUEUE, "waiting"),
           **dict.fromkeys(WITH_AGENCY, "in_progress")}

Period = tuple[datetime, datetime]


@dataclass
class MonthCohort:
    """The reports received in one month (or its part up to the reference date), summed per
    agency they are with now and per category; what the year's figures add up from."""

    by_agency: dict[int | None, Figures] = field(default_factory=lambda: defaultdict(Figures))
    by_category: dict[int | None, Figures] = field(default_factory=lambda: defaultdict(Figures))
    by_channel: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    received: int = 0
    completed: int = 0  # closed now


class StatsCache:
    """The months of /statistik counted once and counted again only when one of their reports
    changed (issue 15: a year of a million reports took 1.4-2.3 s to count on every /statistik
    and every per-agency button). Which months changed comes from ``Report.changed_at``, so no
    write path has to know about the cache; the backlog, which depends on the day, is always
    counted. One per process (the app builds it), a few kilobytes per month."""

    def __init__(self, margin: timedelta = COMMIT_MARGIN) -> None:
        self.margin = margin
        # (start, before) of a month -> (counted as of, its figures)
        self._months: dict[Period, tuple[datetime, MonthCohort]] = {}

    async def months(self, repo: StatsRepo, periods: list[Period]) -> list[MonthCohort]:
        """The figures of ``periods`` (consecutive, in order), counting those not counted yet
        or changed since."""
        clock = utcnow()
        known = {p: self._months[p] for p in periods if p in self._months}
        stale = {p for p in periods if p not in known}
        if known:
            since = min(as_of for as_of, _m in known.values())
            for period, written in zip(periods, await repo.last_changed(since, periods), strict=True):
                if period in known and written is not None and written >= known[period][0]:
                    stale.add(period)
        counted = dict(known)
        if stale:
            order = [p for p in periods if p in stale]
            fresh = await count_months(repo, order)
            as_of = clock - self.margin
            for period, month in zip(order, fresh, strict=True):
                counted[period] = (as_of, month)
                self._forget_month_of(period)
                self._months[period] = (as_of, month)
        return [counted[p][1] for p in periods]

    def _forget_month_of(self, period: Period) -> None:
        # The running month's end moves with the reference date: its earlier counts go.
        for old in [p for p in self._months if p[0] == period[0]]:
            del self._months[old]


async def count_months(repo: StatsRepo, periods: list[Period]) -> list[MonthCohort]:
    """Each period's cohort from the database: a statement per agency and per category, one for
    the channels."""
    months = [MonthCohort() for _p in periods]
    for by in ("agency_id", "category_id"):
        for i, row in await repo.cohort(periods, by):
            closed = row.status == ReportStatus.CLOSED
            values = {"received": row.n, "verified": row.verified, "answered": row.answered,
                      "reopened": row.reopened, "forwarded": row.forwarded,
                      "response_days_sum": row.response_days, "responded": row.responded,
                      "completion_days_sum": row.completion_days if closed else 0,
                      "completion_timed": row.completion_timed if closed else 0,
                      "rating_sum": row.rating_sum, "rated": row.rated,
                      "completed_in_time": row.ceiling_met if closed else 0,
                      "completed_late": row.ceiling_missed if closed else 0}
            if row.status in _BUCKET:
                values[_BUCKET[ReportStatus(row.status)]] = row.n
            groups = months[i].by_agency if by == "agency_id" else months[i].by_category
            _add(values, groups[row.agency_id if by == "agency_id" else row.category_id])
    for i, channel, n, done in await repo.by_period_and_channel(periods, ReportStatus.CLOSED.value):
        months[i].by_channel[channel] += n
        months[i].received += n
        months[i].completed += done
    return months


def month_periods(year: int, before: datetime, cal: WorkCalendar) -> list[tuple[int, Period]]:
    """``(month index, (start, end))`` of the year's months up to ``before``, the last one cut there."""
    starts = [datetime.combine(date(year, m, 1), time(), cal.tz) for m in range(1, 13)]
    ends = [*starts[1:], datetime.combine(date(year + 1, 1, 1), time(), cal.tz)]
    return [(i, (lo, min(hi, before))) for i, (lo, hi) in enumerate(zip(starts, ends, strict=True)) if lo < before]


async def year_statistics(
    session: AsyncSession, year: int, cal: WorkCalendar, today: date | None = None,
    cache: StatsCache | None = None,
) -> YearStats:
    """Aggregated in the database (GROUP BY over the indexed submission time) month by month,
    the months unchanged since ``cache`` counted them taken from it; the cost grows with the
    number of agencies and categories (and of changed months), not of reports."""
    today = today or cal.today()
    as_of = reference_date(year, today)
    start, _end = local_bounds(year, cal)
    before = datetime.combine(as_of + timedelta(days=1), time(), cal.tz)
    repo = StatsRepo(session)
    indexed = month_periods(year, before, cal)
    months = await (cache or StatsCache()).months(repo, [p for _i, p in indexed])

    total = Figures()
    by_agency: dict[int | None, Figures] = defaultdict(Figures)
    by_category: dict[int | None, Figures] = defaultdict(Figures)
    received_by_month = [0] * 12
    completed_by_month = [0] * 12
    by_channel: dict[str, int] = defaultdict(int)
    for (i, _period), month in zip(indexed, months, strict=True):
        for agency_id, figures in month.by_agency.items():
            by_agency[agency_id] += figures
        for category_id, figures in month.by_category.items():
            by_category[category_id] += figures
        for channel, n in month.by_channel.items():
            by_channel[channel] += n
        received_by_month[i] += month.received
        completed_by_month[i] += month.completed
    kecamatans = await repo.kecamatans()
    by_kecamatan: dict[int | None, Figures] = defaultdict(Figures)
    for agency_id, figures in by_agency.items():
        total += figures
        by_kecamatan[kecamatans.get(agency_id) if agency_id is not None else None] += figures

    for row in await repo.backlog(before=before, year_start=start, as_of=as_of,
                                  reporter_turn=[s.value for s in REPORTER_TURN]):
        values = {"backlog": row.n, "backlog_carried": row.carried, "overdue": row.late,
                  "overdue_carried": row.late_carried}
        _add(values, total, by_agency[row.agency_id], by_category[row.category_id], by_kecamatan[row.kecamatan_id])

    return YearStats(
        year=year, as_of=as_of, total=total, by_agency=dict(by_agency),
        agency_names=await repo.agency_names(), received_by_month=received_by_month,
        completed_by_month=completed_by_month, by_category=dict(by_category),
        category_names=await repo.category_names(), by_channel=dict(by_channel),
        by_kecamatan={k: f for k, f in by_kecamatan.items() if k is not None},
    )


def _add(values: dict[str, int], *into: Figures) -> None:
    # Plain attribute sums: tens of thousands of grouped rows at a million reports.
    for target in into:
        for name, value in values.items():
            if value:
                setattr(target, name, getattr(target, name) + value)


async def agency_load(
    session: AsyncSession, cal: WorkCalendar, today: date | None = None,
    agency_ids: Collection[int] | None = None,
) -> dict[int | None, tuple[int, int]]:
    """``{agency_id: (open, overdue)}`` today, for the directory (only ``agency_ids`` if given):
    the running year's backlog alone, as /statistik counts it."""
    today = today or cal.today()
    start, _end = local_bounds(today.year, cal)
    before = datetime.combine(today + timedelta(days=1), time(), cal.tz)
    load: dict[int | None, tuple[int, int]] = {}
    for row in await StatsRepo(session).backlog(
        before=before, year_start=start, as_of=today, reporter_turn=[s.value for s in REPORTER_TURN],
        agency_ids=agency_ids,
    ):
        n, late = load.get(row.agency_id, (0, 0))
        load[row.agency_id] = (n + row.n, late + row.late)
    return {a: v for a, v in load.items() if v[0]}
