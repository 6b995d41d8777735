"""Choose where FSM state lives and how each chat's updates are serialised.

aiogram handles updates concurrently, so two quick taps on one button would both pass the FSM
state check; event isolation makes them run one after the other. In one process a lock in memory
is enough; several processes (webhook behind a load balancer) need Redis for both the state and
the lock (``bot/fsm_redis.py``, imported only then).
"""

from __future__ import annotations

from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage, DefaultKeyBuilder
from aiogram.fsm.storage.memory import SimpleEventIsolation
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

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
        from bot.fsm_redis import build_redis_fsm  # the Redis client only where Redis is used

        return build_redis_fsm(redis_url, redis_key_builder(key_prefix), redis_max_connections)
    return SqlAlchemyStorage(session_factory), SimpleEventIsolation()
