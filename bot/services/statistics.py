"""Statistics for the coordinator (/statistik): what the annual evaluation asks for.

``year_statistics`` aggregates in the database (``StatsRepo.cohort``/``backlog_by_period``/``by_period_and_channel``):
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

import asyncio
import contextlib
import logging
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field, fields
from datetime import date, datetime, time, timedelta
from operator import attrgetter

from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.enums import EventKind, ReportStatus
from bot.domain.lifecycle import TERMINAL, VERIFICATION_QUEUE, WITH_AGENCY
from bot.domain.workdays import WorkCalendar
from storage.base import utcnow
from storage.repositories.stats import ReportFact, StatsRepo

log = logging.getLogger(__name__)

# How long after a start the running year is counted ahead (see ``warm_statistics``): late enough
# not to compete with the replay of unfinished updates and the first citizens after a restart.
WARM_AFTER_SECONDS = 30.0

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
_VALUES = attrgetter(*_FIGURES)


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
# its transaction commits. Every write committed after a count is taken to carry a stamp later
# than ``COMMIT_MARGIN`` before the count: longer than any transaction that writes reports (an
# update's handler, a daily job's batch) takes from its first write to its commit.
COMMIT_MARGIN = timedelta(minutes=30)

# Status partitions the cohort: which Figures field a status's count goes to. Answered is the
# reporter's turn, counted in ``answered`` alone.
_BUCKETS = {"completed": {ReportStatus.CLOSED}, "rejected": {ReportStatus.REJECTED},
            "archived": {ReportStatus.ARCHIVED}, "waiting": VERIFICATION_QUEUE, "in_progress": WITH_AGENCY}
_BUCKET_STATUSES = [[s.value for s in statuses] for statuses in _BUCKETS.values()]
_REPORTER_TURN = [s.value for s in REPORTER_TURN]

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


@dataclass
class MonthBacklog:
    """The reports received in one month and still open on a reference day: ``(open, late)``
    per agency they are with and per category."""

    by_agency: dict[int | None, tuple[int, int]] = field(default_factory=dict)
    by_category: dict[int | None, tuple[int, int]] = field(default_factory=dict)


@dataclass(frozen=True)
class _Counted:
    """A period's figures and what tells whether they are still current: ``seen``, the writes
    (report id, ``changed_at``) to the period's reports stamped at or after ``since``, as read
    before the figures were counted (or last found current)."""

    figures: MonthCohort | MonthBacklog
    since: datetime
    seen: frozenset[tuple[int, datetime]] | None  # None: too many to keep (never current)


class StatsCache:
    """The months of /statistik counted once, and counted again only when one of their reports
    was written since (issue 15: a year of a million reports took 1.4-2.3 s to count on every
    /statistik). Kept per month: the cohort (the reports received in it) and, per reference
    day, its part of the backlog (those still open that day). One per process (the app builds
    it; the bot's handlers and the public pages share it), a few kilobytes per month.

    Which months changed comes from ``Report.changed_at``, so no write path has to know about
    the cache. A write committed after a count carries a stamp no older than ``margin`` before
    it (``COMMIT_MARGIN``); so each month keeps the set of its writes stamped since then, read
    before its count, and is current for as long as that set reads the same: a later commit
    adds a report to it or gives one of its reports a new stamp (the same again only if written
    at the very microsecond of its last stamp). Found current, a month's set
    moves up to the new call's margin, so the writes read stay those of the last half hour and
    a month written to half an hour ago is not counted again on every call. Past ``max_writes``
    writes read (a bulk update), every month asked for is counted again instead.

    ``max_writes`` bounds what a call reads and sorts on the event loop, before its counts go to
    the database: 20,000 writes (after the retention job or an import) took 160-400 ms of the
    loop's CPU in one step, which citizens' replies waited behind; 2,000 take 20-30 ms. Past it,
    the months are counted by the database, as the 20,000th write already made them be."""

    def __init__(self, margin: timedelta = COMMIT_MARGIN, days_kept: int = 4, max_writes: int = 2_000) -> None:
        self.margin = margin
        self.days_kept = days_kept
        self.max_writes = max_writes
        self._cohorts: dict[Period, _Counted] = {}
        # Per reference day (the running year's moves every day; a past year's is its last).
        self._backlogs: dict[date, dict[Period, _Counted]] = {}

    def months_kept(self) -> int:
        """How many months' figures are kept (cohorts and backlogs)."""
        return len(self._cohorts) + sum(len(days) for days in self._backlogs.values())

    async def figures(
        self, repo: StatsRepo, cohort_periods: list[Period], backlog_periods: list[Period], *,
        before: datetime, as_of: date,
    ) -> tuple[list[MonthCohort], list[MonthBacklog]]:
        """The cohort of each of ``cohort_periods`` and the backlog on ``as_of`` of each of
        ``backlog_periods`` (months, in order, ending by ``before``), counting those not counted
        yet or written to since."""
        clock = utcnow()
        backlogs = self._backlogs.pop(as_of, {})
        self._backlogs[as_of] = backlogs  # the most recently used day last
        while len(self._backlogs) > self.days_kept:
            del self._backlogs[next(iter(self._backlogs))]
        asked = [(self._cohorts, p) for p in cohort_periods] + [(backlogs, p) for p in backlog_periods]
        if not asked:
            return [], []
        now_since = clock - self.margin
        # Read before any count, so that the counts see at least every write read here.
        since = min([now_since, *(kept[p].since for kept, p in asked if p in kept)])
        changes = await repo.changes_since(since, min(p[0] for _k, p in asked), max(p[1] for _k, p in asked),
                                           limit=self.max_writes + 1)
        overflow = len(changes) > self.max_writes
        written = _by_period(changes, sorted({p for _k, p in asked}))

        def seen(period: Period, since: datetime) -> frozenset[tuple[int, datetime]] | None:
            if overflow:
                return None
            return frozenset((i, at) for i, at in written.get(period, ()) if at >= since)

        def current(kept: dict[Period, _Counted], periods: list[Period]) -> dict[Period, MonthCohort | MonthBacklog]:
            # Taken now: a concurrent call may replace an entry while this one counts.
            return {p: kept[p].figures for p in periods
                    if p in kept and kept[p].seen is not None and kept[p].seen == seen(p, kept[p].since)}

        cohorts, open_ones = current(self._cohorts, cohort_periods), current(backlogs, backlog_periods)
        recount = [p for p in cohort_periods if p not in cohorts]
        cohorts.update(zip(recount, await count_months(repo, recount), strict=True))
        recount = [p for p in backlog_periods if p not in open_ones]
        open_ones.update(zip(recount, await count_backlogs(repo, recount, before=before, as_of=as_of), strict=True))
        for kept, figures in ((self._cohorts, cohorts), (backlogs, open_ones)):
            for p, month in figures.items():
                _forget_month_of(kept, p)
                # Current as of the writes read above: from now on, compared from this call's margin.
                kept[p] = _Counted(month, now_since, seen(p, now_since))
        return ([cohorts[p] for p in cohort_periods],  # type: ignore[misc]
                [open_ones[p] for p in backlog_periods])  # type: ignore[misc]


def _forget_month_of(kept: dict[Period, _Counted], period: Period) -> None:
    # The running month's end moves with the reference date: its earlier counts go.
    for old in [p for p in kept if p[0] == period[0]]:
        del kept[old]


def _by_period(changes: list[tuple[int, datetime, datetime]], periods: list[Period],
               ) -> dict[Period, list[tuple[int, datetime]]]:
    """The writes ``(id, submitted_at, changed_at)`` placed in the (sorted, disjoint) period of
    their report's submission."""
    starts = [lo for lo, _hi in periods]
    placed: dict[Period, list[tuple[int, datetime]]] = defaultdict(list)
    for report_id, submitted, changed in changes:
        i = bisect_right(starts, submitted) - 1
        if i >= 0 and submitted < periods[i][1]:
            placed[periods[i]].append((report_id, changed))
    return placed


async def count_months(repo: StatsRepo, periods: list[Period]) -> list[MonthCohort]:
    """Each period's cohort from the database, in one statement."""
    months = [MonthCohort() for _p in periods]
    if not periods:
        return months
    for by, i, key, row in await repo.cohort(periods, closed=ReportStatus.CLOSED.value, buckets=_BUCKET_STATUSES):
        statuses = dict(zip(_BUCKETS, row.buckets, strict=True))
        if by == "channel":
            months[i].by_channel[str(key)] += row.n
            months[i].received += row.n
            months[i].completed += statuses["completed"]
            continue
        values = {"received": row.n, "verified": row.verified, "answered": row.answered,
                  "reopened": row.reopened, "forwarded": row.forwarded,
                  "response_days_sum": row.response_days, "responded": row.responded,
                  "completion_days_sum": row.completion_days, "completion_timed": row.completion_timed,
                  "rating_sum": row.rating_sum, "rated": row.rated,
                  "completed_in_time": row.ceiling_met, "completed_late": row.ceiling_missed, **statuses}
        _add(values, (months[i].by_agency if by == "agency_id" else months[i].by_category)[key])  # type: ignore[index]
    return months


async def count_backlogs(repo: StatsRepo, periods: list[Period], *, before: datetime, as_of: date,
                         ) -> list[MonthBacklog]:
    """Each period's reports open at ``before`` (late: on ``as_of``), per agency and per category."""
    months = [MonthBacklog() for _p in periods]
    if not periods:
        return months
    for by, i, key, n, late in await repo.backlog_by_period(periods, before=before, as_of=as_of,
                                                            reporter_turn=_REPORTER_TURN):
        (months[i].by_agency if by == "agency_id" else months[i].by_category)[key] = (n, late)
    return months


def month_periods(year: int, before: datetime, cal: WorkCalendar) -> list[tuple[int, Period]]:
    """``(month index, (start, end))`` of the year's months up to ``before``, the last one cut there."""
    starts = [datetime.combine(date(year, m, 1), time(), cal.tz) for m in range(1, 13)]
    ends = [*starts[1:], datetime.combine(date(year + 1, 1, 1), time(), cal.tz)]
    return [(i, (lo, min(hi, before))) for i, (lo, hi) in enumerate(zip(starts, ends, strict=True)) if lo < before]


def months_since(first: datetime | None, before: datetime, cal: WorkCalendar) -> list[Period]:
    """The months from that of ``first`` (a submission) up to ``before``, the last one cut there."""
    if first is None:
        return []
    day = cal.local_date(first)
    return [p for year in range(day.year, before.year + 1) for i, p in month_periods(year, before, cal)
            if (year, i + 1) >= (day.year, day.month)]


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
    # The backlog counts the reports open on the day whatever month they came in.
    backlog_periods = months_since(await repo.first_submitted(), before, cal)
    months, backlogs = await (cache if cache is not None else StatsCache()).figures(
        repo, [p for _i, p in indexed], backlog_periods, before=before, as_of=as_of)

    agency_parts: dict[int | None, list[Figures]] = defaultdict(list)
    category_parts: dict[int | None, list[Figures]] = defaultdict(list)
    received_by_month = [0] * 12
    completed_by_month = [0] * 12
    by_channel: dict[str, int] = defaultdict(int)
    for (i, _period), month in zip(indexed, months, strict=True):
        for agency_id, figures in month.by_agency.items():
            agency_parts[agency_id].append(figures)
        for category_id, figures in month.by_category.items():
            category_parts[category_id].append(figures)
        for channel, n in month.by_channel.items():
            by_channel[channel] += n
        received_by_month[i] += month.received
        completed_by_month[i] += month.completed
    # New objects: the months' own figures stay as the cache keeps them.
    by_agency = defaultdict(Figures, {a: _summed(parts) for a, parts in agency_parts.items()})
    by_category = defaultdict(Figures, {c: _summed(parts) for c, parts in category_parts.items()})
    # Summed over the months first: a few thousand pairs, then one addition per group.
    for groups, pick in ((by_agency, lambda m: m.by_agency), (by_category, lambda m: m.by_category)):
        open_sums: dict[int | None, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
        for period, month in zip(backlog_periods, backlogs, strict=True):
            carried = period[0] < start
            for key, (n, late) in pick(month).items():
                sums = open_sums[key]
                sums[0] += n
                sums[1] += late
                if carried:
                    sums[2] += n
                    sums[3] += late
        for key, (n, late, n_carried, late_carried) in open_sums.items():
            _add({"backlog": n, "overdue": late, "backlog_carried": n_carried, "overdue_carried": late_carried},
                 groups[key])
    kecamatans = await repo.kecamatans()
    kecamatan_parts: dict[int | None, list[Figures]] = defaultdict(list)
    for agency_id, figures in by_agency.items():
        kecamatan_parts[kecamatans.get(agency_id) if agency_id is not None else None].append(figures)
    total = _summed(by_agency.values())
    by_kecamatan = {k: _summed(parts) for k, parts in kecamatan_parts.items() if k is not None}

    return YearStats(
        year=year, as_of=as_of, total=total, by_agency=dict(by_agency),
        agency_names=await repo.agency_names(), received_by_month=received_by_month,
        completed_by_month=completed_by_month, by_category=dict(by_category),
        category_names=await repo.category_names(), by_channel=dict(by_channel),
        by_kecamatan=by_kecamatan,
    )


def _summed(parts: Iterable[Figures]) -> Figures:
    # Field by field in C (attrgetter, zip, sum): a year is a dozen months of a hundred groups,
    # and attribute-by-attribute sums cost the bot 50-80 ms of CPU per /statistik under load.
    return Figures(*map(sum, zip(*map(_VALUES, parts), strict=True)))


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


async def warm_statistics(
    session_factory: async_sessionmaker[AsyncSession], cal: WorkCalendar, cache: StatsCache,
    stop: asyncio.Event, after: float = WARM_AFTER_SECONDS,
) -> None:
    """Count the running year into ``cache`` once, ``after`` seconds after a start, unless the
    process stops first. The first /statistik after a start otherwise counted every month while
    the admin waited (0.9-2.3 s at a million reports; cached, 0.02-0.3 s). A failure only costs
    that first call its speed, so it is logged, not raised."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), after)
        return
    try:
        async with session_factory() as session:
            await year_statistics(session, cal.today().year, cal, cache=cache)
    except Exception:
        log.warning("the running year's statistics were not counted ahead", exc_info=True)
