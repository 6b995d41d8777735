"""Engine and session factory for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(url, echo=echo, connect_args={"timeout": 30})
        _tune_sqlite(engine)
        return engine
    return create_async_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=10)


def _tune_sqlite(engine: AsyncEngine) -> None:
    # WAL lets the delivery loop read while a handler writes; foreign keys are off by default in
    # SQLite; busy_timeout turns a momentary lock into a short wait instead of an error.
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=10000")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()


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
