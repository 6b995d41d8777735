"""The database session of the update being handled, for code that is not handed it.

aiogram calls the FSM storage with a key only; to keep a form step in the update's one
transaction (state, data and the citizen together, see ``bot/unit_of_work.py``) the storage finds
the update's session here. Outside an update (jobs, the command line) there is none, and the
storage opens a short session of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any
from weakref import WeakSet

from sqlalchemy import Engine, event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

_current: ContextVar[AsyncSession | None] = ContextVar("lapor_update_session", default=None)


def current_session() -> AsyncSession | None:
    return _current.get()


@contextmanager
def bound_session(session: AsyncSession) -> Iterator[AsyncSession]:
    """Make ``session`` the current update's session for the code run inside."""
    token = _current.set(session)
    try:
        yield session
    finally:
        _current.reset(token)


# Where code keeps writes it defers to the commit (``storage.fsm``): {name: anything truthy}.
PENDING = "lapor_pending_writes"


def has_pending(session: AsyncSession) -> bool:
    """Writes are waiting for the next commit even though no statement began a transaction."""
    return any(session.info.get(PENDING, {}).values())


# On a connection: its open transaction has sent something other than a SELECT.
_WROTE = "lapor_wrote"
_tracked: WeakSet[Engine] = WeakSet()


def install(engine: AsyncEngine) -> None:
    """Keep track of which transactions of ``engine`` have written (``only_read``)."""
    sync = engine.sync_engine

    @event.listens_for(sync, "before_cursor_execute")
    def _seen(conn, _cursor, statement: str, *_: Any) -> None:
        if not statement.lstrip()[:6].lower().startswith("select"):
            conn.info[_WROTE] = True

    @event.listens_for(sync, "commit")
    @event.listens_for(sync, "rollback")
    def _ended(conn) -> None:
        if not conn.invalidated:  # its ``info`` would raise (the server went away)
            conn.info.pop(_WROTE, None)

    _tracked.add(sync)


async def only_read(session: AsyncSession) -> bool:
    """Would a commit now only end reads? Nothing written in the open transaction, nothing
    waiting to be. False when it cannot tell (an engine ``install`` did not see)."""
    if has_pending(session) or session.new or session.dirty or session.deleted:
        return False
    if not session.in_transaction():
        return True
    connection = await session.connection()
    return connection.sync_engine in _tracked and not connection.info.get(_WROTE)
