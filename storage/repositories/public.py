"""Queries behind the public page and the Open311 API. Read only.

Confidential reports are left out in the queries themselves, so no caller can forget to; what
else may show is decided in ``bot.domain.publication``.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.models import Agency, Report

CONFIDENTIAL = "confidential"


class PublicRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def _public(self):
        return select(Report).where(Report.privacy != CONFIDENTIAL)

    async def by_tracking_ids(self, tracking_ids: Collection[str], *, with_events: bool = False) -> Sequence[Report]:
        stmt = self._public().where(Report.tracking_id.in_(list(tracking_ids))).order_by(Report.submitted_at.desc())
        if with_events:
            stmt = stmt.options(selectinload(Report.events))
        return (await self.session.scalars(stmt)).all()

    async def search(
        self,
        *,
        submitted_from: datetime,
        submitted_before: datetime,
        statuses: Collection[str] | None,
        category_ids: Collection[int | None] | None,
        limit: int,
    ) -> Sequence[Report]:
        """Newest first. ``category_ids`` may hold None: reports without a category."""
        stmt = self._public().where(Report.submitted_at >= submitted_from, Report.submitted_at < submitted_before)
        if statuses is not None:
            stmt = stmt.where(Report.status.in_(list(statuses)))
        if category_ids is not None:
            ids = [c for c in category_ids if c is not None]
            conditions = [Report.category_id.in_(ids)] if ids else []
            if None in category_ids:
                conditions.append(Report.category_id.is_(None))
            stmt = stmt.where(or_(*conditions))
        stmt = stmt.order_by(Report.submitted_at.desc(), Report.id.desc()).limit(limit)
        return (await self.session.scalars(stmt)).all()

    async def agencies(self, ids: Collection[int]) -> dict[int, Agency]:
        if not ids:
            return {}
        rows = await self.session.scalars(select(Agency).where(Agency.id.in_(list(ids))))
        return {a.id: a for a in rows}
