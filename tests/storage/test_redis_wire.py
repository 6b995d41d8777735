"""``bot.redis_wire``: the lighter Redis pool and the scripts sent on it directly (issue 15). What
redis-py's pool and client did for us must still hold: a caller past the pool's size waits its
turn, a connection the server closed is replaced, a script the server forgot is loaded, and a
command cut off half-way never leaves its reply for the next one to read."""

from __future__ import annotations

import asyncio
import os
import secrets

import pytest
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from bot.redis_wire import LightPool, evalsha

REDIS_URL = os.environ.get("LAPOR_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
ECHO = "return ARGV[1]"


def _client(max_connections: int = 4) -> Redis:
    return Redis(connection_pool=LightPool.from_url(REDIS_URL, max_connections=max_connections))


async def test_a_caller_past_the_pools_size_waits_its_turn():
    redis = _client(max_connections=2)
    pool = redis.connection_pool
    try:
        held = [await pool.get_connection(), await pool.get_connection()]
        waiting = [asyncio.create_task(pool.get_connection()) for _ in range(2)]
        await asyncio.sleep(0.05)
        assert not any(task.done() for task in waiting)  # neither fails nor gets a third
        await pool.release(held.pop())
        first = await asyncio.wait_for(waiting[0], 1)
        assert not waiting[1].done()  # first come, first served
        await pool.release(first)
        await pool.release(await asyncio.wait_for(waiting[1], 1))
        await pool.release(held.pop())
    finally:
        await redis.aclose()


async def test_a_waiter_cancelled_as_its_turn_came_passes_the_turn_on():
    redis = _client(max_connections=1)
    pool = redis.connection_pool
    try:
        held = await pool.get_connection()
        first = asyncio.create_task(pool.get_connection())
        second = asyncio.create_task(pool.get_connection())
        await asyncio.sleep(0.01)
        await pool.release(held)  # wakes the first ...
        first.cancel()  # ... which is cancelled before it runs
        await pool.release(await asyncio.wait_for(second, 1))
    finally:
        await redis.aclose()


async def test_scripts_run_on_the_light_path_and_a_forgotten_script_is_loaded():
    redis = _client()
    script = redis.register_script(ECHO + " .. '" + secrets.token_hex(4) + "'")  # new to the server
    try:
        assert (await evalsha(redis, script, [], ["a"])).startswith(b"a")
        assert (await evalsha(redis, script, [], ["b"])).startswith(b"b")
        with pytest.raises(ResponseError):
            await evalsha(redis, redis.register_script("return redis.call('NOPE')"), [], [])
        assert (await evalsha(redis, script, [], ["c"])).startswith(b"c")  # an error reply is read whole
    finally:
        await redis.aclose()


async def test_a_connection_the_server_closed_is_replaced():
    redis = _client(max_connections=1)
    script = redis.register_script(ECHO)
    try:
        assert await evalsha(redis, script, [], ["x"]) == b"x"
        (connection,) = redis.connection_pool._available_connections
        name = f"lapor_test_{secrets.token_hex(4)}"
        await connection.send_command("CLIENT", "SETNAME", name)
        assert await connection.read_response() == b"OK"
        async with Redis.from_url(REDIS_URL) as other:  # what a restart of Redis does to it
            assert await other.execute_command("CLIENT", "KILL", "SKIPME", "yes", "ID",
                                               await _client_id(other, name)) == 1
        await asyncio.sleep(0.05)
        assert await evalsha(redis, script, [], ["y"]) == b"y"
    finally:
        await redis.aclose()


async def _client_id(redis: Redis, name: str) -> int:
    for client in await redis.client_list():
        if client.get("name") == name:
            return int(client["id"])
    raise AssertionError(f"no client named {name}")


async def test_a_command_cancelled_before_its_reply_leaves_no_reply_for_the_next():
    redis = _client(max_connections=1)
    script = redis.register_script(ECHO)
    try:
        assert await evalsha(redis, script, [], ["warm"]) == b"warm"
        cut = asyncio.create_task(evalsha(redis, script, [], ["first"]))
        await asyncio.sleep(0)  # sent; waiting for its reply
        cut.cancel()
        with pytest.raises(asyncio.CancelledError):
            await cut
        await asyncio.sleep(0.05)  # the reply has arrived by now, on that connection if it were kept
        assert await evalsha(redis, script, [], ["second"]) == b"second"
    finally:
        await redis.aclose()
