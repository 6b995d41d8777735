"""Send pacing for the Bot API: a global rate, a minimum gap per chat, and a global pause.

Telegram allows about 30 messages per second overall and about one per second per chat
(https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this). Slots are
reserved in call order, so one caller at a time decides the order; the clock and sleep are
injected so tests run on a fake clock. ``RateLimiter`` spaces the delivery loop's sends;
``ChatPacer`` is what the loop and the handlers' direct replies share.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Hashable

_PRUNE_AT = 4096


def jittered_backoff(attempts: int, base: float, cap: float, rng: random.Random) -> float:
    """Seconds before the next try after ``attempts`` failures: exponential, capped, and
    jittered into [half, full] so things that failed together do not retry together."""
    full = min(cap, base * 2 ** (attempts - 1))
    return full / 2 + rng.uniform(0, full / 2)


class RateLimiter:
    def __init__(
        self,
        rate: float,
        per_key_interval: float,
        *,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[object]],
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self._gap = 1.0 / rate
        self._per_key = per_key_interval
        self._clock = clock
        self._sleep = sleep
        self._next_slot = float("-inf")
        self._key_next: dict[Hashable, float] = {}
        self._paused_until = float("-inf")

    @property
    def paused_until(self) -> float:
        return self._paused_until

    def paused(self) -> bool:
        return self._paused_until > self._clock()

    def pause(self, seconds: float) -> None:
        """Nothing goes out for ``seconds`` (Telegram's flood wait is global to the bot)."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    def key_ready_at(self, key: Hashable) -> float:
        return self._key_next.get(key, float("-inf"))

    async def wait_pause(self) -> None:
        delay = self._paused_until - self._clock()
        if delay > 0:
            await self._sleep(delay)

    async def acquire(self, key: Hashable) -> float:
        """Reserve the next slot for ``key`` and sleep until it; returns the slot time."""
        now = self._clock()
        slot = max(now, self._next_slot, self.key_ready_at(key), self._paused_until)
        self._next_slot = slot + self._gap
        self._key_next[key] = slot + self._per_key
        if len(self._key_next) > _PRUNE_AT:
            self._key_next = {k: t for k, t in self._key_next.items() if t > now}
        if slot > now:
            await self._sleep(slot - now)
        return slot


class ChatPacer:
    """Token buckets per chat and overall, shared by a handler's direct replies and the delivery
    loop, so that together they stay within Telegram's limits (a short burst per chat, then about
    one message a second; ``rate`` overall). Callers wait for a token in call order."""

    def __init__(
        self,
        rate: float,
        per_chat_interval: float,
        *,
        # Telegram tolerates a burst of about three; one is kept spare so that requests
        # arriving bunched up (network, a busy event loop) do not trip it.
        per_chat_burst: int = 2,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[object]],
    ) -> None:
        self._global = _Bucket(rate, max(1, int(rate)))
        self._per_chat_rate = 1.0 / per_chat_interval if per_chat_interval > 0 else None
        self._per_chat_burst = per_chat_burst
        self._chats: dict[Hashable, _Bucket] = {}
        self._clock = clock
        self._sleep = sleep

    async def acquire(self, chat_id: Hashable) -> float:
        """Take a token for one message to ``chat_id``, sleeping until there is one; returns
        how long it waited."""
        now = self._clock()
        buckets = [self._global]
        if self._per_chat_rate is not None:
            chat = self._chats.get(chat_id)
            if chat is None:
                chat = self._chats[chat_id] = _Bucket(self._per_chat_rate, self._per_chat_burst, now)
            buckets.append(chat)
            if len(self._chats) > _PRUNE_AT:
                self._chats = {k: b for k, b in self._chats.items() if not b.full(now)}
        # Reserve now (a token may go negative): later callers queue behind this one.
        ready = max(b.reserve(now) for b in buckets)
        if ready > now:
            await self._sleep(ready - now)
        return max(0.0, ready - now)


class _Bucket:
    def __init__(self, rate: float, burst: int, now: float | None = None) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = float(burst)
        self.updated = now

    def _refill(self, now: float) -> None:
        if self.updated is None:
            self.updated = now
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def reserve(self, now: float) -> float:
        """Take one token (maybe owed); the moment it is really there."""
        self._refill(now)
        self.tokens -= 1
        return now if self.tokens >= 0 else now + (-self.tokens) / self.rate

    def full(self, now: float) -> bool:
        self._refill(now)
        return self.tokens >= self.burst
