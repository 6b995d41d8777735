"""aiogram FSM storage in our own database, for deployments without Redis.

A citizen filling in a report goes through several steps; with aiogram's MemoryStorage a restart
in the middle would throw their answers away. Each call here is one short transaction of its own,
independent of the per-update session handlers use, so the FSM never holds a transaction open
while a handler talks to Telegram.

FSM data is stored as JSON: callers must keep it JSON-serialisable (store dates as ISO strings,
ids as ints, no ORM objects). ``set_data`` raises ``TypeError`` otherwise, before touching the
database.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from aiogram.exceptions import DataNotDictLikeError
from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, StateType, StorageKey
from sqlalchemy import ColumnElement, and_, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.base import utcnow
from storage.models.fsm import FsmState

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


def _where(key: StorageKey) -> ColumnElement[bool]:
    return and_(*(getattr(FsmState, name) == value for name, value in _key_values(key).items()))


def _state_name(state: StateType) -> str | None:
    return state.state if isinstance(state, State) else state


def _checked_data(data: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(data, dict):
        msg = f"Data must be a dict or dict-like object, got {type(data).__name__}"
        raise DataNotDictLikeError(msg)
    try:
        json.dumps(data)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"FSM data must be JSON-serialisable: {exc}") from exc
    return dict(data)


class SqlAlchemyStorage(BaseStorage):
    """FSM storage on the application database (SQLite or PostgreSQL).

    A row exists while a conversation has a state or data; clearing both deletes it.
    """

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._session_factory = session_factory

    async def close(self) -> None:
        # The engine belongs to the application, which disposes of it on shutdown.
        pass

    async def get_state(self, key: StorageKey) -> str | None:
        async with self._session_factory() as session:
            return await session.scalar(select(FsmState.state).where(_where(key)))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        async with self._session_factory() as session:
            data = await session.scalar(select(FsmState.data).where(_where(key)))
        return dict(data) if data else {}

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        name = _state_name(state)
        async with self._session_factory() as session, session.begin():
            if name is None:
                await self._clear(session, key, FsmState.state, None, FsmState.data)
            else:
                await self._upsert(session, key, state=name)

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        new = _checked_data(data)
        async with self._session_factory() as session, session.begin():
            if not new:
                await self._clear(session, key, FsmState.data, {}, FsmState.state)
            else:
                await self._upsert(session, key, data=new)

    async def update_data(self, key: StorageKey, data: Mapping[str, Any]) -> dict[str, Any]:
        # Read and write in one transaction; on PostgreSQL the row lock keeps a concurrent
        # update from another process from being lost (SQLite serialises writers anyway).
        new = _checked_data(data)
        async with self._session_factory() as session, session.begin():
            current = await session.scalar(
                select(FsmState.data).where(_where(key)).with_for_update()
            )
            merged = {**(current or {}), **new}
            if merged:
                await self._upsert(session, key, data=merged)
        return dict(merged)

    async def delete_stale(self, before: datetime) -> int:
        """Forget conversations untouched since ``before`` (abandoned forms); returns the count."""
        async with self._session_factory() as session, session.begin():
            result = await session.execute(delete(FsmState).where(FsmState.updated_at < before))
        return result.rowcount or 0

    @staticmethod
    async def _upsert(session: AsyncSession, key: StorageKey, **values: Any) -> None:
        """Insert the row or update the given columns; one statement, no race on first write."""
        dialect = session.get_bind().dialect.name
        insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}.get(dialect)
        if insert is None:
            raise NotImplementedError(f"SqlAlchemyStorage does not support {dialect}")
        now = utcnow()
        row = {"state": None, "data": {}, **_key_values(key), **values, "updated_at": now}
        stmt = insert(FsmState).values(**row)
        stmt = stmt.on_conflict_do_update(
            index_elements=list(_KEY_COLUMNS),
            set_={**{name: getattr(stmt.excluded, name) for name in values}, "updated_at": now},
        )
        await session.execute(stmt)

    @staticmethod
    async def _clear(session: AsyncSession, key: StorageKey, column, empty, other) -> None:
        """Empty one column; drop the row if the other one is empty too."""
        other_value = await session.scalar(
            update(FsmState)
            .where(_where(key))
            .values({column: empty, FsmState.updated_at: utcnow()})
            .returning(other)
        )
        if not other_value:
            await session.execute(delete(FsmState).where(_where(key)))
