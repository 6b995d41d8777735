"""The pacing arithmetic on its own, with a fake clock."""

from __future__ import annotations

import pytest

from bot.services.ratelimit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def now(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.t += seconds


def limiter(clock: Clock, rate: float = 10.0, per_key: float = 1.0) -> RateLimiter:
    return RateLimiter(rate, per_key, clock=clock.now, sleep=clock.sleep)


async def test_global_slots_are_spaced_by_the_rate():
    clock = Clock()
    rl = limiter(clock, rate=10.0)
    slots = [await rl.acquire(key) for key in range(5)]
    assert slots == pytest.approx([100.0, 100.1, 100.2, 100.3, 100.4])
    assert clock.t == pytest.approx(100.4)


async def test_same_key_waits_its_interval_other_keys_do_not():
    clock = Clock()
    rl = limiter(clock, rate=100.0, per_key=1.0)
    assert await rl.acquire("a") == pytest.approx(100.0)
    assert rl.key_ready_at("a") == pytest.approx(101.0)
    assert await rl.acquire("b") == pytest.approx(100.01)
    assert await rl.acquire("a") == pytest.approx(101.0)


async def test_pause_holds_every_key():
    clock = Clock()
    rl = limiter(clock)
    rl.pause(30)
    assert rl.paused()
    assert await rl.acquire("x") == pytest.approx(130.0)
    assert not rl.paused()


async def test_wait_pause_sleeps_out_the_pause_only():
    clock = Clock()
    rl = limiter(clock)
    await rl.wait_pause()
    assert clock.t == 100.0
    rl.pause(5)
    await rl.wait_pause()
    assert clock.t == pytest.approx(105.0)


def test_rate_must_be_positive():
    with pytest.raises(ValueError):
        limiter(Clock(), rate=0)
