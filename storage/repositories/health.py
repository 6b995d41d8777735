"""The few counts an operator's dashboard needs: small aggregate queries, no rows loaded."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime

from sqlalchemy import and_, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models.outbox import Outbox, OutboxStatus
from storage.models.report import Report


class HealthRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def ping(self) -> None:
        await self.session.execute(text("SELECT 1"))

    async def outbox_backlog(self) -> tuple[int, datetime | None]:
        """Messages waiting to be sent (pending or being sent), and when the oldest was queued."""
        stmt = select(func.count(), func.min(Outbox.created_at)).where(
            Outbox.status.in_([OutboxStatus.PENDING.value, OutboxStatus.SENDING.value])
        )
        count, oldest = (await self.session.execute(stmt)).one()
        return int(count or 0), oldest

    async def reports_by_status(self, statuses: Collection[str]) -> dict[str, int]:
        stmt = (
            select(Report.status, func.count())
            .where(Report.status.in_(list(statuses)))
            .group_by(Report.status)
        )
        return {status: int(n) for status, n in (await self.session.execute(stmt)).all()}

    async def overdue(self, verification: Collection[str], with_agency: Collection[str], today: date) -> int:
        stmt = select(func.count()).select_from(Report).where(
            or_(
                and_(Report.status.in_(list(verification)), Report.verify_due < today),
                and_(Report.status.in_(list(with_agency)), Report.followup_due < today),
            )
        )
        return int(await self.session.scalar(stmt) or 0)
