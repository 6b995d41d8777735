"""Overdue reports summarised: counts per agency, the oldest few, and one page at a time.

At a million reports tens of thousands may be overdue; the daily messages carry counts and
the oldest few (issue 15: the escalation had listed 22k reports in 766 messages), and the
admin pages through the rest. Every query here is answered from the (status, deadline)
indexes and returns at most a page or one row per agency.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy import ColumnElement, Select, String, case, column, func, literal, select, true, union_all, values
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Agency, Report


@dataclass(frozen=True, slots=True)
class AgencyCount:
    agency_id: int
    agency_name: str
    overdue: int  # due before the day given
    due_soon: int  # due on or after it (up to the horizon asked for)
    oldest_due: date | None  # of those two; None when only past the completion ceiling
    # Past ``Report.completion_due`` (the ceiling by kind of report), when asked for: counted
    # apart, a report may be past it and not yet past its follow-up deadline, or the reverse.
    past_ceiling: int = 0


@dataclass(frozen=True, slots=True)
class OverdueLine:
    report_id: int
    tracking_id: str
    title: str
    due: date
    # The agency it waits for; None: it waits for verification by the coordinators.
    agency_name: str | None


@dataclass(frozen=True, slots=True)
class Scope:
    """What counts as overdue on a day: with an agency past ``followup_due`` (before
    ``followup_before``), or in the verification queue past ``verify_due`` (before
    ``verify_before``)."""

    with_agency: Collection[str]
    followup_before: date
    verification_queue: Collection[str]
    verify_before: date


class OverdueRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def per_agency(
        self, statuses: Collection[str], overdue_before: date, due_by: date,
        agency_ids: Collection[int] | None = None, *, ceiling_before: date | None = None,
    ) -> list[AgencyCount]:
        """Per agency, reports with it due by ``due_by``: how many are overdue (due before
        ``overdue_before``) and how many due soon; the most urgent agency first. With
        ``ceiling_before``, also how many are past their completion ceiling (due before it),
        agencies with only those last."""
        late = func.sum(case((Report.followup_due < overdue_before, 1), else_=0))
        grouped = (
            select(Report.agency_id, func.count().label("n"), late.label("late"),
                   func.min(Report.followup_due).label("oldest"))
            .where(Report.status.in_(list(statuses)), Report.followup_due <= due_by)
            .group_by(Report.agency_id)
        )
        # The names joined to the groups, not to each of the tens of thousands of reports due
        # (half of the statement's time at 1M reports, issue 15).
        g = grouped.subquery()
        stmt = (select(g.c.agency_id, Agency.name, g.c.n, g.c.late, g.c.oldest)
                .join(Agency, Agency.id == g.c.agency_id).order_by(g.c.oldest, Agency.name))
        rows = (await self.session.execute(stmt)).all()
        # The agencies asked for are picked from the groups (one row per agency): asked in the
        # statement, PostgreSQL read the reports in agency order, 2-3x slower than by deadline.
        wanted = None if agency_ids is None else set(agency_ids)
        counts = [AgencyCount(aid, name, int(over or 0), int(n) - int(over or 0), oldest)
                  for aid, name, n, over, oldest in rows if wanted is None or aid in wanted]
        if ceiling_before is None:
            return counts
        past = await self._past_ceiling(statuses, ceiling_before, agency_ids)
        merged = [replace(c, past_ceiling=past.pop(c.agency_id)[1]) if c.agency_id in past else c
                  for c in counts]
        rest = sorted(past.items(), key=lambda item: (item[1][2], item[1][0]))
        return merged + [AgencyCount(aid, name, 0, 0, None, n) for aid, (name, n, _oldest) in rest]

    async def _past_ceiling(
        self, statuses: Collection[str], before: date, agency_ids: Collection[int] | None,
    ) -> dict[int, tuple[str, int, date]]:
        """``{agency_id: (name, count, oldest completion_due)}`` past the ceiling: one GROUP BY
        over the (status, completion_due) index (index-only on PostgreSQL), the names joined to
        the groups rather than to every report."""
        grouped = (
            select(Report.agency_id, func.count().label("n"), func.min(Report.completion_due).label("oldest"))
            .where(Report.status.in_(list(statuses)), Report.completion_due < before,
                   Report.agency_id.is_not(None))
            .group_by(Report.agency_id)
        )
        g = grouped.subquery()
        stmt = select(g.c.agency_id, Agency.name, g.c.n, g.c.oldest).join(Agency, Agency.id == g.c.agency_id)
        wanted = None if agency_ids is None else set(agency_ids)  # picked from the groups, as above
        return {aid: (name, int(n), oldest) for aid, name, n, oldest in (await self.session.execute(stmt)).all()
                if wanted is None or aid in wanted}

    async def past_ceiling_count(self, statuses: Collection[str], before: date) -> int:
        """Reports in ``statuses`` past their completion ceiling (``completion_due`` before
        ``before``), e.g. the verification queue's."""
        stmt = select(func.count()).select_from(Report).where(
            Report.status.in_(list(statuses)), Report.completion_due < before)
        return int(await self.session.scalar(stmt) or 0)

    async def verification_count(self, statuses: Collection[str], before: date) -> int:
        stmt = select(func.count()).select_from(Report).where(
            Report.status.in_(list(statuses)), Report.verify_due < before)
        return int(await self.session.scalar(stmt) or 0)

    async def oldest(self, scope: Scope, *, limit: int, offset: int = 0) -> list[OverdueLine]:
        """Everything overdue in ``scope``, the longest overdue first, one page."""
        followups = (
            select(Report.id.label("id"), Report.followup_due.label("due"), literal(True).label("with_agency"))
            .where(Report.status.in_(list(scope.with_agency)), Report.followup_due < scope.followup_before,
                   Report.agency_id.is_not(None))
        )
        verification = (
            select(Report.id, Report.verify_due, literal(False))
            .where(Report.status.in_(list(scope.verification_queue)), Report.verify_due < scope.verify_before)
        )
        both = union_all(followups, verification).subquery()
        page = select(both).order_by(both.c.due, both.c.id).limit(limit).offset(offset).subquery()
        return await self._lines(page, agency_of=page.c.with_agency)

    async def oldest_per_agency(
        self, statuses: Collection[str], due_by: date, agency_ids: Collection[int], per_agency: int,
    ) -> dict[int, list[OverdueLine]]:
        """For each agency, its ``per_agency`` reports due soonest (longest overdue first)."""
        if not agency_ids:
            return {}
        if self.session.bind is not None and self.session.bind.dialect.name == "postgresql":
            picked = self._soonest_per_agency_lateral(statuses, due_by, agency_ids, per_agency)
        else:
            picked = self._soonest_per_agency_ranked(statuses, due_by, agency_ids, per_agency)
        shown = (await self.session.execute(picked)).all()
        # Titles read for the few shown only, in a second statement: joined in one, PostgreSQL
        # expects the choice to keep most rows and scans the whole table for their titles.
        lines = {line.report_id: line for line in await self._lines_of([rid for rid, _a in shown])}
        out: dict[int, list[OverdueLine]] = {}
        for rid, agency_id in shown:
            out.setdefault(agency_id, []).append(lines[rid])
        return out

    @staticmethod
    def _soonest_per_agency_ranked(
        statuses: Collection[str], due_by: date, agency_ids: Collection[int], per_agency: int,
    ) -> Select:
        """``(id, agency_id)`` of the chosen, ranked over the index's columns by a window
        (SQLite knows no LATERAL)."""
        rank = func.row_number().over(
            partition_by=Report.agency_id, order_by=(Report.followup_due, Report.id)).label("rank")
        ranked = (
            select(Report.id.label("id"), Report.agency_id, rank)
            .where(Report.status.in_(list(statuses)), Report.followup_due <= due_by,
                   Report.agency_id.in_(list(agency_ids)))
            .subquery()
        )
        return (select(ranked.c.id, ranked.c.agency_id).where(ranked.c.rank <= per_agency)
                .order_by(ranked.c.agency_id, ranked.c.rank))

    @staticmethod
    def _soonest_per_agency_lateral(
        statuses: Collection[str], due_by: date, agency_ids: Collection[int], per_agency: int,
    ) -> Select:
        """The same on PostgreSQL: for each agency and status the first few in deadline order,
        read from the (agency_id, status, followup_due, id) index, then the first few of those
        per agency. The window over every report due (54k at 1M reports) sorted them all on
        disk (issue 15)."""
        each = values(column("status", String), name="each_status").data([(st,) for st in sorted(statuses)])
        pairs = (
            select(Agency.id.label("agency_id"), each.c.status)
            .select_from(Agency)
            .join(each, true())
            .where(Agency.id.in_(list(agency_ids)))
            .subquery("pairs")
        )
        soonest = (
            select(Report.id, Report.followup_due, Report.agency_id)
            .where(Report.status == pairs.c.status, Report.agency_id == pairs.c.agency_id,
                   Report.followup_due <= due_by)
            .order_by(Report.followup_due, Report.id)
            .limit(per_agency)
            .lateral("soonest")
        )
        rank = func.row_number().over(
            partition_by=soonest.c.agency_id, order_by=(soonest.c.followup_due, soonest.c.id)).label("rank")
        ranked = select(soonest.c.id, soonest.c.agency_id, rank).select_from(pairs).join(soonest, true()).subquery()
        return (select(ranked.c.id, ranked.c.agency_id).where(ranked.c.rank <= per_agency)
                .order_by(ranked.c.agency_id, ranked.c.rank))

    async def of_agencies(
        self, statuses: Collection[str], before: date, agency_ids: Collection[int], *, limit: int, offset: int = 0,
    ) -> list[OverdueLine]:
        """The agencies' reports past ``followup_due`` (due before ``before``), longest overdue
        first, one page, each with its agency's name (a kecamatan's view of its villages)."""
        page = (
            select(Report.id.label("id"), Report.followup_due.label("due"))
            .where(Report.status.in_(list(statuses)), Report.followup_due < before,
                   Report.agency_id.in_(list(agency_ids)))
            .order_by(Report.followup_due, Report.id)
            .limit(limit)
            .offset(offset)
            .subquery()
        )
        return await self._lines(page, agency_of=literal(True))

    async def _lines(self, page, *, agency_of: ColumnElement[bool]) -> list[OverdueLine]:
        """The lines of a page of ``(id, due)`` rows chosen from the (status, deadline) indexes
        alone, in (due, id) order: titles are read for the page only (sorting whole rows of
        tens of thousands of overdue reports took most of a second at 1M reports, issue 15).
        ``agency_of``: whether a row names its agency."""
        name = case((agency_of, Agency.name))
        stmt = (
            select(Report.id, Report.tracking_id, Report.title, page.c.due, name)
            .join(page, page.c.id == Report.id)
            .outerjoin(Agency, Agency.id == Report.agency_id)
            .order_by(page.c.due, Report.id)
        )
        return [OverdueLine(*row) for row in (await self.session.execute(stmt)).all()]

    async def _lines_of(self, report_ids: list[int]) -> list[OverdueLine]:
        """Lines naming no agency for the given reports (their follow-up deadline as due)."""
        if not report_ids:
            return []
        stmt = select(Report.id, Report.tracking_id, Report.title, Report.followup_due,
                      literal(None, Agency.name.type)).where(Report.id.in_(report_ids))
        return [OverdueLine(*row) for row in (await self.session.execute(stmt)).all()]

    async def count_of_agencies(self, statuses: Collection[str], before: date, agency_ids: Collection[int]) -> int:
        stmt = select(func.count()).select_from(Report).where(
            Report.status.in_(list(statuses)), Report.followup_due < before, Report.agency_id.in_(list(agency_ids)))
        return int(await self.session.scalar(stmt) or 0)

    async def count(self, scope: Scope) -> int:
        followups = select(func.count()).select_from(Report).where(
            Report.status.in_(list(scope.with_agency)), Report.followup_due < scope.followup_before,
            Report.agency_id.is_not(None))
        return int(await self.session.scalar(followups) or 0) + await self.verification_count(
            scope.verification_queue, scope.verify_before)

