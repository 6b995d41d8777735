"""FSM state in Redis: what several processes behind one webhook need (``bot/fsm.py``).

Imported only when ``redis.url`` is set: the Redis client stays out of a process that has no
Redis (start-up time and memory, issue 15).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from contextvars import ContextVar
from datetime import timedelta
from typing import Any

from aiogram.exceptions import DataNotDictLikeError
from aiogram.fsm.state import State
from aiogram.fsm.storage.base import (
    BaseEventIsolation,
    BaseStorage,
    DefaultKeyBuilder,
    KeyBuilder,
    StateType,
    StorageKey,
)
from aiogram.fsm.storage.redis import RedisStorage
from redis.asyncio import Redis
from redis.asyncio.lock import Lock
from redis.commands.core import AsyncScript
from redis.exceptions import LockNotOwnedError
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from sqlalchemy.util import await_

from bot.isolation import LOCK_TTL, Holding, RenewedRedisIsolation
from bot.redis_wire import LightPool, evalsha
from storage.unit_of_work import PENDING, current_session, pending_writes, sent_elsewhere

# Where an update's session keeps what the Redis storage read or wrote: {(kind, key): value}.
_READS = "lapor_redis_fsm"
# Writes waiting for the session's next commit, in ``session.info[PENDING]``: {(kind, key): storage}.
_DIRTY = "redis_fsm"


class UpdateCachedRedisStorage(RedisStorage):
    """Inside an update, reads Redis once and writes it once per commit.

    The form's button filters and its handler ask for the state and the data several times per
    button press: the chat's lock read both as it was taken (``ReadingRedisIsolation``), and
    event isolation keeps every other update of the chat out meanwhile, so what was read stays
    true. A form step sets the data and then the state: both wait for the update's session to
    commit, where one script stores them just before the database commits (one round trip
    instead of two, and a kill between the two writes no longer tears the step). A rollback forgets them, as
    it forgets the database's writes. Outside an update (no session bound) every call goes to
    Redis (issue 15)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.write_script = self.redis.register_script(_WRITE)

    @staticmethod
    def _cache() -> dict[tuple[str, StorageKey], Any] | None:
        session = current_session()
        if session is None:
            return None
        cache = session.info.get(_READS)
        if cache is None:
            cache = session.info[_READS] = {}
            # Taken once: after a rollback forgot the cache, Redis may hold this update's own
            # earlier commit, newer than what the lock read.
            for key, (state, data) in _pop_lock_read().items():
                _keep(cache, key, state, data)
        return cache

    async def _read(self, cache: dict[tuple[str, StorageKey], Any], kind: str, key: StorageKey) -> Any:
        if (kind, key) not in cache:
            _keep(cache, key, *await self.redis.mget(self.key_builder.build(key, "state"),
                                                     self.key_builder.build(key, "data")))
        return cache[kind, key]

    def _defer(self, cache: dict[tuple[str, StorageKey], Any], kind: str, key: StorageKey, value: Any) -> None:
        cache[kind, key] = value
        session = current_session()
        assert session is not None
        pending_writes(session, _DIRTY)[kind, key] = self

    async def get_state(self, key: StorageKey) -> str | None:
        cache = self._cache()
        if cache is None:
            return await super().get_state(key)
        return await self._read(cache, "state", key)

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        cache = self._cache()
        if cache is None:
            return await super().set_state(key, state)
        self._defer(cache, "state", key, state.state if isinstance(state, State) else state)

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        cache = self._cache()
        if cache is None:
            return await super().get_data(key)
        return json.loads(await self._read(cache, "data", key))  # a fresh copy: callers may change it

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        cache = self._cache()
        if cache is None:
            return await super().set_data(key, data)
        if not isinstance(data, dict):
            raise DataNotDictLikeError(f"Data must be a dict or dict-like object, got {type(data).__name__}")
        self._defer(cache, "data", key, self.json_dumps(data))

    def write_args(self, kind: str, key: StorageKey, value: Any) -> tuple[str, list[Any]]:
        """The Redis key and ``_WRITE``'s arguments for what ``set_state``/``set_data`` would send."""
        redis_key = self.key_builder.build(key, kind)
        if value is None or value == "{}":
            return redis_key, ["D", "", 0]
        ttl = self.state_ttl if kind == "state" else self.data_ttl
        return redis_key, ["S", value, _seconds(ttl)]


def _seconds(ttl: Any) -> int:
    """A TTL as redis-py's ``set(ex=...)`` takes it, in whole seconds; 0 for none."""
    if ttl is None:
        return 0
    return int(ttl.total_seconds()) if isinstance(ttl, timedelta) else int(ttl)


# A step's writes at the commit, in one script: what a MULTI/EXEC of SET ... EX and DEL did, as
# atomic (a script runs alone on the server) and one command for the client to pack and one reply
# to read instead of four (issue 15: the pipeline was ~3 % of a step's CPU).
# The writes of KEYS[first..], three arguments each (``write_args``): the op, the value, the TTL.
_WRITES_FROM = """
for i = {first}, #KEYS do
    local j = 3 * (i - {first})
    local op, value, ttl = ARGV[j + 1], ARGV[j + 2], tonumber(ARGV[j + 3])
    if op == 'D' then
        redis.call('DEL', KEYS[i])
    elseif ttl > 0 then
        redis.call('SET', KEYS[i], value, 'EX', ttl)
    else
        redis.call('SET', KEYS[i], value)
    end
end
"""
_WRITE = _WRITES_FROM.format(first=1) + "return #KEYS\n"


def _keep(cache: dict[tuple[str, StorageKey], Any], key: StorageKey, state: Any, data: Any) -> None:
    # What this update wrote already stays (it is newer than Redis).
    cache.setdefault(("state", key), state.decode() if isinstance(state, bytes) else state)
    cache.setdefault(("data", key), (data.decode() if isinstance(data, bytes) else data) or "{}")


# The chat lock's script: takes the lock as aiogram's does (SET NX PX with a token, so it
# expires after a killed process and is released by redis-py's own check-and-delete script) and,
# if taken, returns the chat's FSM state and data, read atomically with it: nobody else writes
# them until the lock is released. A lock held by another update returns nil (wait and retry).
_ACQUIRE_AND_READ = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
    return redis.call('MGET', KEYS[2], KEYS[3])
end
return false
"""

# The update's last FSM writes (``_WRITE``'s, after the lock's key and token) and the chat lock's
# release (redis-py's check-and-delete), in one script: one round trip instead of two at the end
# of every form step (issue 15). Returns whether the lock was still this update's.
_WRITE_AND_RELEASE = _WRITES_FROM.format(first=2) + """
if redis.call('GET', KEYS[1]) == ARGV[#ARGV] then
    redis.call('DEL', KEYS[1])
    return 1
end
return 0
"""

# What the chat's lock read as it was taken, for the update inside it: {StorageKey: (state, data)}.
_LOCK_READ: ContextVar[dict[StorageKey, tuple[Any, Any]] | None] = ContextVar("lapor_lock_read", default=None)


def _pop_lock_read() -> dict[StorageKey, tuple[Any, Any]]:
    read = _LOCK_READ.get()
    if not read:
        return {}
    taken = dict(read)
    read.clear()
    return taken


class _ReadingLock(Lock):
    script: AsyncScript
    fsm_keys: tuple[str, str]
    read: tuple[Any, Any] | None = None

    async def do_acquire(self, token: str | bytes) -> bool:
        assert self.timeout  # the isolation's short expiry
        read = await evalsha(self.redis, self.script, [self.name, *self.fsm_keys], [token, int(self.timeout * 1000)])
        if read is None:
            return False
        self.read = (read[0], read[1])
        return True

    async def do_release(self, expected_token: bytes) -> None:
        # redis-py's own release, on the light path (bot/redis_wire.py).
        if not await evalsha(self.redis, self.lua_release, [self.name], [expected_token]):
            raise LockNotOwnedError("Cannot release a lock that's no longer owned")


class ReadingRedisIsolation(RenewedRedisIsolation):
    """The chat's lock taken and its FSM state and data read in one round trip instead of two
    (issue 15): every update of a chat reads them, the form's button filters first."""

    def __init__(self, redis: Redis, key_builder: KeyBuilder, *, ttl: float = LOCK_TTL) -> None:
        super().__init__(redis, key_builder, ttl=ttl)
        self.script = redis.register_script(_ACQUIRE_AND_READ)
        self.end_script = redis.register_script(_WRITE_AND_RELEASE)

    def new_lock(self, key: StorageKey, lock_class: type[Lock] = _ReadingLock) -> Lock:
        lock = super().new_lock(key, lock_class)
        assert isinstance(lock, _ReadingLock)
        lock.script = self.script
        lock.fsm_keys = (self.key_builder.build(key, "state"), self.key_builder.build(key, "data"))
        return lock

    @asynccontextmanager
    async def lock(self, key: StorageKey) -> AsyncIterator[Lock]:
        async with super().lock(key) as lock:
            assert isinstance(lock, _ReadingLock) and lock.read is not None
            reset = _LOCK_READ.set({key: lock.read})
            try:
                yield lock
            finally:
                _LOCK_READ.reset(reset)

    async def end_with_writes(self, lock: Lock, session: AsyncSession) -> None:
        """Release ``lock`` (held by ``lock()``) together with the FSM writes ``session`` still
        defers, in one script. For the update's end only, when nothing of it is left to commit in
        the database (``bot/unit_of_work.py`` says why the order is safe)."""
        dirty = session.info.get(PENDING, {}).pop(_DIRTY, None)
        keys, args = _write_args(dirty, session.info[_READS]) if dirty else ([], [])

        async def releasing(token: bytes) -> bool:
            return bool(await evalsha(self.redis, self.end_script, [lock.name, *keys], [*args, token]))

        holding: Holding = lock.holding  # type: ignore[attr-defined]
        await holding.release(releasing)


def _write_args(dirty: dict[tuple[str, StorageKey], UpdateCachedRedisStorage], cache: dict[Any, Any]
                ) -> tuple[list[str], list[Any]]:
    keys: list[str] = []
    args: list[Any] = []
    for (kind, key), owner in dirty.items():
        redis_key, write = owner.write_args(kind, key, cache[kind, key])
        keys.append(redis_key)
        args.extend(write)
    return keys, args


async def _write(dirty: dict[tuple[str, StorageKey], UpdateCachedRedisStorage], cache: dict[Any, Any]) -> None:
    storage = next(iter(dirty.values()))  # one Redis for all (``build_redis_fsm``)
    keys, args = _write_args(dirty, cache)
    await evalsha(storage.redis, storage.write_script, keys, args)


@event.listens_for(Session, "before_commit")
def _write_pending(session: Session) -> None:
    # Runs inside AsyncSession.commit's greenlet: the Redis writes are awaited from here, before
    # the database commits (as when they were written at once).
    dirty = session.info.get(PENDING, {}).pop(_DIRTY, None)
    if dirty:
        await_(_write(dirty, session.info[_READS]))


async def _send_pending(session: AsyncSession) -> None:
    # What ``_write_pending`` sends, without the database's commit (``unit_of_work.commit`` when
    # the database has nothing to commit).
    dirty = session.info.get(PENDING, {}).pop(_DIRTY, None)
    if dirty:
        await _write(dirty, session.info[_READS])


sent_elsewhere(_DIRTY, _send_pending)


@event.listens_for(Session, "after_rollback")
def _forget_on_rollback(session: Session) -> None:
    if session.info.get(PENDING, {}).pop(_DIRTY, None):
        session.info.pop(_READS, None)  # read Redis again: the writes kept here never happened


def build_redis_fsm(redis_url: str, keys: DefaultKeyBuilder, max_connections: int
                    ) -> tuple[BaseStorage, BaseEventIsolation]:
    # Past its size a command waits for a free connection: redis-py's default pool refused ("Too
    # many connections") and failed half the citizens of a burst. Lighter than redis-py's
    # BlockingConnectionPool, which did the same (bot/redis_wire.py).
    pool = LightPool.from_url(redis_url, max_connections=max_connections)
    storage = UpdateCachedRedisStorage(Redis(connection_pool=pool), key_builder=keys)
    return storage, ReadingRedisIsolation(storage.redis, keys)
