"""Flood limits as Telegram applies them, and faults injected on purpose by delivery tests."""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sandbox.botapi.models import ApiError, Limits

# "502": a proxy's HTML error page instead of JSON; "slow": answered normally after ``hang``
# seconds; "timeout"/"network": held until the client gives up, or the connection dropped.
FAULT_KINDS = ("5xx", "502", "429", "403", "timeout", "network", "slow")

GATEWAY_PAGE = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1>"
    "</center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)


class _Bucket:
    def __init__(self, rate: float, burst: int, now: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = float(burst)
        self.updated = now

    def wait(self, now: float) -> float:
        """Seconds until one token is available (0 when one is there now)."""
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def take(self) -> None:
        self.tokens -= 1


class RateLimiter:
    """Token buckets per chat, per group (per minute) and overall, as in the Bots FAQ.

    https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this
    """

    def __init__(self, limits: Limits, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self._clock = clock
        self._global: _Bucket | None = None
        self._chats: dict[int, _Bucket] = {}
        self._groups: dict[int, _Bucket] = {}

    def check(self, chat_id: int, *, group: bool = False) -> None:
        """Count one message to ``chat_id`` or raise the 429 Telegram would answer."""
        if not self.limits.rate_limits:
            return
        lim = self.limits
        now = self._clock()
        if self._global is None:
            self._global = _Bucket(lim.global_rate, lim.global_burst, now)
        buckets = [
            self._global,
            self._chats.setdefault(chat_id, _Bucket(lim.per_chat_rate, lim.per_chat_burst, now)),
        ]
        if group:
            buckets.append(
                self._groups.setdefault(chat_id, _Bucket(lim.group_per_minute / 60, lim.group_per_minute, now))
            )
        wait = max(b.wait(now) for b in buckets)
        if wait > 0:
            retry_after = max(1, math.ceil(wait))
            raise ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after)
        for b in buckets:
            b.take()


@dataclass
class Fault:
    kind: str
    method: str | None = None  # None matches every method
    chat_id: int | None = None  # None matches every chat
    times: int = 1
    retry_after: int = 5
    deliver: bool = False  # "timeout"/"network": perform the request first, then fail
    hang: float = 3600.0  # "timeout": how long to hold the request before giving up on it

    def matches(self, method: str, chat_id: int | None) -> bool:
        return (self.method is None or self.method.lower() == method.lower()) and (
            self.chat_id is None or self.chat_id == chat_id
        )

    def error(self) -> ApiError:
        if self.kind == "429":
            return ApiError(429, f"Too Many Requests: retry after {self.retry_after}", retry_after=self.retry_after)
        if self.kind == "403":
            return ApiError(403, "Forbidden: bot was blocked by the user")
        return ApiError(500, "Internal Server Error")


@dataclass
class RandomFaults:
    """Each matching request fails with probability ``rate``, with a kind drawn from ``kinds``."""

    rate: float
    kinds: tuple[str, ...]
    methods: frozenset[str] | None = None  # lower-case method names; None: every method but getUpdates
    retry_after: int = 1
    hang: float = 2.0
    deliver: bool = False
    rng: random.Random = field(default_factory=random.Random)

    def draw(self, method: str) -> Fault | None:
        name = method.lower()
        if name == "getupdates" and (self.methods is None or name not in self.methods):
            return None  # long polls are the transport, not a request to fail by default
        if self.methods is not None and name not in self.methods:
            return None
        if self.rng.random() >= self.rate:
            return None
        kind = self.rng.choice(self.kinds)
        return Fault(kind, method, None, 1, self.retry_after, self.deliver, self.hang)


class Faults:
    """Faults queued by a test, each firing ``times`` times on the requests it matches, in order;
    then, when set, random faults at a rate."""

    def __init__(self) -> None:
        self._queue: list[Fault] = []
        self.random: RandomFaults | None = None

    def at_random(self, rate: float, kinds: tuple[str, ...] = ("5xx", "502", "network"), *,
                  methods: list[str] | None = None, seed: int | None = None, **options: object) -> RandomFaults:
        unknown = set(kinds) - set(FAULT_KINDS)
        if unknown or not kinds:
            raise ValueError(f"unknown fault kinds {sorted(unknown)}; use some of {FAULT_KINDS}")
        self.random = RandomFaults(
            rate, tuple(kinds), frozenset(m.lower() for m in methods) if methods else None,
            rng=random.Random(seed), **options,  # type: ignore[arg-type]
        )
        return self.random

    def add(
        self,
        method: str | None = None,
        chat_id: int | None = None,
        kind: str = "5xx",
        times: int = 1,
        retry_after: int = 5,
        *,
        deliver: bool = False,
        hang: float = 3600.0,
    ) -> Fault:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; use one of {FAULT_KINDS}")
        fault = Fault(kind, method, chat_id, times, retry_after, deliver, hang)
        self._queue.append(fault)
        return fault

    def take(self, method: str, chat_id: int | None) -> Fault | None:
        for fault in self._queue:
            if fault.matches(method, chat_id):
                fault.times -= 1
                if fault.times <= 0:
                    self._queue.remove(fault)
                return fault
        return self.random.draw(method) if self.random is not None else None

    @property
    def pending(self) -> list[Fault]:
        return list(self._queue)

    def clear(self) -> None:
        self._queue.clear()
        self.random = None
