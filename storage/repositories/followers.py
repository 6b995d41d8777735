"""Who follows a report besides its reporter, and the open reports near a new one.

Adds, flushes and queries; never commits (the caller owns the transaction).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Citizen, Report, ReportFollower


class FollowerRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def is_following(self, report_id: int, citizen_id: int) -> bool:
        stmt = select(ReportFollower.id).where(ReportFollower.report_id == report_id,
                                               ReportFollower.citizen_id == citizen_id)
        return await self.session.scalar(stmt) is not None

    async def add(self, report_id: int, citizen_id: int, via: str, now: datetime) -> bool:
        """Follow (once): False when already following. Counts the supporter on the report."""
        if await self.is_following(report_id, citizen_id):
            return False
        try:
            # A savepoint: a double tap racing this insert loses only its own row.
            async with self.session.begin_nested():
                self.session.add(ReportFollower(report_id=report_id, citizen_id=citizen_id, via=via,
                                                created_at=now))
        except IntegrityError:
            return False
        await self.session.execute(
            update(Report).where(Report.id == report_id).values(supporters=Report.supporters + 1)
        )
        return True

    async def citizens_of(self, report_id: int) -> Sequence[Citizen]:
        stmt = (select(Citizen).join(ReportFollower, ReportFollower.citizen_id == Citizen.id)
                .where(ReportFollower.report_id == report_id).order_by(ReportFollower.id))
        return (await self.session.scalars(stmt)).all()

    def followed_by(self, citizen_id: int):
        """A subquery of the report ids ``citizen_id`` follows."""
        return select(ReportFollower.report_id).where(ReportFollower.citizen_id == citizen_id)

    async def open_in_box(
        self, *, box: tuple[float, float, float, float], since: datetime, statuses: Collection[str],
        hidden_privacy: str, category_id: int | None, classification: str, besides_citizen: int | None,
        limit: int = 50,
    ) -> Sequence[Report]:
        """Open reports with coordinates inside ``box`` (min_lat, max_lat, min_lon, max_lon),
        submitted since ``since``, of the category (else of the classification), never of
        ``hidden_privacy``; newest first. Plain comparisons: the same SQL on SQLite and PostgreSQL."""
        min_lat, max_lat, min_lon, max_lon = box
        stmt = select(Report).where(
            Report.latitude.between(min_lat, max_lat), Report.longitude.between(min_lon, max_lon),
            *self._alike(since, statuses, hidden_privacy, category_id, classification, besides_citizen),
        )
        return (await self.session.scalars(stmt.order_by(Report.submitted_at.desc()).limit(limit))).all()

    async def open_for_agency(
        self, *, agency_id: int, since: datetime, statuses: Collection[str], hidden_privacy: str,
        category_id: int, classification: str, besides_citizen: int | None, limit: int = 3,
    ) -> Sequence[Report]:
        """Without a place: open reports of the same category meant for the same agency."""
        stmt = select(Report).where(
            (Report.agency_id == agency_id) | (Report.requested_agency_id == agency_id),
            *self._alike(since, statuses, hidden_privacy, category_id, classification, besides_citizen),
        )
        return (await self.session.scalars(stmt.order_by(Report.submitted_at.desc()).limit(limit))).all()

    @staticmethod
    def _alike(since, statuses, hidden_privacy, category_id, classification, besides_citizen) -> list:
        where = [Report.submitted_at >= since, Report.status.in_(list(statuses)), Report.privacy != hidden_privacy]
        where.append(Report.category_id == category_id if category_id is not None
                     else Report.classification == classification)
        if besides_citizen is not None:
            # Neither one's own reports nor those one follows already.
            where.append((Report.citizen_id.is_(None)) | (Report.citizen_id != besides_citizen))
            where.append(Report.id.not_in(select(ReportFollower.report_id)
                                          .where(ReportFollower.citizen_id == besides_citizen)))
        return where
