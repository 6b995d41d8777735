"""The received-update journal (storage/models/update.py): record, claim, finish, find orphans."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models.update import ReceivedUpdate
from storage.sqlite_driver import DEFER, INLINE

# Every update ends with this: built once, and on the table (no ORM synchronisation with the
# session's objects: none of its rows are loaded in an update). Issue 15, the CPU of a step.
_TABLE = ReceivedUpdate.__table__
_FINISH = (
    update(_TABLE)
    .where(_TABLE.c.update_id == bindparam("finished_id"))
    .values(done_at=bindparam("finished_at", type_=_TABLE.c.done_at.type), claimed_until=None)
    # Written with the update's last commit: on SQLite in the commit's own trip to its thread.
    .execution_options(**{DEFER: True})
)
# Every tapped button's answer is recorded with this: built once and on the table, as ``_FINISH``
# (the ORM's bulk update synchronised the session and compiled anew: ~3 % of a form step's CPU).
_ANSWERED = (
    update(_TABLE)
    .where(_TABLE.c.update_id == bindparam("answered_id"))
    .values(callback_answered_at=bindparam("answered_at", type_=_TABLE.c.callback_answered_at.type))
)


def _record_claimed(insert: Any) -> Any:
    # The rows come as parameter sets, not in ``.values([...])``: the statement's text stays the
    # same whatever the batch size, so it is compiled once per process and then found in the
    # compiled cache (a multi-row VALUES was compiled anew for every getUpdates answer, ~3 ms of
    # CPU per batch at a steady rate: issue 15). Several rows go as one INSERT all the same
    # (SQLAlchemy's "insertmanyvalues" for an executemany with RETURNING).
    return (
        insert(_TABLE)
        .on_conflict_do_nothing(index_elements=[_TABLE.c.update_id])
        .returning(_TABLE.c.update_id)
        # A batch's few rows: on SQLite on the loop's thread, as an update's writes, with its commit.
        .execution_options(**{INLINE: True})
    )


_RECORD_CLAIMED = {"postgresql": _record_claimed(pg_insert), "sqlite": _record_claimed(sqlite_insert)}


class ReceivedUpdateRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def record(self, update_id: int, payload: dict[str, Any], now: datetime) -> None:
        """Store the update unless it is already there (Telegram delivers again what it was
        not told arrived)."""
        insert = pg_insert if self.session.get_bind().dialect.name == "postgresql" else sqlite_insert
        await self.session.execute(
            insert(ReceivedUpdate)
            .values(update_id=update_id, payload=payload, received_at=now, attempts=0)
            .on_conflict_do_nothing(index_elements=["update_id"])
        )

    async def record_claimed(self, updates: Sequence[tuple[int, dict[str, Any]]], now: datetime, owner: str,
                             lease: timedelta) -> set[int]:
        """Store new updates (id, payload) already held by ``owner``, in one statement; the ids
        written (those stored before are left as they were)."""
        until = now + lease
        rows = [{"update_id": uid, "payload": payload, "received_at": now, "attempts": 1,
                 "claimed_by": owner, "claimed_until": until} for uid, payload in updates]
        statement = _RECORD_CLAIMED[self.session.get_bind().dialect.name]
        result = await self.session.execute(statement, rows[0] if len(rows) == 1 else rows)
        return set(result.scalars())

    async def claim(self, update_id: int, owner: str, now: datetime, lease: timedelta, *,
                    take_over: bool = False) -> tuple[datetime, datetime | None] | None:
        """Hold an unfinished update for handling: when it was received and when its button was
        answered; None when it is finished or another handling holds it (``take_over``: whoever
        held it is known to be gone)."""
        free = [] if take_over else [or_(ReceivedUpdate.claimed_until.is_(None), ReceivedUpdate.claimed_until < now)]
        result = await self.session.execute(
            update(ReceivedUpdate)
            .where(ReceivedUpdate.update_id == update_id, ReceivedUpdate.done_at.is_(None), *free)
            .values(claimed_by=owner, claimed_until=now + lease, attempts=ReceivedUpdate.attempts + 1)
            .returning(ReceivedUpdate.received_at, ReceivedUpdate.callback_answered_at)
        )
        row = result.first()
        return (row.received_at, row.callback_answered_at) if row is not None else None

    async def renew(self, update_ids: Sequence[int], owner: str, until: datetime) -> None:
        if update_ids:
            await self.session.execute(
                update(ReceivedUpdate)
                .where(ReceivedUpdate.update_id.in_(update_ids), ReceivedUpdate.claimed_by == owner,
                       ReceivedUpdate.done_at.is_(None))
                .values(claimed_until=until)
            )

    async def finish(self, update_id: int, now: datetime) -> None:
        await self.session.execute(_FINISH, {"finished_id": update_id, "finished_at": now})

    async def mark_answered(self, update_id: int, now: datetime) -> None:
        await self.session.execute(_ANSWERED, {"answered_id": update_id, "answered_at": now})

    async def release(self, update_id: int, owner: str) -> None:
        """Handling stopped unfinished (a shutdown): the next start takes it up at once."""
        await self.session.execute(
            update(ReceivedUpdate)
            .where(ReceivedUpdate.update_id == update_id, ReceivedUpdate.claimed_by == owner,
                   ReceivedUpdate.done_at.is_(None))
            .values(claimed_until=None)
        )

    async def get(self, update_id: int) -> ReceivedUpdate | None:
        return await self.session.get(ReceivedUpdate, update_id)

    async def unfinished(self, now: datetime, *, take_over: bool, limit: int,
                         received_before: datetime | None = None) -> Sequence[ReceivedUpdate]:
        """Updates no live handling holds, oldest first (``take_over``: every unfinished one;
        ``received_before``: leave the ones just recorded to the dispatcher about to run them)."""
        free = [] if take_over else [or_(ReceivedUpdate.claimed_until.is_(None), ReceivedUpdate.claimed_until < now)]
        if received_before is not None:
            free.append(ReceivedUpdate.received_at < received_before)
        rows = await self.session.scalars(
            select(ReceivedUpdate)
            .where(ReceivedUpdate.done_at.is_(None), *free)
            .order_by(ReceivedUpdate.update_id)
            .limit(limit)
        )
        return rows.all()

    async def prune(self, before: datetime) -> int:
        result = await self.session.execute(
            delete(ReceivedUpdate).where(ReceivedUpdate.done_at.is_not(None), ReceivedUpdate.done_at < before)
        )
        return result.rowcount or 0
