"""SQLAlchemy's aiosqlite adapter: statements on the loop's thread, or one trip to SQLite's thread.

aiosqlite runs each call on the connection's own thread and hands the result back to the event
loop. SQLAlchemy's adapter makes four such calls per statement (open a cursor, execute, fetch
the rows, close the cursor), each a hand-over between two threads and a wake-up of the loop;
under a crowd of citizens a quarter of the bot's main thread was spent handing over (issue 15,
py-spy of bench/concurrency.py). Here the cursor is opened, executed, read and closed in one
call on that thread; the rows, description, rowcount and last row id come back together, which
is what SQLAlchemy's adapter keeps of them anyway (it buffers every row as it executes).

What this relies on of aiosqlite beyond its documented API, ``Connection._execute`` and
``Connection._conn`` (``_connection``), SQLAlchemy's own adapter uses too (its isolation-level
setter), as it does ``_thread``. Server-side cursors (``stream``) keep SQLAlchemy's cursor.
``tests/storage/test_sqlite_driver.py`` checks the trips, the results and what stays off the loop.

Most statements make no trip at all: they run on the event loop's own thread (``_inline``), as
sqlite3 on a WAL database with one writer per process (``storage.db.OneWriter``) takes
microseconds for a form step's statements, less than a hand-over to the thread and back (issue
15). What could keep the loop waiting still goes to the thread:

- a lock held by another process (the command line, a second bot): on the loop the connection
  waits for no lock (``busy_timeout`` 0), and a statement or commit that finds the database busy
  runs again on the thread, which waits up to ``BUSY_WAIT_MS`` as before;
- a long read (statistics, an export's query): a ``SELECT`` on the loop is stopped after
  ``INLINE_READ_BUDGET`` seconds by a progress handler and runs again on the thread (stopping a
  read leaves the transaction as it was; SQLite rolls a transaction back only for a stopped
  write);
- writes outside an update (jobs, the command line: batches that may be long) unless marked
  short (option ``INLINE``), and ``executemany``: an update's writes are its own few rows
  (``storage.unit_of_work``); a transaction commits or rolls back where its writes ran;
- the WAL's checkpoint, which copies pages into the database file and syncs it: SQLite's
  automatic one would run inside a commit on the loop, so it is off and ``Checkpoints`` asks the
  thread for one every ``CHECKPOINT_EVERY`` commits;
- whatever comes while the connection's thread still has work (a call cancelled mid-way):
  sqlite3 is never used from two threads at once.
"""

from __future__ import annotations

import asyncio
import collections
import functools
import logging
import re
import sqlite3
import time
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

from storage.unit_of_work import current_session

log = logging.getLogger(__name__)

# How long a statement on the connection's thread waits for another process's lock.
BUSY_WAIT_MS = 10_000
# How long a read may run on the loop before it is stopped and sent to the thread (seconds).
INLINE_READ_BUDGET = 0.002
# SQLite's virtual machine instructions between two looks at the clock during a read on the loop.
_PROGRESS_STEPS = 1_000
# Commits between two checkpoints of the WAL, done on a connection's thread (SQLite's automatic
# checkpoint, off here, comes every 1,000 pages: a form step writes a handful).
CHECKPOINT_EVERY = 200
_BUSY, _INTERRUPT = sqlite3.SQLITE_BUSY, sqlite3.SQLITE_INTERRUPT

# Execution option of a write whose result nobody reads (the journal's "done" mark, the FSM row
# stored at the commit): it goes with the connection's next statement or commit, on the loop's
# thread or in the same trip to SQLite's (``OneTripCursor.execute``). A failure shows at that statement or commit,
# which then fails: the transaction is not committed. Other dialects ignore the option.
DEFER = "lapor_sqlite_defer"
# Execution option of a short write made outside an update (the journal's record of a batch): it
# runs on the loop's thread like an update's writes, and so does its commit when the transaction
# wrote nothing on SQLite's thread. Other dialects ignore the option.
INLINE = "lapor_sqlite_inline"

_Deferred = list[tuple[str, Any]]


def _run_deferred(cursor: sqlite3.Cursor, deferred: _Deferred) -> None:
    for operation, parameters in deferred:
        cursor.execute(operation, parameters)


def _statement(cursor: sqlite3.Cursor, operation: str, parameters: Any, many: bool) -> tuple[Any, ...]:
    """The statement's description, rows, rowcount and last row id."""
    if many:
        cursor.executemany(operation, parameters)
    elif parameters is None:
        cursor.execute(operation)
    else:
        cursor.execute(operation, parameters)
    description = cursor.description
    rows = cursor.fetchall() if description else []
    return description, rows, cursor.rowcount, cursor.lastrowid


def _run(connection: aiosqlite.Connection, operation: str, parameters: Any, many: bool,
         deferred: _Deferred) -> tuple[Any, ...]:
    """On the connection's thread: the writes deferred to it, then the whole statement."""
    cursor = connection._conn.cursor()
    try:
        _run_deferred(cursor, deferred)
        return _statement(cursor, operation, parameters, many)
    finally:
        cursor.close()


async def _nothing() -> None:
    pass


def _checkpoint(connection: aiosqlite.Connection) -> None:
    connection._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").close()


class ThreadedConnection(aiosqlite.Connection):
    """aiosqlite's connection that knows when its thread has work, and waits for locks there only."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Calls given to the thread, and calls it finished: each counter written by one thread.
        self.sent = self.finished = 0
        self._stopping: asyncio.Future[Any] | None = None

    def stop(self) -> asyncio.Future[Any] | None:
        """As aiosqlite's, once: its thread ends at the first stop, so a second one queued behind
        it would never be answered. SQLAlchemy's terminate makes two when cancelled half-way (its
        shielded graceful close stops the connection in a ``finally``, and the force close it
        falls back to stops it too): the close then waited forever, hanging a shutdown."""
        if self._stopping is None:
            self._stopping = super().stop()
        return self._stopping

    @property
    def idle(self) -> bool:
        """Nothing queued or running on the thread: sqlite3 may be used on the loop."""
        return self.sent == self.finished and self._connection is not None

    async def _execute(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        @functools.wraps(fn)  # named after what it runs (tests count the trips by name)
        def waiting_for_locks() -> Any:
            try:
                _busy_timeout(self._connection, BUSY_WAIT_MS)
                try:
                    return fn(*args, **kwargs)
                finally:
                    _busy_timeout(self._connection, 0)
            finally:
                self.finished += 1

        self.sent += 1
        try:
            return await super()._execute(waiting_for_locks)
        except ValueError:
            if not self._running or not self._connection:  # closed: nothing was queued
                self.finished = self.sent
            raise


def _busy_timeout(connection: sqlite3.Connection | None, ms: int) -> None:
    try:
        connection.execute(f"PRAGMA busy_timeout={ms}").close()  # type: ignore[union-attr]
    except (AttributeError, sqlite3.ProgrammingError):
        pass  # not open yet, or closed by the call itself


def _connect(database: str, **kwargs: Any) -> ThreadedConnection:
    # As aiosqlite.connect, with statements allowed from the loop's thread too (one at a time).
    connection = ThreadedConnection(
        lambda: sqlite3.connect(database, **{**kwargs, "check_same_thread": False}), iter_chunk_size=64)
    connection._thread.daemon = True  # as SQLAlchemy's adapter does
    return connection


_WRITES = re.compile(r"\b(insert|update|delete|replace)\b", re.IGNORECASE)


def _reads_only(operation: str) -> bool:
    """A SELECT, or a WITH that ends in one: stopping it on the loop costs nothing but the
    time spent. A write stopped half-way would take the transaction with it, so anything that
    might write (a keyword in a string included) counts as a write."""
    start = operation.lstrip()[:6].lower()
    return start == "select" or (start[:4] == "with" and _WRITES.search(operation) is None)


def _busy_or_stopped(error: sqlite3.OperationalError) -> bool:
    return (getattr(error, "sqlite_errorcode", 0) & 0xFF) in (_BUSY, _INTERRUPT)


def _inline(connection: sqlite3.Connection, operation: str, parameters: Any, deferred: _Deferred,
            read: bool) -> tuple[Any, ...] | None:
    """On the loop's thread: the deferred writes, then the statement; None when the database was
    busy or the read ran over its budget (the caller sends the rest to the thread). A deferred
    write is taken off the list once done, so what is left is what the thread must still run."""
    cursor = connection.cursor()
    try:
        while deferred:
            cursor.execute(*deferred[0])
            del deferred[0]
        if read:
            deadline = time.perf_counter() + INLINE_READ_BUDGET
            connection.set_progress_handler(lambda: time.perf_counter() > deadline, _PROGRESS_STEPS)
        try:
            return _statement(cursor, operation, parameters, many=False)
        finally:
            if read:
                connection.set_progress_handler(None, 0)
    except sqlite3.OperationalError as error:
        if _busy_or_stopped(error):
            return None
        deferred.clear()  # as on the thread: a failed statement takes its deferred writes along
        raise
    except BaseException:
        deferred.clear()
        raise
    finally:
        cursor.close()


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
    __slots__ = ("_description", "_rowcount", "_lastrowid", "_arraysize", "defer", "inline")

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
        self.inline = False  # the same, for the option ``INLINE``

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
        adapt = self._adapt_connection
        try:
            if not many:
                read = _reads_only(operation)
                if adapt.may_run_inline(write=not (read or self.inline)):
                    done = _inline(self._connection._conn, operation, parameters, adapt.deferred, read)
                    if done is not None:
                        self._description, rows, self._rowcount, self._lastrowid = done
                        self._rows = collections.deque(rows)
                        await_(_nothing())  # see ``execute``
                        return
            if adapt.deferred or many or not _reads_only(operation):
                adapt.wrote_on_thread = True
            await_(self._trip_async(operation, parameters, many))
        except Exception as error:
            adapt._handle_exception(error)

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
    __slots__ = ("deferred", "wrote_on_thread")
    _cursor_cls = OneTripCursor
    _connection: ThreadedConnection

    def __init__(self, dbapi: Any, connection: ThreadedConnection) -> None:
        super().__init__(dbapi, connection)
        self.deferred: _Deferred = []  # writes waiting for the next statement or the commit
        self.wrote_on_thread = False  # the open transaction wrote on SQLite's thread

    def may_run_inline(self, *, write: bool) -> bool:
        """May the next statement run on the loop's thread? Reads anywhere; writes inside an
        update (or marked ``INLINE``); never while the connection's thread has work."""
        return self._connection.idle and (not write or current_session() is not None)

    def may_end_inline(self) -> bool:
        """May the commit or rollback run on the loop's thread? Where the transaction's writes
        ran: a transaction that wrote on SQLite's thread (a job's batch) ends there."""
        return self._connection.idle and not self.wrote_on_thread

    # No trip for a commit or rollback with no transaction open: sqlite3's own does nothing
    # then (it asks ``sqlite3_get_autocommit``, as ``in_transaction`` does), yet aiosqlite sends
    # it to the thread. The pool rolls back every connection given back to it, so each session
    # paid a trip for nothing: 2 of a form step's 11 (issue 15). Read on the loop's thread
    # while no statement of this connection runs (SQLAlchemy's own, one caller at a time).
    def rollback(self) -> None:
        self.deferred = []
        inline, self.wrote_on_thread = self.may_end_inline(), False
        if self._open_transaction():
            if inline:
                try:
                    self._connection._conn.rollback()
                except Exception as error:
                    self._handle_exception(error)
                return
            super().rollback()

    def commit(self) -> None:
        inline, self.wrote_on_thread = self.may_end_inline(), False
        if not self.deferred and not self._open_transaction():
            return
        try:
            if not (inline and self._commit_inline()):
                await_(self._commit_deferred())
        except Exception as error:
            self._handle_exception(error)
        self.dbapi.checkpoints.committed(self._connection)

    def _commit_inline(self) -> bool:
        """The deferred writes and the commit on the loop's thread; False when the database was
        busy (what is left goes to the thread)."""
        conn = self._connection._conn
        cursor = conn.cursor()
        try:
            while self.deferred:
                cursor.execute(*self.deferred[0])
                del self.deferred[0]
            conn.commit()
        except sqlite3.OperationalError as error:
            if _busy_or_stopped(error):
                return False
            self._failed_commit(conn)
            raise
        except BaseException:
            self._failed_commit(conn)
            raise
        finally:
            cursor.close()
        return True

    def _failed_commit(self, conn: sqlite3.Connection) -> None:
        # As ``_commit``: the whole transaction fails.
        self.deferred = []
        conn.rollback()

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


def read_inline(connection: OneTripConnection, operation: str, parameters: Any) -> list[Any] | None:
    """The rows of a read sent without SQLAlchemy's cursor (``storage.held``), run on the loop's
    thread as ``OneTripCursor`` runs one; None when it may not run there now (the connection's
    thread has work, or writes wait for the next statement: a failure here must not take them
    along unseen) or was stopped (busy, over ``INLINE_READ_BUDGET``). The caller then sends it
    through the session, whose cursor has every fall-back (SQLite's thread)."""
    if connection.deferred or not connection.may_run_inline(write=False):
        return None
    done = _inline(connection._connection._conn, operation, parameters, connection.deferred, read=True)
    return None if done is None else done[1]


class Checkpoints:
    """SQLite's automatic checkpoint is off (``PRAGMA wal_autocheckpoint=0``, storage/db.py): it
    would run inside a commit, on the loop's thread when the commit is made there. Every
    ``every`` commits one connection's thread is asked for a passive checkpoint instead (it
    waits for no reader; what it cannot copy yet waits for the next one)."""

    def __init__(self, every: int = CHECKPOINT_EVERY) -> None:
        self.every = every
        self.commits = 0
        self._running: set[asyncio.Task[Any]] = set()

    def committed(self, connection: ThreadedConnection) -> None:
        self.commits += 1
        if self.commits < self.every or connection._connection is None:
            return
        self.commits = 0
        task = asyncio.ensure_future(connection._execute(_checkpoint, connection))
        self._running.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._running.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("WAL checkpoint failed: %s", task.exception())


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.checkpoints = Checkpoints()

    def connect(self, *arg: Any, **kw: Any) -> OneTripConnection:
        adapted = super().connect(*arg, async_creator_fn=_connect, **kw)
        return OneTripConnection(self, adapted._connection)


def defer_marked(engine: AsyncEngine) -> None:
    """Let statements executed with the option ``DEFER`` wait for the next trip (``DEFER``), and
    those with ``INLINE`` run on the loop's thread outside an update (``INLINE``)."""

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _mark(_conn, cursor, _statement, _parameters, context, executemany) -> None:
        if context is not None and not executemany and isinstance(cursor, OneTripCursor):
            options = context.execution_options
            cursor.defer = bool(options.get(DEFER))
            cursor.inline = bool(options.get(INLINE))


def one_trip_dbapi() -> OneTripDBAPI:
    """For ``create_async_engine(..., module=one_trip_dbapi())`` on a ``sqlite+aiosqlite`` URL."""
    return OneTripDBAPI(aiosqlite, sqlite3)
