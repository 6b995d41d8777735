"""The database session of the update being handled, for code that is not handed it.

aiogram calls the FSM storage with a key only; to keep a form step in the update's one
transaction (state, data and the citizen together, see ``bot/unit_of_work.py``) the storage finds
the update's session here. Outside an update (jobs, the command line) there is none, and the
storage opens a short session of its own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager, nullcontext
from contextvars import ContextVar
from typing import Any
from weakref import WeakSet

from sqlalchemy import Engine, event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from storage.pg_driver import each_alone

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


def pending_writes(session: AsyncSession, name: str) -> dict[Any, Any]:
    """The writes ``name`` defers to ``session``'s next commit (its ``before_commit`` listener
    sends them, its ``after_rollback`` listener forgets them). The session's transaction is begun
    here if none is: SQLAlchemy's rollback of a session with no transaction is silent, so a write
    deferred after a commit and before the next statement would survive a rollback and be sent
    at the next commit. Beginning costs no statement (the connection begins at the first one)."""
    if not session.in_transaction():
        session.sync_session.begin()
    return session.info.setdefault(PENDING, {}).setdefault(name, {})


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


# In a session's info: the connection it holds for its whole life (``held_session``).
_CONNECTION = "lapor_held_connection"


def held_connection(session: AsyncSession) -> AsyncConnection | None:
    """The connection ``held_session`` keeps for the session's whole life; None for another session."""
    return session.info.get(_CONNECTION)


async def only_read(session: AsyncSession, *, deferred: bool = False) -> bool:
    """Would a commit now only end reads? Nothing written in the open transaction, nothing
    waiting to be (``deferred``: writes deferred to the commit, ``PENDING``, do not count).
    False when it cannot tell (an engine ``install`` did not see)."""
    if (has_pending(session) and not deferred) or session.new or session.dirty or session.deleted:
        return False
    if not session.in_transaction():
        return True
    # The update's connection as held (no trip through the session's greenlet to ask for it).
    connection: AsyncConnection = session.info.get(_CONNECTION) or await session.connection()
    return connection.sync_engine in _tracked and not connection.info.get(_WROTE)


# One statement as a transaction of its own. On PostgreSQL (asyncpg) a transaction costs a round
# trip for BEGIN and one for COMMIT around its statements; in autocommit mode a lone statement is
# one round trip, as atomic. SQLite begins a transaction inside the statement's own call and
# commits in one more, and its one writer (storage/db.py) is released at the commit: it keeps
# plain transactions. ``alone`` and ``single_statements`` commit each statement by itself where
# this says so (``pg_driver.each_alone``).
def _commits_alone(bind: Any) -> bool:
    return isinstance(bind, AsyncConnection | AsyncEngine) and bind.dialect.name == "postgresql"


@asynccontextmanager
async def held_session(session_factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A session on one pooled connection kept until the block ends: one checkout however many
    times it commits (a session bound to the engine gives its connection back at each commit
    and checks one out again for its next statement)."""
    engine = session_factory.kw["bind"]
    async with engine.connect() as connection, session_factory(bind=connection) as session:
        session.info[_CONNECTION] = connection
        yield session


@asynccontextmanager
async def alone(session: AsyncSession) -> AsyncIterator[AsyncSession]:
    """On PostgreSQL, commit what ``session`` holds (reads, deferred writes), then let each
    statement inside the block commit by itself on the connection the session is bound to (the
    update's, see ``bot/unit_of_work.py``). Only for statements each complete on its own (the
    journal's marks) in a session that has not written (``only_read``). Elsewhere (SQLite, a
    session bound to an engine) the block joins the open transaction, committed at its end."""
    connection: AsyncConnection | None = session.info.get(_CONNECTION)
    own = connection is not None and _commits_alone(connection)
    if own and (session.in_transaction() or has_pending(session)):
        await session.commit()
    try:
        with each_alone() if own else nullcontext():
            yield session
            if session.in_transaction() or has_pending(session):
                await session.commit()  # ends the session's transaction; nothing is left to send
    except BaseException:
        await session.rollback()
        raise


@asynccontextmanager
async def single_statements(session_factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A short session whose statements each commit by themselves on PostgreSQL (see ``alone``);
    elsewhere a plain one. The caller still commits (SQLite needs it; it costs nothing here)."""
    bind = session_factory.kw.get("bind")
    if not _commits_alone(bind) or not isinstance(bind, AsyncEngine):
        async with session_factory() as session:
            yield session
        return
    async with session_factory() as session:
        # No BEGIN before each statement (storage/pg_driver.py): what autocommit does, without
        # switching the connection's isolation level at checkout and back at checkin.
        with each_alone():
            yield session
