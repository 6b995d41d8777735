"""Complaints filed for walk-ins: their claim codes and their personal data.

Adds, flushes and queries; never commits (the caller owns the transaction).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Report, WalkIn


class WalkInRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, walk_in: WalkIn) -> WalkIn:
        self.session.add(walk_in)
        await self.session.flush()
        return walk_in

    async def for_report(self, report_id: int) -> WalkIn | None:
        return await self.session.scalar(select(WalkIn).where(WalkIn.report_id == report_id))

    async def by_code_hash(self, code_hash: str) -> WalkIn | None:
        return await self.session.scalar(select(WalkIn).where(WalkIn.code_hash == code_hash))

    async def claim(self, walk_in_id: int, citizen_id: int, now: datetime) -> bool:
        """Mark the code used by ``citizen_id``, unless it was used or expired meanwhile (of two
        simultaneous claims one wins)."""
        result = await self.session.execute(
            update(WalkIn)
            .where(WalkIn.id == walk_in_id, WalkIn.claimed_at.is_(None), WalkIn.code_expires_at > now)
            .values(claimed_at=now, claimed_by_id=citizen_id)
        )
        return result.rowcount == 1

    async def erase_personal_data(self, *, finished_statuses: Collection[str], finished_before: datetime,
                                  now: datetime) -> int:
        """Blank name and phone of the walk-ins whose report was finished before the cut-off
        (``updated_at``: a finished report changes no more); how many."""
        finished = select(Report.id).where(Report.status.in_(list(finished_statuses)),
                                           Report.updated_at < finished_before)
        result = await self.session.execute(
            update(WalkIn)
            .where(WalkIn.personal_erased_at.is_(None), WalkIn.report_id.in_(finished))
            .values(name=None, phone=None, personal_erased_at=now)
        )
        return result.rowcount or 0
