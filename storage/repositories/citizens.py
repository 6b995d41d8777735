from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import instance_state

from storage import generation, held
from storage.models import Citizen

# Every update reads its sender with this, built once (issue 15, the CPU of a form step): the
# cache generation and the row's columns, one row also for a newcomer (their columns NULL), on
# the table rather than the entity (``storage.held``: no ORM loading on PostgreSQL).
_TABLE = Citizen.__table__
_ONE = select(literal(1).label("one")).subquery("one")
_WITH_GENERATION = select(generation.current().label("generation"), *_TABLE.c).select_from(
    _ONE.outerjoin(_TABLE, _TABLE.c.telegram_id == bindparam("telegram_id")))
_KEYS = [column.key for column in _TABLE.c]
_MAPPER = Citizen.__mapper__


def _persistent(session: AsyncSession, values: dict[str, object]) -> Citizen:
    """The citizen as the session's entity, from its row's values, as if the ORM had loaded it:
    changes a service makes to it are written at its commit. What the session holds already for
    that row wins (an ORM load would not overwrite it either)."""
    key = _MAPPER.identity_key_from_primary_key((values["id"],))
    known = session.sync_session.identity_map.get(key)
    if known is not None:
        assert isinstance(known, Citizen)
        return known
    citizen = _MAPPER.class_manager.new_instance()
    instance_state(citizen).dict.update(values)  # no attribute events: nothing is "changed"
    make_transient_to_detached(citizen)
    session.add(citizen)
    return citizen


class CitizenRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_telegram_id(self, telegram_id: int) -> Citizen | None:
        return await self.session.scalar(select(Citizen).where(Citizen.telegram_id == telegram_id))

    async def with_generation(self, telegram_id: int) -> tuple[Citizen | None, int]:
        """The row and the process caches' generation (``storage.generation``) in one statement."""
        row = await held.fetch_one(self.session, _WITH_GENERATION, {"telegram_id": telegram_id})
        assert row is not None  # one row always (``_ONE``)
        seen, values = row[0] or 0, row[1:]
        if values[0] is None:  # no citizen: the outer join's NULLs
            return None, seen
        return _persistent(self.session, dict(zip(_KEYS, values, strict=True))), seen

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
