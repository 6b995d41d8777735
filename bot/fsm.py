"""Choose where FSM state lives and how each chat's updates are serialised.

aiogram handles updates concurrently, so two quick taps on one button would both pass the FSM
state check; event isolation makes them run one after the other. In one process a lock in memory
is enough; several processes (webhook behind a load balancer) need Redis for both the state and
the lock.
"""

from __future__ import annotations

from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage, DefaultKeyBuilder
from aiogram.fsm.storage.memory import SimpleEventIsolation
from aiogram.fsm.storage.redis import RedisStorage
from redis.asyncio import BlockingConnectionPool, Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.isolation import RenewedRedisIsolation
from storage.fsm import SqlAlchemyStorage


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
        storage = RedisStorage(Redis(connection_pool=pool), key_builder=keys)
        return storage, RenewedRedisIsolation(storage.redis, keys)
    return SqlAlchemyStorage(session_factory), SimpleEventIsolation()
