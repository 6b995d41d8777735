"""SQLAlchemy's aiosqlite adapter with one trip to SQLite's thread per statement.

aiosqlite runs each call on the connection's own thread and hands the result back to the event
loop. SQLAlchemy's adapter makes four such calls per statement (open a cursor, execute, fetch
the rows, close the cursor), each a hand-over between two threads and a wake-up of the loop;
under a crowd of citizens a quarter of the bot's main thread was spent handing over (issue 15,
py-spy of bench/concurrency.py). Here the cursor is opened, executed, read and closed in one
call on that thread; the rows, description, rowcount and last row id come back together, which
is what SQLAlchemy's adapter keeps of them anyway (it buffers every row as it executes).

What this relies on of aiosqlite beyond its documented API, ``Connection._execute`` and
``Connection._conn`` (``_connection``), SQLAlchemy's own adapter uses too (its isolation-level setter). Server-side
cursors (``stream``) keep SQLAlchemy's cursor. ``tests/storage/test_sqlite_driver.py`` checks the
one trip and the results.
"""

from __future__ import annotations

import collections
import sqlite3
from typing import Any

import aiosqlite
from sqlalchemy import event
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import await_

# Execution option of a write whose result nobody reads (the journal's "done" mark, the FSM row
# stored at the commit): it goes to SQLite's thread with the connection's next statement or
# commit, in the same trip (``OneTripCursor.execute``). A failure shows at that statement or commit,
# which then fails: the transaction is not committed. Other dialects ignore the option.
DEFER = "lapor_sqlite_defer"

_Deferred = list[tuple[str, Any]]


def _run_deferred(cursor: sqlite3.Cursor, deferred: _Deferred) -> None:
    for operation, parameters in deferred:
        cursor.execute(operation, parameters)


def _run(connection: aiosqlite.Connection, operation: str, parameters: Any, many: bool,
         deferred: _Deferred) -> tuple[Any, ...]:
    """On the connection's thread: the writes deferred to it, then the whole statement."""
    cursor = connection._conn.cursor()
    try:
        _run_deferred(cursor, deferred)
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


async def _nothing() -> None:
    pass


def _commit(connection: aiosqlite.Connection, deferred: _Deferred) -> None:
    """On the connection's thread: the writes deferred to the commit, then the commit."""
    cursor = connection._conn.cursor()
    try:
        _run_deferred(cursor, deferred)
    except BaseException:
        # The commit fails, and so does the whole transaction: left open, SQLAlchemy (which
        # takes it as ended) would begin its next one inside it, and commit this one's writes.
        connection._conn.rollback()
        raise
    finally:
        cursor.close()
    connection._conn.commit()


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    __slots__ = ("_description", "_rowcount", "_lastrowid", "_arraysize", "defer")

    def __init__(self, adapt_connection: AsyncAdapt_aiosqlite_connection) -> None:
        # No cursor of aiosqlite's: each statement opens and closes its own on the thread.
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]
        self._soft_closed_memoized = {}
        self._rows = collections.deque()
        self._description = None
        self._rowcount = -1
        self._lastrowid = None
        self._arraysize = 1
        self.defer = False  # set for this statement by ``defer_marked`` (the option ``DEFER``)

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> Any:
        return self._lastrowid

    @property
    def arraysize(self) -> int:
        return self._arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._arraysize = value

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        if self.defer:
            self._adapt_connection.deferred.append((operation, parameters))
            # SQLAlchemy's async layer insists that an execution awaits something; this costs a
            # switch of greenlets, not a trip to the thread.
            await_(_nothing())
            return  # no rows, rowcount -1: nobody reads them
        self._trip(operation, parameters, many=False)

    def executemany(self, operation: Any, seq_of_parameters: Any) -> Any:
        self._trip(operation, seq_of_parameters, many=True)

    def _trip(self, operation: Any, parameters: Any, *, many: bool) -> None:
        try:
            await_(self._trip_async(operation, parameters, many))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    async def _trip_async(self, operation: Any, parameters: Any, many: bool) -> None:
        adapt = self._adapt_connection
        async with adapt._execute_mutex:
            deferred, adapt.deferred = adapt.deferred, []
            description, rows, rowcount, lastrowid = await self._connection._execute(
                _run, self._connection, operation, parameters, many, deferred)
        self._description, self._rowcount, self._lastrowid = description, rowcount, lastrowid
        self._rows = collections.deque(rows)

    async def _async_soft_close(self) -> None:
        pass  # nothing open: the statement's cursor was closed on the thread

    def close(self) -> None:
        self._rows.clear()

    def setinputsizes(self, *inputsizes: Any) -> None:
        pass  # sqlite3's does nothing either

    def nextset(self) -> None:
        raise sqlite3.NotSupportedError("nextset is not supported by sqlite3")


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ("deferred",)
    _cursor_cls = OneTripCursor

    def __init__(self, dbapi: Any, connection: aiosqlite.Connection) -> None:
        super().__init__(dbapi, connection)
        self.deferred: _Deferred = []  # writes waiting for the next statement or the commit

    # No trip for a commit or rollback with no transaction open: sqlite3's own does nothing
    # then (it asks ``sqlite3_get_autocommit``, as ``in_transaction`` does), yet aiosqlite sends
    # it to the thread. The pool rolls back every connection given back to it, so each session
    # paid a trip for nothing: 2 of a form step's 11 (issue 15). Read on the loop's thread
    # while no statement of this connection runs (SQLAlchemy's own, one caller at a time).
    def rollback(self) -> None:
        self.deferred = []
        if self._open_transaction():
            super().rollback()

    def commit(self) -> None:
        if self.deferred:
            try:
                await_(self._commit_deferred())
            except Exception as error:
                self._handle_exception(error)
        elif self._open_transaction():
            super().commit()

    def cursor(self, server_side: bool = False) -> Any:
        if server_side and self.deferred:  # a server-side cursor runs on aiosqlite's own
            self.cursor().execute("SELECT 1")  # the deferred writes go first, in order
        return super().cursor(server_side)

    async def _commit_deferred(self) -> None:
        async with self._execute_mutex:
            deferred, self.deferred = self.deferred, []
            await self._connection._execute(_commit, self._connection, deferred)

    def close(self) -> None:
        self.deferred = []
        super().close()

    def _open_transaction(self) -> bool:
        connection = self._connection._connection
        return connection is not None and connection.in_transaction


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> OneTripConnection:
        adapted = super().connect(*arg, **kw)
        return OneTripConnection(self, adapted._connection)


def defer_marked(engine: AsyncEngine) -> None:
    """Let statements executed with the option ``DEFER`` wait for the next trip (``DEFER``)."""

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _mark(_conn, cursor, _statement, _parameters, context, executemany) -> None:
        if (context is not None and not executemany and isinstance(cursor, OneTripCursor)
                and context.execution_options.get(DEFER)):
            cursor.defer = True


def one_trip_dbapi() -> OneTripDBAPI:
    """For ``create_async_engine(..., module=one_trip_dbapi())`` on a ``sqlite+aiosqlite`` URL."""
    return OneTripDBAPI(aiosqlite, sqlite3)
