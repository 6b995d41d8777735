"""One session, one transaction per update: the citizen lookup, the FSM state and data, and
the handler's own work share it.

Why: an update used to hold a connection from the middleware's citizen lookup to its end while
the database-backed FSM storage opened a second session for each of its reads and writes. With a
pool of N connections, N concurrent updates each holding one and waiting for a second stalled
every chat until the pool's 30 s timeout (issue 15; tests/handlers/test_concurrent_updates.py).
Now an update needs one connection at most, whatever the concurrency, and a form step's state
and data are committed together (issue 11: a kill between two commits tore the step).

The order (``install``): the chat's event-isolation lock, then this unit of work, then aiogram's
FSM middleware. The lock is held until the update's transaction is committed: released before
it, the chat's next update (the second photo of an album) read the form as it was before the
first one's step and overwrote it. The lock is taken before the session begins, so no connection
is held while waiting for it; the state aiogram reads before the handler is read in this session.

Services still decide where a transaction ends (``session.commit()``); whatever is left is
committed when the update ends, and rolled back if it failed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, Protocol

from aiogram import BaseMiddleware, Bot, Dispatcher
from aiogram.fsm.middleware import FSMContextMiddleware
from aiogram.fsm.storage.base import BaseEventIsolation
from aiogram.fsm.storage.memory import DisabledEventIsolation
from aiogram.types import TelegramObject
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.unit_of_work import (
    alone,
    bound_session,
    current_session,
    has_pending,
    held_session,
    only_read,
    send_elsewhere_only,
)

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]

# Key of the handler data: writes an outer middleware adds to the update's last transaction
# (the journal's "done" mark). Each is called with the session, then ``done()`` once committed.
FINAL_WRITES = "unit_of_work_final_writes"


# Key of the handler data: ends the chat's lock together with the FSM writes the update still
# defers, in one round trip (``ChatLockMiddleware``, with Redis). Called with the session.
END_LOCK = "unit_of_work_end_lock"


class FinalWrite(Protocol):
    async def __call__(self, session: AsyncSession) -> None: ...

    def done(self) -> None: ...


class UnitOfWorkMiddleware(BaseMiddleware):
    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self.session_factory = session_factory

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        # One pool checkout for the whole update, whatever its commits (the "done" mark alone
        # used to take a checkout of its own).
        async with held_session(self.session_factory) as session:
            with bound_session(session):
                data["session"] = session
                result = await handler(event, data)
                final = data.get(FINAL_WRITES, ())
                if final and await only_read(session, deferred=True):
                    # Nothing of the update to commit with them: on PostgreSQL each mark is
                    # one round trip instead of BEGIN, UPDATE, COMMIT.
                    end_lock = data.pop(END_LOCK, None)
                    if end_lock is not None:
                        # The FSM's last writes (a form step's "question sent") and the chat
                        # lock's release in one script, then "done". The order is the one it was
                        # (the writes, "done", the release): Redis holds the update's state before
                        # the journal calls it done, so a kill -9 between the two leaves what a
                        # kill there always left, an update replayed over its own stored writes.
                        # The other order could leave an update done whose last state never
                        # reached Redis. The lock is free one round trip earlier: the next update
                        # of the chat reads the form, already stored, not this journal row.
                        await end_lock(session)
                    async with alone(session):
                        for write in final:
                            await write(session)
                else:
                    for write in final:
                        await write(session)
                    if final or session.in_transaction() or has_pending(session):
                        await session.commit()
                for write in final:
                    write.done()
                return result


class ChatLockMiddleware(BaseMiddleware):
    """The chat's event-isolation lock (aiogram's, keyed as the FSM keys it) around the unit of
    work, so that it is released only after the update's transaction is committed."""

    def __init__(self, fsm: FSMContextMiddleware, isolation: BaseEventIsolation) -> None:
        self.fsm = fsm
        self.isolation = isolation

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        bot: Bot = data["bot"]
        context = self.fsm.resolve_event_context(bot, data)
        if context is None:
            return await handler(event, data)
        async with self.isolation.lock(key=context.key) as lock:
            end_with_writes = getattr(self.isolation, "end_with_writes", None)
            if end_with_writes is not None:
                data[END_LOCK] = partial(end_with_writes, lock)
            return await handler(event, data)


def install(dp: Dispatcher, session_factory: async_sessionmaker[AsyncSession]) -> None:
    """The chat's lock, then the unit of work, then aiogram's FSM middleware (which the
    Dispatcher registered first, and which no longer locks: the lock is not reentrant)."""
    isolation = dp.fsm.events_isolation
    dp.fsm.events_isolation = DisabledEventIsolation()
    dp.update.outer_middleware.unregister(dp.fsm)
    dp.update.outer_middleware(ChatLockMiddleware(dp.fsm, isolation))
    dp.update.outer_middleware(UnitOfWorkMiddleware(session_factory))
    dp.update.outer_middleware(dp.fsm)


async def commit() -> None:
    """End the update's transaction now, e.g. before a slow call to Telegram: a form step's
    state and data are stored before its question is sent (and SQLite's one writer is free)."""
    session = current_session()
    if session is None:
        return
    # A form step on PostgreSQL + Redis has only read the database here: its state and data go
    # to Redis, in the same order against a kill (stored before the question is sent), without
    # the session's commit around them.
    if await send_elsewhere_only(session):
        return
    if session.in_transaction() or has_pending(session):
        await session.commit()
