"""aiogram FSM storage in our own database, for deployments without Redis.

A citizen filling in a report goes through several steps; with aiogram's MemoryStorage a restart
in the middle would throw their answers away.

Inside an update the storage works in the update's own session (``storage.unit_of_work``): the
state, the data and whatever the handler writes commit together or not at all, and an update
never needs a second connection while holding one (with a pool of N connections, N updates each
waiting for a second one would stall every chat until the pool's timeout). The row read once is
kept in the session for the rest of the update: the button filters and the handler ask for it
several times, and event isolation guarantees no one else writes this chat's row meanwhile.
Writes wait for the session's next commit, where one statement stores the row's last state and
data (a form step sets both, and used to cost three statements).
Outside an update (jobs, the command line) each call is a short transaction of its own.

FSM data is stored as JSON: callers must keep it JSON-serialisable (store dates as ISO strings,
ids as ints, no ORM objects). ``set_data`` raises ``TypeError`` otherwise, before touching the
database.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from aiogram.exceptions import DataNotDictLikeError
from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, StateType, StorageKey
from sqlalchemy import and_, bindparam, delete, event, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from storage import held
from storage.base import utcnow
from storage.models.fsm import FsmState
from storage.sqlite_driver import DEFER
from storage.unit_of_work import PENDING, current_session, pending_writes

_KEY_COLUMNS = ("bot_id", "chat_id", "user_id", "thread_id", "business_connection_id", "destiny")


def _key_values(key: StorageKey) -> dict[str, Any]:
    # Optional key parts become 0 / "" because they belong to the primary key (no NULLs there).
    return {
        "bot_id": key.bot_id,
        "chat_id": key.chat_id,
        "user_id": key.user_id,
        "thread_id": key.thread_id or 0,
        "business_connection_id": key.business_connection_id or "",
        "destiny": key.destiny,
    }


# The statements are built once and run with the key as parameters: building them per call
# (six comparisons, an upsert's EXCLUDED alias with a proxy per column) cost more CPU than the
# rest of a form step's SQL together (issue 15, py-spy of bench/concurrency.py). They are on the
# table, not the entity: nothing here needs the ORM, and an ORM-enabled upsert went through its
# bulk-insert machinery, 7% of the bot's CPU in a crowd on SQLite (py-spy, 2026-12-02).
_TABLE = FsmState.__table__
_WHERE = and_(*(_TABLE.c[name] == bindparam(f"key_{name}") for name in _KEY_COLUMNS))
_SELECT = select(_TABLE.c.state, _TABLE.c.data).where(_WHERE)
_DELETE = delete(_TABLE).where(_WHERE)


def _where_params(key: StorageKey) -> dict[str, Any]:
    return {f"key_{name}": value for name, value in _key_values(key).items()}


def _ident(key: StorageKey) -> tuple[Any, ...]:
    return tuple(_key_values(key).values())


# Where a session keeps the rows it read or wrote: {key: (state, data as JSON)}.
_CACHE = "lapor_fsm_rows"
# Rows written in the update but not yet sent to the database: {key: StorageKey}. A form step
# sets the data and the state (and a handler may set them several times); one statement at the
# commit stores the last of them.
_DIRTY = "fsm"


@event.listens_for(Session, "after_rollback")
def _forget_on_rollback(session: Session) -> None:
    # What was written in the transaction is gone: read the rows again.
    session.info.pop(_CACHE, None)
    session.info.get(PENDING, {}).pop(_DIRTY, None)


@event.listens_for(Session, "before_commit")
def _write_pending(session: Session) -> None:
    # Runs inside AsyncSession.commit's greenlet, so the session may still execute here.
    dirty = session.info.get(PENDING, {}).pop(_DIRTY, None)
    if not dirty:
        return
    cache = session.info[_CACHE]
    for ident, key in dirty.items():
        state, data = cache[ident]
        # On SQLite sent with the commit, on the loop's thread or in one trip to its thread
        # (storage/sqlite_driver.py), without SQLAlchemy's execution (storage/held.py).
        if state is None and data == "{}":
            statement, params = _DELETE, _where_params(key)
        else:
            statement, params = _upsert_of(session, key, state=state, data=json.loads(data))
        if not held.defer_write(session, statement, params):
            session.execute(statement, params, execution_options=_AT_COMMIT)


def _state_name(state: StateType) -> str | None:
    return state.state if isinstance(state, State) else state


def _as_json(data: Mapping[str, Any]) -> str:
    """``data`` as the JSON the row stores; the one check that it can be stored. Rows are kept
    and passed on as this text: a form step (data, state, data again) decoded and encoded its
    draft six times (issue 15)."""
    if not isinstance(data, dict):
        msg = f"Data must be a dict or dict-like object, got {type(data).__name__}"
        raise DataNotDictLikeError(msg)
    try:
        return json.dumps(data)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"FSM data must be JSON-serialisable: {exc}") from exc


class SqlAlchemyStorage(BaseStorage):
    """FSM storage on the application database (SQLite or PostgreSQL).

    A row exists while a conversation has a state or data; clearing both deletes it.
    """

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._session_factory = session_factory

    async def close(self) -> None:
        # The engine belongs to the application, which disposes of it on shutdown.
        pass

    @asynccontextmanager
    async def _session(self, *, write: bool) -> AsyncIterator[AsyncSession]:
        shared = current_session()
        if shared is not None:
            yield shared  # the update commits it, with everything else it wrote
            return
        async with self._session_factory() as session:
            if write:
                async with session.begin():
                    yield session
            else:
                yield session

    async def _row(self, session: AsyncSession, key: StorageKey) -> tuple[str | None, str]:
        """(state, data as JSON) of ``key``, read once per session."""
        cache = session.info.setdefault(_CACHE, {})
        ident = _ident(key)
        if ident not in cache:
            row = await held.first_row(session, _SELECT, _where_params(key))
            cache[ident] = (row[0], json.dumps(row[1] or {})) if row else (None, "{}")
        return cache[ident]

    @staticmethod
    def _remember(session: AsyncSession, key: StorageKey, state: str | None, data: str) -> None:
        session.info.setdefault(_CACHE, {})[_ident(key)] = (state, data)

    async def get_state(self, key: StorageKey) -> str | None:
        async with self._session(write=False) as session:
            return (await self._row(session, key))[0]

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        async with self._session(write=False) as session:
            # A fresh copy every time: callers may change what they got.
            return json.loads((await self._row(session, key))[1])

    async def _defer(self, session: AsyncSession, key: StorageKey, state: str | None, data: str) -> None:
        self._remember(session, key, state, data)
        pending_writes(session, _DIRTY)[_ident(key)] = key

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        name = _state_name(state)
        if (shared := current_session()) is not None:
            _, data = await self._row(shared, key)
            await self._defer(shared, key, name, data)
            return
        async with self._session(write=True) as session:
            _, data = await self._row(session, key)
            if name is None and data == "{}":
                await session.execute(_DELETE, _where_params(key))
            else:
                await session.run_sync(_upsert, key, state=name)
            self._remember(session, key, name, data)

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        new = _as_json(data)
        if (shared := current_session()) is not None:
            state, _ = await self._row(shared, key)
            await self._defer(shared, key, state, new)
            return
        async with self._session(write=True) as session:
            state, _ = await self._row(session, key)
            if new == "{}" and state is None:
                await session.execute(_DELETE, _where_params(key))
            else:
                await session.run_sync(_upsert, key, data=json.loads(new))
            self._remember(session, key, state, new)

    async def update_data(self, key: StorageKey, data: Mapping[str, Any]) -> dict[str, Any]:
        # Read and write in one transaction. Inside an update, event isolation keeps every other
        # update of this chat out; outside one, the row lock (PostgreSQL) keeps a concurrent
        # update from another process from being lost (SQLite serialises writers anyway).
        _as_json(data)  # refused before anything is read or written
        new = dict(data)
        if (shared := current_session()) is not None:
            state, raw = await self._row(shared, key)
            merged = {**json.loads(raw), **new}
            await self._defer(shared, key, state, json.dumps(merged))
            return dict(merged)
        async with self._session(write=True) as session:
            if current_session() is None:
                row = (await session.execute(_SELECT.with_for_update(), _where_params(key))).first()
                state, current = (row[0], row[1] or {}) if row else (None, {})
            else:
                state, raw = await self._row(session, key)
                current = json.loads(raw)
            merged = {**current, **new}
            if merged:
                await session.run_sync(_upsert, key, data=merged)
            self._remember(session, key, state, json.dumps(merged))
        return dict(merged)

    async def delete_stale(self, before: datetime) -> int:
        """Forget conversations untouched since ``before`` (abandoned forms); returns the count."""
        async with self._session_factory() as session, session.begin():
            result = await session.execute(delete(FsmState).where(FsmState.updated_at < before))
        return result.rowcount or 0


# {(dialect, columns written): the upsert}, built on first use.
_UPSERTS: dict[tuple[str, tuple[str, ...]], Any] = {}


_AT_COMMIT = {DEFER: True}


def _upsert(session: Session, key: StorageKey, **values: Any) -> None:
    """Insert the row or update the given columns; one statement, no race on first write."""
    session.execute(*_upsert_of(session, key, **values))


def _upsert_of(session: Session, key: StorageKey, **values: Any) -> tuple[Any, dict[str, Any]]:
    """The upsert of the given columns (built once per dialect and columns) and its parameters."""
    dialect = session.get_bind().dialect.name
    columns = tuple(sorted(values))
    if (stmt := _UPSERTS.get((dialect, columns))) is None:
        stmt = _UPSERTS[dialect, columns] = _upsert_statement(dialect, columns)
    return stmt, {"state": None, "data": {}, **_key_values(key), **values, "updated_at": utcnow()}


def _upsert_statement(dialect: str, columns: tuple[str, ...]):
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}.get(dialect)
    if insert is None:
        raise NotImplementedError(f"SqlAlchemyStorage does not support {dialect}")
    # No VALUES given: the parameters of each execution name them (every column of the row).
    stmt = insert(_TABLE)
    return stmt.on_conflict_do_update(
        index_elements=list(_KEY_COLUMNS),
        set_={name: getattr(stmt.excluded, name) for name in (*columns, "updated_at")},
    )
