"""A lighter Redis connection pool, and the scripts every update runs sent on it directly (issue 15).

redis-py 8 spends 145-175 µs of CPU per command here (bench/README.md, eighth pass), more than the
round trip: ``BlockingConnectionPool.get_connection`` takes an ``asyncio.Condition`` and a timeout
and asks the socket whether it has data; ``release`` takes the condition again; every command
passes a retry wrapper, its observability hooks, the pool's event dispatch. A form step makes four
round trips, all of them our Lua scripts (the chat's lock with its read, the step's writes, the
release).

- ``LightPool``: redis-py's pool and connections (the URL's options, auth, TLS, the database),
  handing a free connection out at once and taking it back at once; past ``max_connections`` a
  caller waits its turn, first come first served, as it did (never fails). A connection the server
  closed while it sat in the pool (a restart) is seen by its stream's end and connected again,
  what redis-py's check did.
- ``evalsha``: a script's EVALSHA written and its reply read on a connection of that pool, with no
  more than that: a RESP encoder and reader for what our scripts take and return. A connection
  whose command failed or was cancelled half-way is disconnected (what redis-py does), so no
  reply is ever left unread on a connection given back. Any other client goes through redis-py.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Sequence
from typing import Any

from redis.asyncio import ConnectionPool, Redis
from redis.asyncio.connection import AbstractConnection
from redis.commands.core import AsyncScript
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, ResponseError


class LightPool(ConnectionPool):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._waiting: deque[asyncio.Future[None]] = deque()

    async def get_connection(self, *_args: Any, **_kwargs: Any) -> AbstractConnection:
        while not self._available_connections and len(self._in_use_connections) >= self.max_connections:
            turn = asyncio.get_running_loop().create_future()
            self._waiting.append(turn)
            try:
                await turn
            except asyncio.CancelledError:
                if turn.done() and not turn.cancelled():
                    self._next()  # woken and cancelled at once: the turn passes on
                raise
        connection = self.get_available_connection()
        try:
            if not connection.is_connected or _closed(connection):
                await connection.disconnect()
                await connection.connect()
        except BaseException:
            await self.release(connection)
            raise
        return connection

    async def release(self, connection: AbstractConnection) -> None:
        self._in_use_connections.discard(connection)
        if connection.should_reconnect():
            await connection.disconnect()
        self._available_connections.append(connection)
        self._next()

    def _next(self) -> None:
        while self._waiting:
            turn = self._waiting.popleft()
            if not turn.done():
                turn.set_result(None)
                return


def _closed(connection: Any) -> bool:
    reader = connection._reader
    return reader is None or reader.at_eof() or reader.exception() is not None


async def evalsha(redis: Redis, script: AsyncScript, keys: Sequence[Any], args: Sequence[Any]) -> Any:
    """``script(keys=keys, args=args)``, directly on a ``LightPool`` connection (through redis-py
    for any other pool)."""
    pool = redis.connection_pool
    if type(pool) is not LightPool:
        return await script(keys=keys, args=args, client=redis)
    connection = await pool.get_connection()
    try:
        reply = await command(connection, b"EVALSHA", script.sha, len(keys), *keys, *args)
        if isinstance(reply, NoScriptError):  # a fresh or flushed server: EVAL loads it
            reply = await command(connection, b"EVAL", script.script, len(keys), *keys, *args)
    except BaseException:
        await connection.disconnect(nowait=True)
        raise
    finally:
        await pool.release(connection)
    if isinstance(reply, ResponseError):
        raise reply
    return reply


async def command(connection: Any, *parts: Any) -> Any:
    """One command and its reply (an error reply is returned, not raised)."""
    timeout = connection.socket_timeout
    if timeout:
        async with asyncio.timeout(timeout):
            return await _round_trip(connection, parts)
    return await _round_trip(connection, parts)


async def _round_trip(connection: Any, parts: Sequence[Any]) -> Any:
    writer, reader = connection._writer, connection._reader
    if writer is None or reader is None:
        raise RedisConnectionError("not connected")
    writer.write(_pack(parts))
    try:
        await writer.drain()
        return await _read(reader)
    except (OSError, asyncio.IncompleteReadError) as exc:
        raise RedisConnectionError(f"Redis connection lost: {exc!r}") from exc


def _pack(parts: Sequence[Any]) -> bytes:
    out = [b"*%d\r\n" % len(parts)]
    for part in parts:
        data = part if isinstance(part, bytes) else str(part).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


async def _read(reader: asyncio.StreamReader) -> Any:
    line = await reader.readuntil(b"\r\n")
    kind, rest = line[:1], line[1:-2]
    if kind == b"$":
        size = int(rest)
        return None if size < 0 else (await reader.readexactly(size + 2))[:-2]
    if kind == b":":
        return int(rest)
    if kind == b"*":
        size = int(rest)
        return None if size < 0 else [await _read(reader) for _ in range(size)]
    if kind == b"+":
        return rest
    if kind == b"-":
        message = rest.decode(errors="replace")
        return NoScriptError(message) if message.startswith("NOSCRIPT") else ResponseError(message)
    if kind == b"_":  # RESP3's null
        return None
    raise RedisConnectionError(f"unexpected Redis reply {line[:40]!r}")
