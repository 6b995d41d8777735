"""The audit trail. Adds, flushes and queries; never commits."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditLog, Citizen


class AuditRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, entry: AuditLog) -> AuditLog:
        self.session.add(entry)
        await self.session.flush()
        return entry

    async def latest(self, limit: int) -> list[tuple[AuditLog, Citizen | None]]:
        """The newest entries first, each with its actor's citizen row when there is one."""
        rows = await self.session.execute(
            select(AuditLog, Citizen)
            .outerjoin(Citizen, Citizen.id == AuditLog.actor_citizen_id)
            .order_by(AuditLog.created_at.desc(), AuditLog.id.desc())
            .limit(limit)
        )
        return [(log, citizen) for log, citizen in rows.all()]
