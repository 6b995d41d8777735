"""What health checks and metrics read from the database: reachable? how much is waiting?"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.lifecycle import OPEN_STATUSES, VERIFICATION_QUEUE, WITH_AGENCY
from bot.domain.workdays import WorkCalendar
from storage.base import utcnow
from storage.repositories.health import HealthRepo


async def database_problem(session_factory: async_sessionmaker[AsyncSession], timeout: float = 3.0) -> str | None:
    """None when the database answers ``SELECT 1`` in time; else what went wrong, in a line."""
    async def ping() -> None:
        async with session_factory() as session:
            await HealthRepo(session).ping()

    try:
        await asyncio.wait_for(ping(), timeout)
    except TimeoutError:
        return f"no answer within {timeout:g} s"
    except Exception as exc:  # any driver error means "not ready"; the type names it
        return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}".strip()
    return None


@dataclass(frozen=True)
class Snapshot:
    outbox_pending: int
    outbox_oldest_age_seconds: float
    open_by_status: dict[str, int] = field(default_factory=dict)
    overdue: int = 0


async def snapshot(
    session_factory: async_sessionmaker[AsyncSession], calendar: WorkCalendar, now: datetime | None = None
) -> Snapshot:
    now = now or utcnow()
    async with session_factory() as session:
        repo = HealthRepo(session)
        pending, oldest = await repo.outbox_backlog()
        by_status = await repo.reports_by_status([s.value for s in OPEN_STATUSES])
        overdue = await repo.overdue([s.value for s in VERIFICATION_QUEUE], [s.value for s in WITH_AGENCY],
                                     calendar.local_date(now))
    if oldest is not None and oldest.tzinfo is None:  # a driver that drops the zone: stored as UTC
        oldest = oldest.replace(tzinfo=UTC)
    age = max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0
    return Snapshot(pending, age, {s.value: by_status.get(s.value, 0) for s in OPEN_STATUSES}, overdue)
