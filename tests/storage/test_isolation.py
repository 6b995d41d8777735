"""The Redis chat lock (bot/isolation.py): short-lived, renewed while its update runs.

aiogram's own lock lived 60 s, so a process killed mid-update left its chat unanswered for a
minute after the restart (issue 11, item 3; tests/e2e/test_crash_recovery.py shows it end to end).
"""

from __future__ import annotations

import asyncio
import os
import secrets
from types import SimpleNamespace

from aiogram.fsm.storage.base import StorageKey
from redis.asyncio import Redis

from bot.fsm import build_fsm, redis_key_builder
from bot.fsm_redis import ReadingRedisIsolation
from bot.isolation import LOCK_TTL

REDIS_URL = os.environ.get("LAPOR_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
KEY = StorageKey(bot_id=1, chat_id=100, user_id=100)


async def _isolation(prefix: str, ttl: float) -> ReadingRedisIsolation:
    return ReadingRedisIsolation(Redis.from_url(REDIS_URL), redis_key_builder(prefix), ttl=ttl)


async def test_the_lock_expires_within_seconds_unless_renewed():
    prefix = f"lapor_test_{secrets.token_hex(6)}"
    storage, isolation = build_fsm(REDIS_URL, None, key_prefix=prefix)
    name = redis_key_builder(prefix).build(KEY, "lock")
    try:
        async with isolation.lock(KEY):
            ttl_ms = await storage.redis.pttl(name)
            # What a process killed now would leave behind: gone after at most LOCK_TTL.
            assert 0 < ttl_ms <= LOCK_TTL * 1000
        assert await storage.redis.exists(name) == 0
    finally:
        await storage.close()


async def test_a_slow_update_keeps_its_chat_past_the_ttl():
    prefix = f"lapor_test_{secrets.token_hex(6)}"
    # A 0.9 s lock renewed every 0.3 s: a loop stalled 0.6 s (a loaded CI machine) still renews
    # it in time; 0.3 s locks failed at load 12.
    first, second = await _isolation(prefix, 0.9), await _isolation(prefix, 0.9)
    order: list[str] = []
    try:
        async def slow() -> None:
            async with first.lock(KEY):
                order.append("slow starts")
                await asyncio.sleep(2.0)  # over twice the lock's life
                order.append("slow ends")

        async def next_update() -> None:
            await asyncio.sleep(0.1)
            async with second.lock(KEY):
                order.append("next runs")

        await asyncio.gather(slow(), next_update())
        assert order == ["slow starts", "slow ends", "next runs"]
    finally:
        await first.redis.aclose()
        await second.redis.aclose()


async def test_a_dead_holders_lock_is_taken_over_after_it_expires():
    prefix = f"lapor_test_{secrets.token_hex(6)}"
    isolation = await _isolation(prefix, 0.3)
    name = redis_key_builder(prefix).build(KEY, "lock")
    try:
        # A lock as a killed process leaves it: held, nobody renewing it.
        await isolation.redis.set(name, "dead-process", px=300)
        async with asyncio.timeout(5):
            async with isolation.lock(KEY):
                assert (await isolation.redis.get(name)) != b"dead-process"
    finally:
        await isolation.redis.aclose()


async def test_a_lock_ended_with_the_last_writes_frees_only_its_own_lock():
    """``end_with_writes`` (the update's last FSM writes and the release in one script) deletes
    the lock only while it still holds this update's token, as redis-py's release does."""
    prefix = f"lapor_test_{secrets.token_hex(6)}"
    storage, isolation = build_fsm(REDIS_URL, None, key_prefix=prefix)
    assert isinstance(isolation, ReadingRedisIsolation)
    name = redis_key_builder(prefix).build(KEY, "lock")
    no_writes = SimpleNamespace(info={})  # a session with nothing deferred
    try:
        async with isolation.lock(KEY) as lock:
            await isolation.end_with_writes(lock, no_writes)
            assert await storage.redis.exists(name) == 0  # released at once
        async with isolation.lock(KEY) as lock:
            await storage.redis.set(name, b"another update's token")  # it expired and was taken
            await isolation.end_with_writes(lock, no_writes)
            assert await storage.redis.get(name) == b"another update's token"
    finally:
        await storage.redis.delete(name)
        await storage.close()
