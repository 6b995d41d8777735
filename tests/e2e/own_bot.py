"""A local Bot API server for a bot id of its own, for tests whose bot keeps state in Redis."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis.asyncio as aioredis

from sandbox.botapi import BotApiServer, Limits


@asynccontextmanager
async def server_with_own_bot_id(redis_url: str, limits: Limits, tag: str = "Test") -> AsyncIterator[BotApiServer]:
    """A random bot id: the Redis keys of this run (prefix:bot id:...) are its own, and are
    deleted at the end."""
    bot_id = 700_000_000 + secrets.randbelow(99_999_999)
    async with BotApiServer(token=f"{bot_id}:AA{tag}{secrets.token_hex(12)}", limits=limits) as server:
        yield server
    r = aioredis.from_url(redis_url)
    try:
        keys = [k async for k in r.scan_iter(match=f"lapor:fsm:{bot_id}:*")]
        if keys:
            await r.delete(*keys)
    finally:
        await r.aclose()
