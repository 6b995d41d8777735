"""PostgreSQL (asyncpg): a transaction begins at its first write, not at its first read.

SQLAlchemy's asyncpg adapter sends BEGIN before a transaction's first statement and COMMIT at
its end: two round trips more for every transaction, also for the many updates whose database
work is only reading the sender's row (a form step with Redis holds its answers there). SQLite's
own driver does what this module does: plain reads run on their own, and BEGIN goes out before
the first statement that may write or lock (``is_plain_read``), so a transaction that only read
costs neither BEGIN nor COMMIT (its commit has nothing to end).

Why that is the same: at READ COMMITTED (our level) every statement of a transaction reads its
own fresh snapshot anyway, so reads before BEGIN see what they would have seen inside it; the
locks a plain SELECT takes only keep the table's definition from changing. A read that locks
rows (``FOR UPDATE``/``FOR SHARE``) or may write (anything but a SELECT, a CTE included) begins
the transaction first, as before. Server-side cursors (``yield_per``) and ``executemany`` keep the
adapter's own behaviour: they begin.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import event
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection, AsyncAdapt_asyncpg_cursor
from sqlalchemy.ext.asyncio import AsyncEngine

_SELECT = re.compile(r"\s*SELECT\b", re.IGNORECASE)
_LOCKS = re.compile(r"\bFOR\s+(?:UPDATE|SHARE|NO\s+KEY\s+UPDATE|KEY\s+SHARE)\b", re.IGNORECASE)

# Set while the adapter runs a plain read: its "start a transaction first" is skipped.
_reading: ContextVar[bool] = ContextVar("lapor_pg_plain_read", default=False)
# Set inside ``each_alone``: every statement, a write too, runs without BEGIN.
_alone: ContextVar[bool] = ContextVar("lapor_pg_each_alone", default=False)


@contextmanager
def each_alone() -> Iterator[None]:
    """Statements run inside (in this task) commit each by itself, as in autocommit mode: one round
    trip for a lone write instead of BEGIN, the write, COMMIT. What SQLAlchemy's
    ``isolation_level="AUTOCOMMIT"`` does, without setting the connection's isolation level and
    back around each use (issue 15: that was ~0.3 ms of CPU per update). Only on a connection with
    no transaction open (commit first), for statements each complete on its own; on a connection
    ``begin_at_first_write`` did not set up, the statements join a transaction as usual."""
    token = _alone.set(True)
    try:
        yield
    finally:
        _alone.reset(token)


def alone_now() -> bool:
    """Inside ``each_alone`` (in this task)."""
    return _alone.get()


def is_plain_read(statement: str) -> bool:
    """A SELECT that neither locks rows nor writes (no data-modifying CTE: those start WITH)."""
    return bool(_SELECT.match(statement)) and not _LOCKS.search(statement)


class _Cursor(AsyncAdapt_asyncpg_cursor):
    __slots__ = ()

    async def _prepare_and_execute(self, operation: str, parameters: Any) -> None:
        if self._adapt_connection._transaction is not None or not is_plain_read(operation):
            return await super()._prepare_and_execute(operation, parameters)
        token = _reading.set(True)
        try:
            return await super()._prepare_and_execute(operation, parameters)
        finally:
            _reading.reset(token)


class _Connection(AsyncAdapt_asyncpg_connection):
    __slots__ = ()
    _cursor_cls = _Cursor

    async def _start_transaction(self) -> None:
        if not (_reading.get() or _alone.get()):
            await super()._start_transaction()


def begin_at_first_write(engine: AsyncEngine) -> None:
    """Every connection ``engine`` opens begins its transactions at their first write."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        if type(dbapi_connection) is AsyncAdapt_asyncpg_connection:
            dbapi_connection.__class__ = _Connection  # same slots: only the methods change
