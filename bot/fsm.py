"""Choose where FSM state lives and how each chat's updates are serialised.

aiogram handles updates concurrently, so two quick taps on one button would both pass the FSM
state check; event isolation makes them run one after the other. In one process a lock in memory
is enough; several processes (webhook behind a load balancer) need Redis for both the state and
the lock.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage, DefaultKeyBuilder, StateType, StorageKey
from aiogram.fsm.storage.memory import SimpleEventIsolation
from aiogram.fsm.storage.redis import RedisStorage
from redis.asyncio import BlockingConnectionPool, Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.isolation import RenewedRedisIsolation
from storage.fsm import SqlAlchemyStorage
from storage.unit_of_work import current_session

# Where an update's session keeps what the Redis storage read or wrote: {(kind, key): value}.
_READS = "lapor_redis_fsm"


class UpdateCachedRedisStorage(RedisStorage):
    """Reads Redis once per update: the form's button filters and its handler ask for the state
    and the data several times per button press. Event isolation keeps every other update of the
    chat out meanwhile, so what was read stays true until this update writes (written through).
    Outside an update (no session bound) every call goes to Redis."""

    @staticmethod
    def _cache() -> dict[tuple[str, StorageKey], Any] | None:
        session = current_session()
        return None if session is None else session.info.setdefault(_READS, {})

    async def get_state(self, key: StorageKey) -> str | None:
        cache = self._cache()
        if cache is None:
            return await super().get_state(key)
        if ("state", key) not in cache:
            cache["state", key] = await super().get_state(key)
        return cache["state", key]

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        await super().set_state(key, state)
        if (cache := self._cache()) is not None:
            cache["state", key] = state.state if isinstance(state, State) else state

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        cache = self._cache()
        if cache is None:
            return await super().get_data(key)
        if ("data", key) not in cache:
            cache["data", key] = json.dumps(await super().get_data(key))
        return json.loads(cache["data", key])  # a fresh copy: callers may change what they got

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await super().set_data(key, data)
        if (cache := self._cache()) is not None:
            cache["data", key] = json.dumps(dict(data))


def redis_key_builder(key_prefix: str = "lapor:fsm") -> DefaultKeyBuilder:
    """How FSM keys are named in Redis (tests and operators read them with it)."""
    # Bot id and destiny in the key: several bots (or a test bot) may share one Redis.
    return DefaultKeyBuilder(
        prefix=key_prefix,
        with_bot_id=True,
        with_business_connection_id=True,
        with_destiny=True,
    )


def build_fsm(
    redis_url: str | None,
    session_factory: async_sessionmaker[AsyncSession],
    *,
    key_prefix: str = "lapor:fsm",
    redis_max_connections: int = 50,
) -> tuple[BaseStorage, BaseEventIsolation]:
    """Return ``(storage, events_isolation)`` for ``Dispatcher(storage=..., events_isolation=...)``.

    The Dispatcher closes both on shutdown; closing the Redis storage closes its connection pool,
    which the isolation shares, so nothing else needs closing.
    """
    if redis_url:
        # A blocking pool: past its size a command waits for a free connection; the default pool
        # refused ("Too many connections") and failed half the citizens of a burst.
        pool = BlockingConnectionPool.from_url(redis_url, max_connections=redis_max_connections, timeout=None)
        keys = redis_key_builder(key_prefix)
        storage = UpdateCachedRedisStorage(Redis(connection_pool=pool), key_builder=keys)
        return storage, RenewedRedisIsolation(storage.redis, keys)
    return SqlAlchemyStorage(session_factory), SimpleEventIsolation()
