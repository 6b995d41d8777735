"""Engine and session factory for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.util import await_

from storage import generation, unit_of_work
from storage.pg_driver import begin_at_first_write
from storage.sqlite_driver import defer_marked, one_trip_dbapi

# Statements that make a SQLite transaction a writer (pysqlite begins a transaction only there).
_WRITES = ("insert", "update", "delete", "replace")


# Seconds a pooled connection may sit unused before it is pinged at its next checkout.
IDLE_PING = 1.0


def create_engine(url: str, *, echo: bool = False, pool_size: int = 25, max_overflow: int = 5,
                  pool_timeout: float = 30.0, idle_ping: float = IDLE_PING) -> AsyncEngine:
    """``pool_size`` connections kept, ``max_overflow`` more under load, ``pool_timeout`` seconds
    to wait for one ([database] in config.example.toml). Most recently used first (LIFO): under a
    light load the same few connections stay warm, the rest idle and are pinged when next used."""
    pool: dict[str, Any] = {"pool_size": pool_size, "max_overflow": max_overflow, "pool_timeout": pool_timeout,
                            "pool_use_lifo": True}
    if url.startswith("sqlite"):
        if ":memory:" in url or url.rstrip("/").endswith("sqlite+aiosqlite:"):
            pool = {}  # one shared in-memory database: SQLAlchemy picks its own pool
        # One trip to SQLite's thread per statement instead of four (storage/sqlite_driver.py).
        # No wait for another process's lock at connect: statements on the loop's thread wait for
        # none, those on SQLite's thread up to sqlite_driver.BUSY_WAIT_MS.
        engine = create_async_engine(url, echo=echo, connect_args={"timeout": 0}, module=one_trip_dbapi(), **pool)
        _tune_sqlite(engine)
        defer_marked(engine)
        OneWriter(pool_timeout).install(engine)
    else:
        engine = create_async_engine(url, echo=echo, **pool)
        ping_when_idle(engine, idle_ping)
        begin_at_first_write(engine)
    generation.install(engine)
    unit_of_work.install(engine)
    return engine


def ping_when_idle(engine: AsyncEngine, idle: float) -> None:
    """A connection is pinged at checkout only when it sat in the pool for over ``idle`` seconds.

    SQLAlchemy's ``pool_pre_ping`` pings at every checkout, and asyncpg's ping is three round trips
    (BEGIN, a blank query, ROLLBACK): under load that was several round trips per update for
    connections used milliseconds before (issue 15). A connection that was busy just now is taken
    as alive; if the server restarted meanwhile its first statement fails, SQLAlchemy sees the
    disconnect and invalidates every connection opened before it, so the pool heals at once (the
    updates in flight at that moment fail, as they would have mid-restart anyway).
    """
    sync = engine.sync_engine
    dialect = sync.dialect

    @event.listens_for(sync.pool, "checkin")
    def _checkin(_dbapi_connection, record) -> None:
        if record is not None:
            record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(sync.pool, "checkout")
    def _checkout(dbapi_connection, record, _proxy) -> None:
        since = record.info.pop(_IDLE_SINCE, None)
        if since is None or time.monotonic() - since <= idle:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            if not dialect.is_disconnect(error, dbapi_connection, None):
                raise
            # The pool throws this connection away, marks every older one stale (a restart
            # closed them all) and checks out another, as its own pre-ping does.
            raise exc.InvalidatePoolError(str(error)) from error


_IDLE_SINCE = "lapor_idle_since"


def _tune_sqlite(engine: AsyncEngine) -> None:
    # WAL lets readers go on while one writes; foreign keys are off by default in SQLite. A
    # momentary lock (another process, the command line) is waited for on SQLite's thread only
    # (busy_timeout 0 here, storage/sqlite_driver.py), and the WAL is checkpointed there too
    # (``Checkpoints``) rather than inside a commit made on the loop's thread.
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=0")
        cur.execute("PRAGMA wal_autocheckpoint=0")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()


class OneWriter:
    """SQLite lets one transaction write at a time. Left to SQLite, concurrent writers retry in
    its busy handler, sleeping up to 100 ms a try, in no order, and fail with "database is
    locked" after busy_timeout: under a burst of citizens most time went to sleeping. Here the
    writers of this process queue in order on an asyncio lock, taken at a transaction's first
    write and released when it commits or rolls back; readers never wait (WAL).

    A task that holds the write lock and then writes through a second session would wait for
    itself: it fails after ``timeout`` like SQLite would, instead of hanging.
    """

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._lock = asyncio.Lock()
        self._holders: set[int] = set()  # id() of the DBAPI connections holding it

    def install(self, engine: AsyncEngine) -> None:
        sync = engine.sync_engine
        event.listen(sync, "before_cursor_execute", self._before_execute)
        dialect = sync.dialect
        commit, rollback = dialect.do_commit, dialect.do_rollback

        def do_commit(dbapi_connection) -> None:
            try:
                commit(dbapi_connection)
            finally:
                self._release(dbapi_connection)

        def do_rollback(dbapi_connection) -> None:
            try:
                rollback(dbapi_connection)
            finally:
                self._release(dbapi_connection)

        dialect.do_commit = do_commit  # type: ignore[method-assign]
        dialect.do_rollback = do_rollback  # type: ignore[method-assign]
        event.listen(sync, "invalidate", lambda dbapi_connection, *_: self._release(dbapi_connection))

    def _before_execute(self, conn, _cursor, statement: str, *_: Any) -> None:
        dbapi = conn.connection.dbapi_connection
        if id(dbapi) in self._holders or not statement.lstrip()[:7].lower().startswith(_WRITES):
            return
        await_(self._acquire())
        self._holders.add(id(dbapi))

    async def _acquire(self) -> None:
        # asyncio.timeout, not wait_for: wait_for wraps the acquisition in a task of its own, a
        # cost paid by every write transaction, contended or not (issue 15, py-spy).
        try:
            async with asyncio.timeout(self.timeout):
                await self._lock.acquire()
        except TimeoutError:
            raise sqlite3.OperationalError(
                f"database is locked: no turn to write within {self.timeout:g} s") from None

    def _release(self, connection) -> None:
        # Called with the pool's proxy or the raw DBAPI connection, depending on the path.
        ident = id(getattr(connection, "dbapi_connection", None) or connection)
        if ident in self._holders:
            self._holders.discard(ident)
            self._lock.release()


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def connection_problem(exc: BaseException) -> str | None:
    """What stopped us from reaching the database, in one line; None for anything else.

    Connecting raises the driver's own errors: OSError from asyncpg (refused, unknown host,
    timeout), a DBAPIError wrapping the server's refusal (missing database, unknown role, wrong
    password) or SQLite's "unable to open database file" (a path in a missing folder).
    """
    from sqlalchemy.exc import DBAPIError

    if isinstance(exc, DBAPIError):
        cause = str(exc.orig or exc).strip().splitlines()[0]
        if "unable to open database file" in cause:
            cause += " (does its folder exist, and may this user write there?)"
        return cause
    if isinstance(exc, OSError):
        return f"cannot connect: {exc.strerror or exc}"
    return None
