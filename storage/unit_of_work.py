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

from sqlalchemy.ext.asyncio import AsyncSession

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
