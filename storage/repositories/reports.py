"""Reports, their attachments and timeline events.

Adds, flushes and queries; never commits (the caller owns the transaction).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime

from sqlalchemy import Row, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.models.category import Category
from storage.models.follower import ReportFollower
from storage.models.report import Attachment, Report, ReportEvent


class ReportRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, report: Report) -> Report:
        self.session.add(report)
        await self.session.flush()
        return report

    async def add_attachment(self, attachment: Attachment) -> Attachment:
        self.session.add(attachment)
        await self.session.flush()
        return attachment

    async def attachments_by_ids(self, ids: Sequence[int]) -> dict[int, Attachment]:
        rows = await self.session.scalars(select(Attachment).where(Attachment.id.in_(list(ids))))
        return {a.id: a for a in rows}

    async def attachment_numbers(self, report_id: int) -> dict[int, int]:
        """Each attachment's place among the report's files (1, 2, ...), in the order received."""
        ids = await self.session.scalars(
            select(Attachment.id).where(Attachment.report_id == report_id).order_by(Attachment.id)
        )
        return {attachment_id: n for n, attachment_id in enumerate(ids, start=1)}

    async def set_clean_file_id(self, attachment_id: int, file_id: str) -> None:
        """The first cleaned upload wins; a concurrent second one is simply not remembered."""
        await self.session.execute(
            update(Attachment)
            .where(Attachment.id == attachment_id, Attachment.clean_file_id.is_(None))
            .values(clean_file_id=file_id)
        )

    async def add_event(self, event: ReportEvent) -> ReportEvent:
        self.session.add(event)
        await self.session.flush()
        return event

    async def get(self, report_id: int) -> Report | None:
        return await self.session.get(Report, report_id)

    async def tracking_id_taken(self, tracking_id: str) -> bool:
        stmt = select(Report.id).where(Report.tracking_id == tracking_id).limit(1)
        return await self.session.scalar(stmt) is not None

    async def by_tracking_id(self, tracking_id: str, *, with_details: bool = False) -> Report | None:
        """``with_details`` loads attachments and events too (they are ``lazy="raise"``)."""
        stmt = select(Report).where(Report.tracking_id == tracking_id)
        if with_details:
            stmt = stmt.options(selectinload(Report.attachments), selectinload(Report.events))
        return await self.session.scalar(stmt)

    async def by_lapor_id(self, lapor_id: str) -> Report | None:
        return await self.session.scalar(select(Report).where(Report.lapor_id == lapor_id))

    async def stream_verified_between(
        self, start: datetime, end: datetime, batch: int = 1000
    ) -> AsyncIterator[Sequence[Row]]:
        """Reports submitted in [start, end) that an admin verified (assigned at least once),
        oldest first: what a coordinator enters into SP4N-LAPOR!. In batches from a server-side
        cursor (the export), as plain rows of the columns the form needs (named as on
        ``Report``, plus ``category_name``), not ORM objects."""
        stmt = (
            select(
                Report.tracking_id, Report.submitted_at, Report.classification, Report.title,
                Report.body, Report.incident_date, Report.location_text, Report.latitude,
                Report.longitude, Report.agency_id, Report.requested_agency_id, Report.privacy,
                Report.lapor_id, Category.name.label("category_name"),
            )
            .outerjoin(Category, Category.id == Report.category_id)
            .where(Report.submitted_at >= start, Report.submitted_at < end, Report.assigned_at.is_not(None))
            .order_by(Report.submitted_at, Report.id)
            .execution_options(yield_per=batch)
        )
        result = await (await self.session.connection()).stream(stmt)
        async for rows in result.partitions():
            yield rows

    @staticmethod
    def _theirs(citizen_id: int):
        """The citizen's own reports and those they follow (report_follower)."""
        followed = select(ReportFollower.report_id).where(ReportFollower.citizen_id == citizen_id)
        return or_(Report.citizen_id == citizen_id, Report.id.in_(followed))

    async def list_by_citizen(self, citizen_id: int, *, offset: int = 0, limit: int = 10) -> Sequence[Report]:
        """Their own and the followed ones, newest first."""
        stmt = (
            select(Report)
            .where(self._theirs(citizen_id))
            .order_by(Report.submitted_at.desc(), Report.id.desc())
            .offset(offset)
            .limit(limit)
        )
        return (await self.session.scalars(stmt)).all()

    async def count_by_citizen(self, citizen_id: int) -> int:
        stmt = select(func.count()).select_from(Report).where(self._theirs(citizen_id))
        return int(await self.session.scalar(stmt) or 0)

    async def count_by_citizen_since(self, citizen_id: int, since: datetime) -> int:
        stmt = select(func.count()).select_from(Report).where(
            Report.citizen_id == citizen_id, Report.submitted_at >= since
        )
        return int(await self.session.scalar(stmt) or 0)

    async def get_for_citizen(
        self, citizen_id: int, *, report_id: int | None = None, tracking_id: str | None = None
    ) -> Report | None:
        """The citizen's own report (or one they follow) by id or tracking id, with attachments and
        events loaded.

        The owner is part of the query, so someone else's report and a missing one both give
        None: the caller cannot tell them apart, and neither can whoever forged the id.
        """
        if (report_id is None) == (tracking_id is None):
            raise ValueError("pass exactly one of report_id and tracking_id")
        stmt = (
            select(Report)
            .where(self._theirs(citizen_id))
            .options(selectinload(Report.attachments), selectinload(Report.events))
        )
        if report_id is not None:
            stmt = stmt.where(Report.id == report_id)
        else:
            stmt = stmt.where(Report.tracking_id == tracking_id)
        return await self.session.scalar(stmt)
