"""At-least-once handling of updates, and never twice: the received-update journal.

Telegram forgets an update once told it arrived: polling confirms it with the next getUpdates
offset, a webhook with its 2xx answer. aiogram does both before the handler has finished, so a
process killed in between loses the update. The journal stores each update first; the handling
claims it, renews the claim while it runs and marks it done at the end; a start-up (and a sweep
now and then) hands back what a dead process left unfinished. The same update delivered twice
(Telegram repeating what it was not told arrived, or a replay racing a redelivery) is claimed
once.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.base import utcnow
from storage.repositories.updates import HeldBatchRecorder, ReceivedUpdateRepo
from storage.unit_of_work import single_statements

log = logging.getLogger(__name__)


class Seen(Enum):
    NEW = "new"  # not handled yet, free to claim
    BUSY = "busy"  # a live handling holds it
    DONE = "done"
    OURS = "ours"  # stored just now and already held by this process (``record_claimed``)


@dataclass(frozen=True, slots=True)
class Claim:
    """An update this process now holds: when it was received, and when its button was answered
    (by an earlier handling that did not finish: a replay must not answer it again)."""

    received_at: datetime
    callback_answered_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Orphan:
    update_id: int
    payload: dict[str, Any]


class UpdateJournal:
    """Each mark is one statement; on PostgreSQL it commits by itself (``single_statements``: one
    round trip instead of three)."""

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        *,
        lease: timedelta = timedelta(seconds=30),
        keep: timedelta = timedelta(days=2),
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._session_factory = session_factory
        self.lease = lease
        self._keep = keep
        self._clock = clock
        # This process, as the holder of its claims; a restart is a new holder.
        self.owner = secrets.token_hex(8)
        # While polling on PostgreSQL (``polling``): the batches' records on a connection of their own.
        self._held: HeldBatchRecorder | None = None
        self._held_turn = asyncio.Lock()

    @asynccontextmanager
    async def polling(self) -> AsyncIterator[None]:
        """Around the polling loop: on PostgreSQL each getUpdates answer is recorded on one
        connection kept for them (``HeldBatchRecorder``), given back when polling ends."""
        engine = self._session_factory.kw.get("bind")
        if self._held is not None or not HeldBatchRecorder.fits(engine):
            yield
            return
        self._held = HeldBatchRecorder(engine)
        try:
            yield
        finally:
            held, self._held = self._held, None
            await held.close()

    async def record(self, update_id: int, payload: dict[str, Any]) -> Seen:
        """Store the update (once) and say whether it still needs handling."""
        now = self._clock()
        async with self._session_factory() as session:
            repo = ReceivedUpdateRepo(session)
            await repo.record(update_id, payload, now)
            await session.commit()
            row = await repo.get(update_id)
        if row is None or row.done_at is not None:
            return Seen.DONE
        if row.claimed_until is not None and row.claimed_until >= now:
            return Seen.BUSY
        return Seen.NEW

    async def record_claimed(self, update_id: int, payload: dict[str, Any]) -> Seen:
        """``record`` and ``claim`` in one statement and one commit for a new update; a stored
        one is looked at as ``record`` does."""
        won = await self.record_claimed_batch([(update_id, payload)])
        return Seen.OURS if won else await self.record(update_id, payload)

    async def record_claimed_batch(self, updates: Sequence[tuple[int, dict[str, Any]]]) -> set[int]:
        """Polling: a whole getUpdates answer stored and claimed in one statement and one commit;
        the ids that were new (now held by this process)."""
        if not updates:
            return set()
        now = self._clock()
        if self._held is not None:
            async with self._held_turn:
                return await self._held.record_claimed(updates, now, self.owner, self.lease)
        async with single_statements(self._session_factory) as session:
            won = await ReceivedUpdateRepo(session).record_claimed(updates, now, self.owner, self.lease)
            await session.commit()
        return won

    async def claim(self, update_id: int, *, take_over: bool = False) -> Claim | None:
        now = self._clock()
        async with single_statements(self._session_factory) as session:
            won = await ReceivedUpdateRepo(session).claim(update_id, self.owner, now, self.lease, take_over=take_over)
            await session.commit()
        return Claim(*won) if won is not None else None

    async def renew(self, update_ids: Sequence[int]) -> None:
        async with single_statements(self._session_factory) as session:
            await ReceivedUpdateRepo(session).renew(update_ids, self.owner, self._clock() + self.lease)
            await session.commit()

    async def finish(self, update_id: int) -> None:
        async with single_statements(self._session_factory) as session:
            await ReceivedUpdateRepo(session).finish(update_id, self._clock())
            await session.commit()

    async def finish_in(self, session: AsyncSession, update_id: int) -> None:
        """``finish`` in the caller's transaction: the update's own last commit."""
        await ReceivedUpdateRepo(session).finish(update_id, self._clock())

    async def mark_answered(self, update_id: int) -> None:
        async with single_statements(self._session_factory) as session:
            await self.mark_answered_in(session, update_id)
            await session.commit()

    async def mark_answered_in(self, session: AsyncSession, update_id: int) -> None:
        """The update's button was answered (committed by the caller)."""
        await ReceivedUpdateRepo(session).mark_answered(update_id, self._clock())

    async def release(self, update_id: int) -> None:
        async with single_statements(self._session_factory) as session:
            await ReceivedUpdateRepo(session).release(update_id, self.owner)
            await session.commit()

    async def orphans(self, *, take_over: bool, limit: int = 500) -> list[Orphan]:
        """Unfinished updates nobody alive holds (``take_over``: every unfinished one, for the
        one polling process at start, which knows its predecessor is gone)."""
        now = self._clock()
        async with self._session_factory() as session:
            rows = await ReceivedUpdateRepo(session).unfinished(
                now, take_over=take_over, limit=limit, received_before=None if take_over else now - self.lease
            )
            return [Orphan(r.update_id, dict(r.payload)) for r in rows]

    async def prune(self) -> int:
        async with self._session_factory() as session:
            removed = await ReceivedUpdateRepo(session).prune(self._clock() - self._keep)
            await session.commit()
        return removed
