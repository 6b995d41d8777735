"""Casework queries and the guarded status change. Adds, flushes and queries; never commits."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.models.report import Attachment, Report, ReportEvent
from storage.models.template import ResponseTemplate


class CaseRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get_with_details(self, report_id: int) -> Report | None:
        """The report with attachments and events loaded, read fresh from the database."""
        stmt = (
            select(Report)
            .where(Report.id == report_id)
            .options(selectinload(Report.attachments), selectinload(Report.events))
            .execution_options(populate_existing=True)
        )
        return await self.session.scalar(stmt)

    async def status_of(self, report_id: int) -> str | None:
        return await self.session.scalar(select(Report.status).where(Report.id == report_id))

    async def change_status(
        self,
        report_id: int,
        *,
        expected_status: str,
        agency_ids: Collection[int] | None = None,
        values: dict[str, Any],
    ) -> bool:
        """Set ``values`` only if the report is still in ``expected_status`` (and, for officers,
        still with one of ``agency_ids``). A conditional UPDATE instead of read-then-write: of
        two officers pressing the same button at once exactly one sees a row changed, on SQLite
        and PostgreSQL alike."""
        stmt = update(Report).where(Report.id == report_id, Report.status == expected_status)
        if agency_ids is not None:
            stmt = stmt.where(Report.agency_id.in_(list(agency_ids)))
        result = await self.session.execute(
            stmt.values(**values).execution_options(synchronize_session=False)
        )
        return result.rowcount == 1

    # -- queues ----------------------------------------------------------------------------
    async def verification_queue(
        self, statuses: Collection[str], *, offset: int, limit: int
    ) -> Sequence[Report]:
        """Oldest deadline first; reports without one last."""
        order = (case((Report.verify_due.is_(None), 1), else_=0), Report.verify_due, Report.id)
        page = (
            select(Report.id)
            .where(Report.status.in_(list(statuses)))
            .order_by(*order)
            .offset(offset)
            .limit(limit)
        )
        return await self._rows(page, order)

    async def _rows(self, page: Select, order: Sequence[ColumnElement]) -> Sequence[Report]:
        """The reports of a page of ids, in ``order``. The page is chosen from an index alone
        and only its rows are read: at a million reports a queue holds tens of thousands, and
        sorting whole rows to show eight took most of a second (issue 15)."""
        ids = list(await self.session.scalars(page))
        if not ids:
            return []
        return (await self.session.scalars(select(Report).where(Report.id.in_(ids)).order_by(*order))).all()

    async def count_status(self, statuses: Collection[str]) -> int:
        stmt = select(func.count()).select_from(Report).where(Report.status.in_(list(statuses)))
        return int(await self.session.scalar(stmt) or 0)

    async def agency_open(
        self, agency_ids: Collection[int], statuses: Collection[str], *, offset: int, limit: int
    ) -> Sequence[Report]:
        """The agencies' open reports by follow-up deadline (overdue ones come first that way)."""
        order = (case((Report.followup_due.is_(None), 1), else_=0), Report.followup_due, Report.id)
        page = (
            select(Report.id)
            .where(Report.agency_id.in_(list(agency_ids)), Report.status.in_(list(statuses)))
            .order_by(*order)
            .offset(offset)
            .limit(limit)
        )
        return await self._rows(page, order)

    async def count_agency_open(self, agency_ids: Collection[int], statuses: Collection[str]) -> int:
        stmt = (
            select(func.count())
            .select_from(Report)
            .where(Report.agency_id.in_(list(agency_ids)), Report.status.in_(list(statuses)))
        )
        return int(await self.session.scalar(stmt) or 0)

    async def overdue_verification(self, statuses: Collection[str], today: date) -> int:
        stmt = (
            select(func.count())
            .select_from(Report)
            .where(Report.status.in_(list(statuses)), Report.verify_due < today)
        )
        return int(await self.session.scalar(stmt) or 0)

    async def citizen_reports_in(self, citizen_id: int, status: str) -> Sequence[Report]:
        stmt = (
            select(Report)
            .where(Report.citizen_id == citizen_id, Report.status == status)
            .order_by(Report.id)
        )
        return (await self.session.scalars(stmt)).all()

    async def last_event(self, report_id: int, kinds: Collection[str]) -> ReportEvent | None:
        stmt = (
            select(ReportEvent)
            .where(ReportEvent.report_id == report_id, ReportEvent.kind.in_(list(kinds)))
            .order_by(ReportEvent.id.desc())
            .limit(1)
        )
        return await self.session.scalar(stmt)

    async def count_events_since(self, report_id: int, kinds: Collection[str], since: datetime) -> int:
        stmt = select(func.count()).select_from(ReportEvent).where(
            ReportEvent.report_id == report_id, ReportEvent.kind.in_(list(kinds)), ReportEvent.created_at >= since
        )
        return int(await self.session.scalar(stmt) or 0)

    async def set_relays_muted(self, report_id: int, at: datetime | None) -> None:
        await self.session.execute(update(Report).where(Report.id == report_id).values(relays_muted_at=at))

    async def last_status_event(self, report_id: int) -> ReportEvent | None:
        stmt = (
            select(ReportEvent)
            .where(ReportEvent.report_id == report_id, ReportEvent.to_status.is_not(None))
            .order_by(ReportEvent.id.desc())
            .limit(1)
        )
        return await self.session.scalar(stmt)

    async def attachments_of_event(self, event_id: int) -> Sequence[Attachment]:
        stmt = select(Attachment).where(Attachment.event_id == event_id).order_by(Attachment.id)
        return (await self.session.scalars(stmt)).all()

    # -- what the scheduled jobs look for -----------------------------------------------------
    async def answered_past_reply_due(self, answered: str, today: date) -> list[int]:
        """Ids of answered reports whose reply window ended before ``today``, oldest first."""
        stmt = (
            select(Report.id)
            .where(Report.status == answered, Report.reply_due < today)
            .order_by(Report.reply_due, Report.id)
        )
        return list(await self.session.scalars(stmt))

    async def closed_since(self, closed: str, since: datetime) -> list[Report]:
        """Reports of a citizen in Telegram (not filed through the Open311 API) closed since."""
        stmt = (
            select(Report)
            .where(Report.status == closed, Report.closed_at >= since, Report.citizen_id.is_not(None))
            .order_by(Report.closed_at, Report.id)
        )
        return list(await self.session.scalars(stmt))

    # -- templates -------------------------------------------------------------------------
    async def add_template(self, template: ResponseTemplate) -> ResponseTemplate:
        self.session.add(template)
        await self.session.flush()
        return template

    async def templates_for(self, agency_ids: Collection[int], *, limit: int = 20) -> Sequence[ResponseTemplate]:
        """The agencies' own templates first, then the global ones."""
        stmt = (
            select(ResponseTemplate)
            .where(
                ResponseTemplate.active.is_(True),
                or_(
                    ResponseTemplate.agency_id.is_(None),
                    ResponseTemplate.agency_id.in_(list(agency_ids)),
                ),
            )
            .order_by(case((ResponseTemplate.agency_id.is_(None), 1), else_=0), ResponseTemplate.id)
            .limit(limit)
        )
        return (await self.session.scalars(stmt)).all()

    async def get_template(self, template_id: int) -> ResponseTemplate | None:
        return await self.session.get(ResponseTemplate, template_id, populate_existing=True)

    async def templates_managed(self, agency_ids: Collection[int], *, with_global: bool,
                                limit: int = 40) -> Sequence[ResponseTemplate]:
        """Templates of these agencies (and the global ones), retired ones included: in use
        first, then retired, each oldest first."""
        owners = [ResponseTemplate.agency_id.in_(list(agency_ids))]
        if with_global:
            owners.append(ResponseTemplate.agency_id.is_(None))
        stmt = (
            select(ResponseTemplate)
            .where(or_(*owners))
            .order_by(ResponseTemplate.active.desc(), ResponseTemplate.id)
            .limit(limit)
        )
        return (await self.session.scalars(stmt)).all()

    async def set_template_active(self, template_id: int, active: bool) -> bool:
        """Retire or restore; False when it already was (two taps: one wins)."""
        result = await self.session.execute(
            update(ResponseTemplate)
            .where(ResponseTemplate.id == template_id, ResponseTemplate.active.is_(not active))
            .values(active=active)
        )
        return result.rowcount == 1

    async def set_template_body(self, template_id: int, body: str) -> bool:
        """A new text for a template in use; False when it was retired meanwhile."""
        result = await self.session.execute(
            update(ResponseTemplate)
            .where(ResponseTemplate.id == template_id, ResponseTemplate.active.is_(True))
            .values(body=body)
        )
        return result.rowcount == 1
