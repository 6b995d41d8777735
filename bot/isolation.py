"""Each chat's updates one after the other, and a lock a dead process held gone in seconds.

aiogram's ``RedisEventIsolation`` takes a Redis lock with a 60 s expiry: after a ``kill -9``
mid-update the restarted bot ignored that chat for about a minute (issue 11, item 3). Here the
lock expires after a few seconds (``ttl``), and a task renews it while the update runs, so a slow
update keeps its chat to itself however long it takes, while a dead process's lock lapses by
itself after at most ``ttl``.

Waiting for a lock holds no database connection (``bot/unit_of_work.py`` begins the session's
work only inside the lock), so a chat's backlog cannot starve the pool.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from aiogram.fsm.storage.base import BaseEventIsolation, KeyBuilder, StorageKey
from redis.asyncio import Redis
from redis.asyncio.lock import Lock
from redis.exceptions import LockError, RedisError

log = logging.getLogger(__name__)

# Seconds a chat's lock outlives a dead process. Renewed every third of it while the update runs.
LOCK_TTL = 5.0
# How often a waiting update asks Redis again (a chat's updates rarely queue for long).
POLL = 0.02


class RenewedRedisIsolation(BaseEventIsolation):
    def __init__(self, redis: Redis, key_builder: KeyBuilder, *, ttl: float = LOCK_TTL) -> None:
        self.redis = redis
        self.key_builder = key_builder
        self.ttl = ttl

    def new_lock(self, key: StorageKey, lock_class: type[Lock] = Lock) -> Lock:
        return lock_class(self.redis, self.key_builder.build(key, "lock"), timeout=self.ttl, sleep=POLL)

    @asynccontextmanager
    async def lock(self, key: StorageKey) -> AsyncIterator[Lock]:
        """Yields the Redis lock held (for a subclass's ``new_lock``, e.g. what it read with it)."""
        lock = self.new_lock(key)
        await lock.acquire()
        holding = Holding(self, lock)
        try:
            yield lock
        finally:
            await holding.release()

    async def _renew(self, lock, done: asyncio.Event) -> None:
        """Renew now (a third of the expiry has passed), then every third of it until ``done``."""
        while not done.is_set():
            try:
                await lock.reacquire()
            except (LockError, RedisError):
                log.warning("could not renew a chat lock; its update runs on unguarded", exc_info=True)
                return
            try:
                await asyncio.wait_for(done.wait(), self.ttl / 3)
                return
            except TimeoutError:
                pass

    async def close(self) -> None:
        # The connection pool belongs to the storage, which closes it.
        pass


class Holding:
    """A chat's lock while its update runs: renewed if the update is slow, released once, at
    the end of ``lock``'s block or earlier by ``release`` with a script of the caller's
    (``bot/fsm_redis.py`` releases it with the update's last FSM writes)."""

    def __init__(self, isolation: RenewedRedisIsolation, lock: Lock) -> None:
        self.lock = lock
        self.released = False
        self._done = asyncio.Event()
        self._renewal: asyncio.Task[None] | None = None
        # Most updates end well within a third of the expiry: a timer, not a task waiting on a
        # timeout (two tasks and a timer per update, issue 15), starts the renewal only for the
        # slow ones.
        self._timer = asyncio.get_running_loop().call_later(isolation.ttl / 3, self._start_renewing, isolation)
        lock.holding = self  # type: ignore[attr-defined]

    def _start_renewing(self, isolation: RenewedRedisIsolation) -> None:
        self._renewal = asyncio.create_task(isolation._renew(self.lock, self._done))

    async def release(self, releasing: Callable[[bytes], Awaitable[bool]] | None = None) -> None:
        """Release the lock (``releasing(token)``: a script that deletes it if it still holds the
        token, True if it did). Once; the renewal stops first."""
        if self.released:
            return
        self.released = True
        self._timer.cancel()
        # Told to stop, not cancelled: a Redis command cut off half-way could leave its
        # connection out of the pool.
        self._done.set()
        if self._renewal is not None:
            await self._renewal
        try:
            if releasing is None:
                await self.lock.release()
                return
            token = self.lock.local.token
            self.lock.local.token = None
            if token is not None and await releasing(token):
                return
        except LockError:  # expired while Redis was unreachable; nothing left to free
            pass
        log.warning("a chat lock had expired before its update ended")
