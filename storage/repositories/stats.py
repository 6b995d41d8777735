"""The rows statistics and exports are computed from. Queries only; the arithmetic lives in
``bot.services.statistics`` so it can be checked by hand without a database."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Integer, Select, and_, case, func, literal_column, null, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.models import Agency, Category, Report, ReportEvent
from storage.parallelism import limit_parallel_workers


@dataclass(frozen=True, slots=True)
class ReportFact:
    id: int
    tracking_id: str
    agency_id: int | None
    status: str
    classification: str
    privacy: str
    submitted_at: datetime
    verify_due: date | None
    assigned_at: datetime | None
    followup_due: date | None
    first_response_at: datetime | None
    answered_at: datetime | None
    closed_at: datetime | None
    updated_at: datetime
    # When the latest of the ``ended_kinds`` events happened (rejection, archiving).
    ended_event_at: datetime | None
    rating: int | None
    reopened_count: int
    category_id: int | None = None
    lapor_id: str | None = None  # set once recorded in SP4N-LAPOR!
    channel: str = "telegram"  # where it came in (bot.domain.enums.Channel)
    completion_due: date | None = None  # the completion ceiling by kind of report


_FACT_COLUMNS = (
    Report.id, Report.tracking_id, Report.agency_id, Report.status, Report.classification,
    Report.privacy, Report.submitted_at, Report.verify_due, Report.assigned_at,
    Report.followup_due, Report.first_response_at, Report.answered_at, Report.closed_at,
    Report.updated_at,
)
# After the ended-event time, in ReportFact's order.
_FACT_TAIL = (Report.rating, Report.reopened_count, Report.category_id, Report.lapor_id, Report.channel,
              Report.completion_due)


@dataclass(frozen=True, slots=True)
class CohortRow:
    """Reports received in a period with one agency (or one category), summed in SQL: one row
    per group rather than one per status, so the bot decodes a few hundred rows a year."""

    key: int | str | None  # the agency or category id (None: none), or the channel
    n: int
    verified: int
    answered: int
    reopened: int
    forwarded: int
    response_days: int  # working days from receipt to the first response, summed
    responded: int
    # Of the reports closed now: working days from receipt to closing, summed; and those closed
    # with the last answer (without one: the closing) by ``completion_due``, or after it
    # (``Report.completion_met``).
    completion_days: int
    completion_timed: int
    rating_sum: int
    rated: int
    ceiling_met: int
    ceiling_missed: int
    # How many are in each set of statuses the caller asked for (``buckets``), in its order.
    buckets: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class BacklogRow:
    """Reports open on a day with one (agency, category), summed."""

    agency_id: int | None
    category_id: int | None
    n: int
    carried: int  # received before the period's start
    late: int
    late_carried: int
    kecamatan_id: int | None = None


_Holder = aliased(Agency, name="holder")
# The roll-up per kecamatan: a report held by a kecamatan counts for it, one held by a kelurahan or
# desa for the kecamatan above it. It depends on the agency alone, so each group of an agency
# gets its kecamatan (``_with_kecamatan``) and the service sums them.
kecamatan_of = case(
    (_Holder.kind == "kecamatan", _Holder.id),
    (_Holder.kind.in_(("kelurahan", "desa")), _Holder.parent_id),
    else_=None,
)


def _with_kecamatan(grouped) -> Select:
    """The grouped rows (first column ``agency_id``) and each one's kecamatan: the directory is
    joined to the groups, not to every report (a join per row cost a third of the cohort's time
    at a million reports)."""
    return (select(*grouped.c, kecamatan_of)
            .select_from(grouped)
            .outerjoin(_Holder, _Holder.id == grouped.c.agency_id))


@dataclass(frozen=True, slots=True)
class WeekRow:
    """One agency's week (the weekly summary)."""

    agency_id: int | None
    received: int
    response_days: int  # summed over the reports first responded to in the week
    responded: int
    completed: int
    completion_days: int
    overdue: int  # open now past the deadline of their step


_WEEK_SUMS = ("received", "response_days", "responded", "completed", "completion_days", "overdue")


def _flag(condition) -> object:
    return case((condition, 1), else_=0)


def _total(expr) -> object:
    return func.coalesce(func.sum(expr), 0)


def ended_events(ended_kinds: Iterable[str]):
    """``(report_id, at)``: when each report last had one of ``ended_kinds`` (rejected, archived…)."""
    return (
        select(ReportEvent.report_id, func.max(ReportEvent.created_at).label("at"))
        .where(ReportEvent.kind.in_(list(ended_kinds)))
        .group_by(ReportEvent.report_id)
        .subquery()
    )


def _late(before: datetime, as_of: date, reporter_turn: Iterable[str]) -> object:
    """1 when a report open at ``before`` was past the deadline of the step it was in on
    ``as_of``: verification, or the agency's follow-up once assigned; never while answered and
    the reporter's turn (``reporter_turn``)."""
    return case(
        (and_(Report.answered_at.is_not(None), Report.answered_at < before,
              Report.status.in_(list(reporter_turn))), 0),
        (and_(Report.assigned_at.is_not(None), Report.assigned_at < before),
         _flag(Report.followup_due < as_of)),
        else_=_flag(Report.verify_due < as_of),
    )


class StatsRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def facts(
        self,
        *,
        submitted_before: datetime,
        submitted_from: datetime | None = None,
        ended_kinds: Iterable[str] = (),
    ) -> list[ReportFact]:
        """Every report submitted in ``[submitted_from, submitted_before)``, oldest first."""
        ended = ended_events(ended_kinds)
        query = (
            select(*_FACT_COLUMNS, ended.c.at, *_FACT_TAIL)
            .outerjoin(ended, ended.c.report_id == Report.id)
            .where(Report.submitted_at < submitted_before)
            .order_by(Report.submitted_at, Report.id)
        )
        if submitted_from is not None:
            query = query.where(Report.submitted_at >= submitted_from)
        return [ReportFact(*row) for row in (await self.session.execute(query)).all()]

    async def cohort(
        self, periods: Sequence[tuple[datetime, datetime]], *, closed: str, buckets: Sequence[Collection[str]],
    ) -> list[tuple[str, int, int | str | None, CohortRow]]:
        """``(by, i, key, row)``: the reports submitted in ``periods[i]`` (``[start, before)``)
        grouped by ``by``, one of ``agency_id``, ``category_id`` and ``channel``, as sums of the
        facts stored on each report (``response_days``, ``completion_days``); the completion
        figures count the reports in status ``closed`` only, and ``buckets`` (sets of statuses)
        are counted apart. One statement: each period's index range of the covering index on
        ``submitted_at`` is read once and grouped by agency, category and channel together (a
        few thousand groups a month), and those groups are summed per agency, per category and
        per channel (three passes over a month at a million reports cost 2.5 times as much).
        Without the kecamatan (``kecamatans``)."""
        if not periods:
            return []
        is_closed = Report.status == closed
        sums = {
            "n": func.count(), "verified": func.count(Report.assigned_at),
            "answered": func.count(Report.answered_at),
            "reopened": func.count(func.nullif(Report.reopened_count, 0)), "forwarded": func.count(Report.lapor_id),
            "response_days": _total(Report.response_days), "responded": func.count(Report.response_days),
            "completion_days": _total(case((is_closed, Report.completion_days))),
            "completion_timed": func.count(case((is_closed, Report.completion_days))),
            "rating_sum": _total(Report.rating), "rated": func.count(Report.rating),
            # Closed within the completion ceiling, or late (NULL, not closed: neither).
            "ceiling_met": func.count(case((and_(is_closed, Report.completion_met.is_(True)), 1))),
            "ceiling_missed": func.count(case((and_(is_closed, Report.completion_met.is_(False)), 1))),
            **{f"bucket{j}": func.count(case((Report.status.in_(list(statuses)), 1)))
               for j, statuses in enumerate(buckets)},
        }
        keys = (Report.agency_id, Report.category_id, Report.channel)
        groups = union_all(*(
            select(literal_column(str(i), Integer).label("period"), *keys, *(e.label(n) for n, e in sums.items()))
            .where(Report.submitted_at >= lo, Report.submitted_at < before).group_by(*keys)
            for i, (lo, before) in enumerate(periods)
        )).cte("cohort_groups")
        c = groups.c

        def per(by: str) -> Select:
            picked = [c[k.key] if k.key == by else null().label(k.key) for k in keys]
            return (select(literal_column(f"'{by}'").label("by"), c.period, *picked,
                           *(func.sum(c[n]).label(n) for n in sums))
                    .group_by(c.period, c[by]))

        await limit_parallel_workers(await self.session.connection())
        rows = (await self.session.execute(union_all(*(per(k.key) for k in keys)))).all()
        width = len(buckets)
        at = {"agency_id": 2, "category_id": 3, "channel": 4}
        return [(r[0], int(r[1]), r[at[r[0]]], CohortRow(r[at[r[0]]], *(int(v) for v in r[5:len(r) - width]),
                                                         buckets=tuple(int(v) for v in r[len(r) - width:])))
                for r in rows]

    async def changes_since(
        self, since: datetime, start: datetime, before: datetime, *, limit: int,
    ) -> list[tuple[int, datetime, datetime]]:
        """``(id, submitted_at, changed_at)`` of the reports submitted in ``[start, before)``
        whose row was written (``changed_at``) at or after ``since``, at most ``limit``: one
        range of ``ix_report_changed_at`` (a few hundred rows in a half hour of casework)."""
        rows = await self.session.execute(
            select(Report.id, Report.submitted_at, Report.changed_at)
            .where(Report.changed_at >= since, Report.submitted_at >= start, Report.submitted_at < before)
            .limit(limit))
        return [tuple(r) for r in rows.all()]

    async def first_submitted(self) -> datetime | None:
        return await self.session.scalar(select(func.min(Report.submitted_at)))

    async def kecamatans(self) -> dict[int, int | None]:
        """Every agency's kecamatan (``kecamatan_of``): itself, the one above it, or None."""
        rows = await self.session.execute(select(_Holder.id, kecamatan_of))
        return {aid: kec for aid, kec in rows.all()}

    async def backlog(
        self, *, before: datetime, year_start: datetime, as_of: date, reporter_turn: Iterable[str],
        agency_ids: Iterable[int] | None = None,
    ) -> list[BacklogRow]:
        """Reports submitted before ``before`` and still open then (``ended_at`` NULL or not
        before it), grouped by agency and category (only ``agency_ids`` if given). Late: past the
        deadline of the step they were in on ``as_of`` (``_late``). Carried: submitted before
        ``year_start``."""
        late = _late(before, as_of, reporter_turn)

        def still_open(ended) -> object:
            query = (select(Report.agency_id, Report.category_id, late.label("late"),
                            _flag(Report.submitted_at < year_start).label("carried"))
                     .where(ended, Report.submitted_at < before))
            if agency_ids is not None:
                query = query.where(Report.agency_id.in_(list(agency_ids)))
            return query

        # Two index ranges rather than one OR, which PostgreSQL would answer from the heap.
        inner = union_all(still_open(Report.ended_at.is_(None)),
                          still_open(Report.ended_at >= before)).subquery()
        c = inner.c
        grouped = select(
            c.agency_id, c.category_id, func.count().label("n"), _total(c.carried).label("carried"),
            _total(c.late).label("late"), _total(c.late * c.carried).label("late_carried"),
        ).group_by(c.agency_id, c.category_id).subquery()
        rows = (await self.session.execute(_with_kecamatan(grouped))).all()
        return [BacklogRow(r[0], r[1], *(int(v) for v in r[2:-1]), kecamatan_id=r[-1]) for r in rows]

    async def backlog_by_period(
        self, periods: Sequence[tuple[datetime, datetime]], *, before: datetime, as_of: date,
        reporter_turn: Iterable[str],
    ) -> list[tuple[str, int, int | None, int, int]]:
        """``(by, i, key, open, late)``: the reports submitted in ``periods[i]`` (each ending by
        ``before``) and still open at ``before``, grouped by ``by`` (``agency_id`` or
        ``category_id``); late as ``backlog``. The open ones per period are one range of
        ``ix_report_ended_at`` each (``ended_at`` NULL); those ended since ``before`` are one
        range for all periods, each placed in its period by its submission. One statement: grouped
        by agency and category together, then summed per agency and per category."""
        if not periods:
            return []
        keys = (Report.agency_id, Report.category_id)
        late = _late(before, as_of, reporter_turn).label("late")
        parts = [select(literal_column(str(i), Integer).label("period"), *keys, late)
                 .where(Report.ended_at.is_(None), Report.submitted_at >= lo, Report.submitted_at < hi)
                 for i, (lo, hi) in enumerate(periods)]
        which = case(*((and_(Report.submitted_at >= lo, Report.submitted_at < hi), i)
                       for i, (lo, hi) in reversed(list(enumerate(periods)))))
        ended_later = (select(which.label("period"), *keys, late)
                       .where(Report.ended_at >= before, Report.submitted_at >= min(lo for lo, _hi in periods),
                              Report.submitted_at < max(hi for _lo, hi in periods))
                       .subquery())
        parts.append(select(ended_later).where(ended_later.c.period.is_not(None)))
        inner = union_all(*parts).subquery()
        groups = (select(inner.c.period, inner.c.agency_id, inner.c.category_id, func.count().label("n"),
                         _total(inner.c.late).label("late"))
                  .group_by(inner.c.period, inner.c.agency_id, inner.c.category_id).cte("backlog_groups"))
        c = groups.c

        def per(by: str) -> Select:
            return (select(literal_column(f"'{by}'").label("by"), c.period, c[by], func.sum(c.n), func.sum(c.late))
                    .group_by(c.period, c[by]))

        await limit_parallel_workers(await self.session.connection())
        rows = await self.session.execute(union_all(per("agency_id"), per("category_id")))
        return [(by, int(i), k, int(n), int(n_late)) for by, i, k, n, n_late in rows.all()]

    async def week(
        self, start: datetime, end: datetime, due_before: date, *, closed: str,
        with_agency: Iterable[str], verification_queue: Iterable[str],
    ) -> list[WeekRow]:
        """Per agency (None: not assigned): reports submitted, first responded to and closed in
        ``[start, end)`` with their stored working days, and those open in a step whose
        deadline is before ``due_before``. Four small GROUP BYs, each over its own index."""
        def in_week(col) -> object:
            return and_(col >= start, col < end)

        def part(**sums) -> Select:
            return select(Report.agency_id, *(sums.get(name, literal_column("0", Integer)).label(name)
                                              for name in _WEEK_SUMS))

        parts = [
            part(received=func.count()).where(in_week(Report.submitted_at)),
            part(response_days=_total(Report.response_days), responded=func.count())
            .where(in_week(Report.first_response_at)),
            part(completed=func.count(), completion_days=_total(Report.completion_days))
            .where(Report.status == closed, in_week(Report.closed_at)),
            part(overdue=func.count())
            .where(Report.status.in_(list(with_agency)), Report.followup_due < due_before),
            part(overdue=func.count())
            .where(Report.status.in_(list(verification_queue)), Report.verify_due < due_before),
        ]
        rows: dict[int | None, list[int]] = {}
        for q in parts:
            for agency_id, *values in (await self.session.execute(q.group_by(Report.agency_id))).all():
                sums = rows.setdefault(agency_id, [0] * 6)
                for i, v in enumerate(values):
                    sums[i] += int(v)
        return [WeekRow(agency_id, *sums) for agency_id, sums in rows.items()]

    async def by_month_and_channel(
        self, start: datetime, before: datetime, month_starts: list[datetime], closed: str = "closed",
    ) -> list[tuple[int, str, int, int]]:
        """``(month index, channel, received, of them closed now)`` of the reports submitted in
        ``[start, before)``; ``month_starts`` are the instants months 2..12 begin."""
        bounds = [start, *month_starts]
        periods = []
        for i, lo in enumerate(bounds):
            hi = min(bounds[i + 1], before) if i + 1 < len(bounds) else before
            periods.append((lo, hi))
        return await self.by_period_and_channel(periods, closed)

    async def by_period_and_channel(
        self, periods: Sequence[tuple[datetime, datetime]], closed: str = "closed",
    ) -> list[tuple[int, str, int, int]]:
        """``(i, channel, received, of them closed now)`` of the reports submitted in
        ``periods[i]``. One index range per period in one statement: a month per row by a CASE
        over the timestamp cost four times as much at a million reports."""
        parts = [
            select(literal_column(str(i), Integer).label("period"), Report.channel,
                   func.count().label("n"), func.count(case((Report.status == closed, 1))).label("done"))
            .where(Report.submitted_at >= lo, Report.submitted_at < hi)
            .group_by(Report.channel)
            for i, (lo, hi) in enumerate(periods) if lo < hi
        ]
        if not parts:
            return []
        rows = (await self.session.execute(union_all(*parts))).all()
        return [(int(m), str(c), int(n), int(d)) for m, c, n, d in rows]

    async def by_month(self, start: datetime, before: datetime, month_starts: list[datetime],
                       closed: str = "closed") -> list[tuple[int, int, int]]:
        """``(month index, received, of them closed now)``, as ``by_month_and_channel``."""
        months: dict[int, tuple[int, int]] = {}
        for month, _channel, n, done in await self.by_month_and_channel(start, before, month_starts, closed):
            received, closed_now = months.get(month, (0, 0))
            months[month] = (received + n, closed_now + done)
        return [(m, n, d) for m, (n, d) in sorted(months.items())]

    async def category_names(self) -> dict[int, str]:
        rows = await self.session.execute(select(Category.id, Category.name))
        return {cid: name for cid, name in rows.all()}

    async def agency_names(self) -> dict[int, str]:
        rows = await self.session.execute(select(Agency.id, Agency.name))
        return {aid: name for aid, name in rows.all()}
