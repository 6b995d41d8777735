"""Statements every update runs, sent on its held connection without the ORM session (issue 15).

On PostgreSQL the session's path costs more CPU than the round trip it drives: the citizen read
as an ORM entity cost 418-441 µs of CPU, the same row by asyncpg's prepared statement 33-48 µs
(bench/README.md, eighth pass). ``fetch_one`` and ``write_alone`` send a Core statement, compiled
once per dialect, straight to asyncpg on the connection the update's session holds
(``storage.unit_of_work.held_session``), with SQLAlchemy's own type processing applied to its
parameters and its row. SQLAlchemy's state is not touched, so only statements it need not know
about go this way:

- a read (``fetch_one``): it runs inside the open transaction if one began (it sees the update's
  own writes), else alone, as ``storage.pg_driver`` runs plain reads;
- a write that completes on its own (``write_alone``, the journal's marks) inside
  ``unit_of_work.alone``, where each statement commits by itself and nothing is open: it writes
  no watched table (``storage.generation`` sees no SQL sent this way) and nothing tracks it.

Anything else, or a session without a held connection (jobs, tests) goes through the session as
before, the same statement. A failure on asyncpg is sent again through the session (reads, and
the marks, which are idempotent), so that SQLAlchemy's error handling sees it: a server that went
away invalidates the pool's connections there.

On SQLite the same holds for the session's path against sqlite3 on the loop's thread: a form
step's two reads (the citizen, the FSM row) and its FSM row written at the commit took a fifth of
the bot's CPU through ``Session.execute`` (py-spy, bench/README.md, twelfth pass). ``first_row``
runs a read on the update's sqlite3 connection (``sqlite_driver.read_inline``: the loop's thread
when it may run there, else the session, whose cursor falls back to SQLite's thread), and
``defer_write`` puts a write at the commit beside the ones ``sqlite_driver.DEFER`` puts there. Both
fire the engine's ``before_cursor_execute`` with the statement, so that what watches the SQL sent
(the one writer's turn, the transaction's "wrote" mark, the cache generation, the tests' counts)
sees it as before.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, Executable
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import Session

from storage.pg_driver import alone_now
from storage.sqlite_driver import OneTripConnection, read_inline
from storage.unit_of_work import held_asyncpg, held_connection

_Processor = Callable[[Any], Any] | None


class _Compiled:
    __slots__ = ("sql", "names", "binds", "results", "fixed")

    def __init__(self, statement: Any, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql = str(compiled)
        self.names: Sequence[str] = compiled.positiontup or ()
        # The statement's own values (literals, the generation row's id) beside the caller's.
        self.fixed = {name: bind.value for name, bind in compiled.binds.items() if not bind.required}
        self.binds: list[_Processor] = [
            compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect) for name in self.names]
        columns = getattr(statement, "selected_columns", ())
        self.results: list[_Processor] = [
            column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns]

    def args(self, params: dict[str, Any]) -> list[Any]:
        values = {**self.fixed, **params}
        return [bind(values[name]) if bind else values[name] for name, bind in zip(self.names, self.binds, strict=True)]

    def row(self, record: Any) -> tuple[Any, ...]:
        return tuple(result(value) if result else value for result, value in zip(self.results, record, strict=True))


# {statement: {dialect's name: compiled}}: tests run SQLite and PostgreSQL in one process.
_compiled: WeakKeyDictionary[Any, dict[str, _Compiled]] = WeakKeyDictionary()


def _asyncpg(session: AsyncSession) -> tuple[AsyncConnection, Any] | None:
    """The held connection and its asyncpg connection, when the update holds one on PostgreSQL
    (raises if the pool has invalidated it). Whether it is inside a transaction is asyncpg's own
    ``is_in_transaction``, the server's status, which SQLAlchemy's adapter follows."""
    driver = held_asyncpg(session)
    connection = held_connection(session)
    return (connection, driver) if connection is not None and driver is not None else None


def _compile(statement: Executable, dialect: Dialect) -> _Compiled:
    by_dialect = _compiled.get(statement)
    if by_dialect is None:
        by_dialect = _compiled[statement] = {}
    compiled = by_dialect.get(dialect.name)
    if compiled is None:
        compiled = by_dialect[dialect.name] = _Compiled(statement, dialect)
    return compiled


def _sqlite(connection: Connection | None) -> OneTripConnection | None:
    """The update's sqlite3 connection as our driver adapts it, when ``connection`` is one."""
    if connection is None or connection.dialect.name != "sqlite" or connection.invalidated:
        return None
    adapted = connection.connection.dbapi_connection
    return adapted if isinstance(adapted, OneTripConnection) else None


def _seen(connection: Connection, sql: str, args: list[Any]) -> None:
    # What the engine's listeners would have seen had SQLAlchemy's cursor sent it (storage.db's
    # one writer takes its turn here for a write; it may wait, on the greenlet of a sync caller).
    listeners = connection.dispatch.before_cursor_execute
    if listeners:
        listeners(connection, None, sql, args, None, False)


async def fetch_one(session: AsyncSession, statement: Executable, params: dict[str, Any]) -> tuple[Any, ...] | None:
    """The first row of a SELECT ``statement`` (a module constant: compiled once), or None."""
    held = _asyncpg(session)
    if held is not None:
        connection, driver = held
        compiled = _compile(statement, connection.dialect)
        try:
            record = await driver.fetchrow(compiled.sql, *compiled.args(params))
        except Exception:
            if driver.is_in_transaction():
                raise  # the transaction is aborted; running it again would only say so
        else:
            return compiled.row(record) if record is not None else None
    return await first_row(session, statement, params)


async def first_row(session: AsyncSession, statement: Executable, params: dict[str, Any]) -> tuple[Any, ...] | None:
    """As ``fetch_one``, without asyncpg: on SQLite straight to sqlite3 on the loop's thread when
    it may run there, else (and on any other database) through the session."""
    held = held_connection(session)
    adapted = _sqlite(held.sync_connection) if held is not None else None
    if adapted is not None:
        sync = held.sync_connection  # type: ignore[union-attr]
        compiled = _compile(statement, sync.dialect)
        args = compiled.args(params)
        try:
            rows = read_inline(adapted, compiled.sql, args)
        except Exception:
            rows = None  # sent again through the session, whose error handling sees it
        if rows is not None:
            _seen(sync, compiled.sql, args)
            return compiled.row(rows[0]) if rows else None
    result = await session.execute(statement, params)
    row = result.first()
    return tuple(row) if row is not None else None


def defer_write(session: Session, statement: Executable, params: dict[str, Any]) -> bool:
    """On SQLite, put a write (a module constant: compiled once) at the session's commit, as
    ``sqlite_driver.DEFER`` does, without SQLAlchemy's execution; for ``before_commit`` listeners
    (sync, in the commit's greenlet). False elsewhere, or for a session that does not hold an
    update's connection (a job's writes run on SQLite's thread): the caller executes it as before."""
    if held_connection(session) is None:  # type: ignore[arg-type]  # a Session's info is the AsyncSession's
        return False
    connection = session.connection()
    adapted = _sqlite(connection)
    if adapted is None:
        return False
    compiled = _compile(statement, connection.dialect)
    args = compiled.args(params)
    error_class = connection.dialect.loaded_dbapi.Error
    try:
        _seen(connection, compiled.sql, args)
    except error_class as error:  # no turn to write: raised as SQLAlchemy's execution raises it
        raise DBAPIError.instance(compiled.sql, args, error, error_class) from error
    adapted.deferred.append((compiled.sql, args))
    return True


async def write_alone(session: AsyncSession, statement: Executable, params: dict[str, Any]) -> None:
    """Run a write ``statement`` that completes on its own (the journal's marks): inside
    ``unit_of_work.alone`` on PostgreSQL, one round trip straight to asyncpg; elsewhere through
    the session, in its transaction (on SQLite put at its commit without SQLAlchemy's execution,
    ``defer_write``: ``alone`` ends with the commit, and so does the update)."""
    lite = held_connection(session)
    if lite is not None and lite.dialect.name == "sqlite":
        await session.run_sync(_defer_or_execute, statement, params)
        return
    held = _asyncpg(session) if alone_now() else None
    if held is not None:
        connection, driver = held
        # Nothing open on the server: the statement commits by itself. SQLAlchemy's view of a
        # transaction that only read may still be open (``unit_of_work.alone`` leaves it).
        if not driver.is_in_transaction():
            compiled = _compile(statement, connection.dialect)
            try:
                await driver.execute(compiled.sql, *compiled.args(params))
                return
            except Exception:
                pass  # idempotent: sent again through the session, whose error handling sees it
    await session.execute(statement, params)


def _defer_or_execute(session: Session, statement: Executable, params: dict[str, Any]) -> None:
    if not defer_write(session, statement, params):
        session.execute(statement, params)
