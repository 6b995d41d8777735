from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import generation
from storage.models import Citizen

# Every update reads its sender with this: built once (issue 15, the CPU of a form step).
_WITH_GENERATION = select(Citizen, generation.current()).where(Citizen.telegram_id == bindparam("telegram_id"))


class CitizenRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_telegram_id(self, telegram_id: int) -> Citizen | None:
        return await self.session.scalar(select(Citizen).where(Citizen.telegram_id == telegram_id))

    async def with_generation(self, telegram_id: int) -> tuple[Citizen | None, int]:
        """The row and the process caches' generation (``storage.generation``) in one statement."""
        row = (await self.session.execute(_WITH_GENERATION, {"telegram_id": telegram_id})).first()
        if row is None:
            return None, await generation.read(self.session)
        return row[0], row[1] or 0

    async def get(self, citizen_id: int | None) -> Citizen | None:
        """None for None: a report filed through the Open311 API has no citizen."""
        return await self.session.get(Citizen, citizen_id) if citizen_id is not None else None

    async def add(self, citizen: Citizen) -> Citizen:
        self.session.add(citizen)
        await self.session.flush()
        return citizen

    async def mark_unreachable(self, telegram_id: int, now: datetime) -> None:
        await self.session.execute(
            update(Citizen)
            .where(Citizen.telegram_id == telegram_id, Citizen.unreachable_at.is_(None))
            .values(unreachable_at=now)
        )
