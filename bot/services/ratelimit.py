"""Send pacing for the Bot API: a global rate, a minimum gap per chat, and a global pause.

Telegram allows about 30 messages per second overall and about one per second per chat
(https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this). Slots are
reserved in call order, so one caller at a time decides the order; the clock and sleep are
injected so tests run on a fake clock.
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
