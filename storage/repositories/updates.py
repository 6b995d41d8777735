"""The received-update journal (storage/models/update.py): record, claim, finish, find orphans."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from storage import held
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

    # The marks: inside ``unit_of_work.alone`` on PostgreSQL, straight to asyncpg (storage/held.py).
    async def finish(self, update_id: int, now: datetime) -> None:
        await held.write_alone(self.session, _FINISH, {"finished_id": update_id, "finished_at": now})

    async def mark_answered(self, update_id: int, now: datetime) -> None:
        await held.write_alone(self.session, _ANSWERED, {"answered_id": update_id, "answered_at": now})

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


# The poller's record of a getUpdates answer on PostgreSQL, sent to asyncpg as it is: any batch
# size in one statement (the updates as arrays), prepared once per connection by asyncpg.
_RECORD_CLAIMED_PG = (
    f"INSERT INTO {_TABLE.name} (update_id, payload, received_at, attempts, claimed_by, claimed_until) "
    "SELECT u.id, u.payload, $3, 1, $4, $5 FROM unnest($1::bigint[], $2::json[]) AS u(id, payload) "
    "ON CONFLICT (update_id) DO NOTHING RETURNING update_id"
)


class HeldBatchRecorder:
    """``ReceivedUpdateRepo.record_claimed`` for the one polling loop on PostgreSQL: on a pooled
    connection it keeps between batches, straight through asyncpg (issue 15). At a steady rate
    every getUpdates answer is a batch of one, recorded before it is handled; a short session
    per batch (a checkout, SQLAlchemy's execution path, the session's close) cost 1.6-2.3 ms of
    CPU, this 0.4-0.6 ms. Each statement commits by itself (asyncpg outside a transaction), so
    a batch is stored before the next getUpdates confirms it. A connection that failed is
    dropped and the next batch takes a fresh one; ``close`` gives it back."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._connection: AsyncConnection | None = None
        self._driver: Any = None

    @staticmethod
    def fits(engine: Any) -> bool:
        return isinstance(engine, AsyncEngine) and engine.dialect.driver == "asyncpg"

    async def record_claimed(self, updates: Sequence[tuple[int, dict[str, Any]]], now: datetime, owner: str,
                             lease: timedelta) -> set[int]:
        if self._driver is None:
            connection = await self._engine.connect()
            try:
                self._driver = (await connection.get_raw_connection()).driver_connection
            except BaseException:
                await connection.close()
                raise
            self._connection = connection
        ids = [uid for uid, _ in updates]
        payloads = [json.dumps(payload, separators=(",", ":")) for _, payload in updates]
        try:
            rows = await self._driver.fetch(_RECORD_CLAIMED_PG, ids, payloads, now, owner, now + lease)
        except BaseException:
            # A lost server, a cancelled statement: the connection's state is not known.
            await self._drop()
            raise
        return {row[0] for row in rows}

    async def close(self) -> None:
        if self._connection is not None:
            connection, self._connection, self._driver = self._connection, None, None
            await connection.close()

    async def _drop(self) -> None:
        connection, self._connection, self._driver = self._connection, None, None
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.invalidate()
                await connection.close()
