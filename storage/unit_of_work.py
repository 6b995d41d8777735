"""The database session of the update being handled, for code that is not handed it.

aiogram calls the FSM storage with a key only; to keep a form step in the update's one
transaction (state, data and the citizen together, see ``bot/unit_of_work.py``) the storage finds
the update's session here. Outside an update (jobs, the command line) there is none, and the
storage opens a short session of its own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
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


# Deferred writes that go to another store than the database (the FSM in Redis): {name in
# PENDING: send(session)}, each sending its writes and forgetting them, as its ``before_commit``
# listener does. ``send_elsewhere_only`` sends them without a commit of the session.
_ELSEWHERE: dict[str, Callable[[AsyncSession], Awaitable[None]]] = {}


def sent_elsewhere(name: str, send: Callable[[AsyncSession], Awaitable[None]]) -> None:
    """The writes ``name`` defers (``pending_writes``) go to another store than the database."""
    _ELSEWHERE[name] = send


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


def held_asyncpg(session: AsyncSession) -> Any | None:
    """The asyncpg connection under the connection the session holds (``held_session``) on
    PostgreSQL, by SQLAlchemy's public ``driver_connection``; None elsewhere. Raises if the pool
    has invalidated it."""
    connection: AsyncConnection | None = session.info.get(_CONNECTION)
    if connection is None or not _commits_alone(connection) or connection.sync_connection is None:
        return None
    return connection.sync_connection.connection.driver_connection


def _nothing_open_on_server(session: AsyncSession) -> bool:
    """PostgreSQL: the connection the session holds has no transaction open on the server (its
    reads ran alone, storage/pg_driver.py). False elsewhere (SQLite keeps its commits)."""
    try:
        driver = held_asyncpg(session)
    except Exception:  # invalidated: the session's own path says why
        return False
    return driver is not None and not driver.is_in_transaction()


async def send_elsewhere_only(session: AsyncSession) -> bool:
    """When the database has nothing to commit (only reads, none of them in a transaction on the
    server) and every write waiting for the commit goes to another store, send those writes and
    return True: the session's commit would only have sent them, at the CPU of a commit (issue
    15: ~3 % of a form step's). The session's transaction stays open in SQLAlchemy (nothing on
    the server); the update's end closes it. Otherwise False, nothing sent: commit."""
    pending = session.info.get(PENDING, {})
    names = [name for name, writes in pending.items() if writes]
    if any(name not in _ELSEWHERE for name in names):
        return False
    if not (_nothing_open_on_server(session) and await only_read(session, deferred=True)):
        return False
    for name in names:
        await _ELSEWHERE[name](session)
    return True


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
    connection = await engine.connect().start()
    try:
        session = session_factory(bind=connection)
    except BaseException:
        await connection.__aexit__(None, None, None)
        raise
    session.info[_CONNECTION] = connection
    try:
        yield session
    finally:
        if _nothing_open_on_server(session):
            # Nothing to roll back on the server: the closes reach no await (no round trip), so
            # nothing can cut them short. SQLAlchemy's context managers run each close in a task of
            # its own behind a shield, for closes a cancellation could interrupt: two tasks and
            # six event-loop callbacks per update for nothing here (issue 15).
            try:
                await session.close()
            finally:
                await connection.close()
        else:
            await session.__aexit__(None, None, None)
            await connection.__aexit__(None, None, None)


@asynccontextmanager
async def alone(session: AsyncSession) -> AsyncIterator[AsyncSession]:
    """On PostgreSQL, commit what ``session`` holds (reads, deferred writes), then let each
    statement inside the block commit by itself on the connection the session is bound to (the
    update's, see ``bot/unit_of_work.py``). Only for statements each complete on its own (the
    journal's marks) in a session that has not written (``only_read``). Elsewhere (SQLite, a
    session bound to an engine) the block joins the open transaction, committed at its end."""
    connection: AsyncConnection | None = session.info.get(_CONNECTION)
    own = connection is not None and _commits_alone(connection)
    # Nothing for the database to end (the reads ran alone, no write waits): the session's
    # commit would only close SQLAlchemy's view of the transaction, at the CPU of a commit (issue
    # 15: twice per tapped button). That view stays open, as harmless as it was; the session's
    # close at the update's end closes it (a rollback of nothing on the server).
    idle = own and not has_pending(session) and _nothing_open_on_server(session) and await only_read(session)
    if own and not idle and (session.in_transaction() or has_pending(session)):
        await session.commit()
    try:
        with each_alone() if own else nullcontext():
            yield session
            if has_pending(session) or (not idle and session.in_transaction()):
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
