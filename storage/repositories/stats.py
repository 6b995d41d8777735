"""The rows statistics and exports are computed from. Queries only; the arithmetic lives in
``bot.services.statistics`` so it can be checked by hand without a database."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Agency, Category, Citizen, Report, ReportEvent


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


@dataclass(frozen=True, slots=True)
class Reporter:
    first_name: str | None
    last_name: str | None
    username: str | None


_FACT_COLUMNS = (
    Report.id, Report.tracking_id, Report.agency_id, Report.status, Report.classification,
    Report.privacy, Report.submitted_at, Report.verify_due, Report.assigned_at,
    Report.followup_due, Report.first_response_at, Report.answered_at, Report.closed_at,
    Report.updated_at,
)
# After the ended-event time, in ReportFact's order.
_FACT_TAIL = (Report.rating, Report.reopened_count, Report.category_id, Report.lapor_id)
_FACT_WIDTH = len(_FACT_COLUMNS) + 1 + len(_FACT_TAIL)


class StatsRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def _ended(self, ended_kinds: Iterable[str]):
        return (
            select(ReportEvent.report_id, func.max(ReportEvent.created_at).label("at"))
            .where(ReportEvent.kind.in_(list(ended_kinds)))
            .group_by(ReportEvent.report_id)
            .subquery()
        )

    async def facts(
        self,
        *,
        submitted_before: datetime,
        submitted_from: datetime | None = None,
        ended_kinds: Iterable[str] = (),
    ) -> list[ReportFact]:
        """Every report submitted in ``[submitted_from, submitted_before)``, oldest first."""
        ended = self._ended(ended_kinds)
        query = (
            select(*_FACT_COLUMNS, ended.c.at, *_FACT_TAIL)
            .outerjoin(ended, ended.c.report_id == Report.id)
            .where(Report.submitted_at < submitted_before)
            .order_by(Report.submitted_at, Report.id)
        )
        if submitted_from is not None:
            query = query.where(Report.submitted_at >= submitted_from)
        return [ReportFact(*row) for row in (await self.session.execute(query)).all()]

    async def facts_with_reporters(
        self, *, submitted_from: datetime, submitted_before: datetime,
        ended_kinds: Iterable[str] = (),
    ) -> list[tuple[ReportFact, Reporter]]:
        """As ``facts``, each with the reporter's name: for the admin's export only."""
        ended = self._ended(ended_kinds)
        query = (
            select(*_FACT_COLUMNS, ended.c.at, *_FACT_TAIL,
                   Citizen.first_name, Citizen.last_name, Citizen.username)
            # Outer: a report filed through the Open311 API has no citizen row.
            .outerjoin(Citizen, Citizen.id == Report.citizen_id)
            .outerjoin(ended, ended.c.report_id == Report.id)
            .where(Report.submitted_at >= submitted_from, Report.submitted_at < submitted_before)
            .order_by(Report.submitted_at, Report.id)
        )
        return [
            (ReportFact(*row[:_FACT_WIDTH]), Reporter(*row[_FACT_WIDTH:]))
            for row in (await self.session.execute(query)).all()
        ]

    async def category_names(self) -> dict[int, str]:
        rows = await self.session.execute(select(Category.id, Category.name))
        return {cid: name for cid, name in rows.all()}

    async def agency_names(self) -> dict[int, str]:
        rows = await self.session.execute(select(Agency.id, Agency.name))
        return {aid: name for aid, name in rows.all()}
