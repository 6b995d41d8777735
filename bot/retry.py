"""Direct replies wait out a short flood wait instead of failing; start-up calls ride out a
transient failure.

A handler's answer goes straight to Telegram (not through the outbox); when a chat briefly
exceeds about one message a second, Telegram answers 429 with ``retry_after``
(https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this). Failing
there would leave the user without a reply, so the request is retried after the wait. The
delivery worker does not use this: it paces itself and pauses globally on a 429.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter, TelegramServerError
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType

log = logging.getLogger(__name__)
T = TypeVar("T")
# What may well succeed a moment later: the network, Telegram's own 5xx, a flood wait.
TRANSIENT = (TelegramNetworkError, TelegramServerError, TelegramRetryAfter)


class RetryAfterMiddleware(BaseRequestMiddleware):
    def __init__(self, *, max_wait: float = 5.0, retries: int = 2) -> None:
        # A longer wait means a real flood: better to fail than to hold the update that long.
        self.max_wait = max_wait
        self.retries = retries

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        for attempt in range(self.retries + 1):
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as exc:
                if attempt == self.retries or exc.retry_after > self.max_wait:
                    raise
                log.info("flood wait %ss on %s; retrying", exc.retry_after, type(method).__name__)
                await asyncio.sleep(exc.retry_after)
        raise AssertionError("unreachable")


async def retry_transient(
    call: Callable[[], Awaitable[T]],
    *,
    attempts: int = 3,
    delay: float = 1.0,
) -> T:
    """``call()``, again after a transient failure (waiting ``delay``, then twice as long, or what
    a 429 asks); the last failure is raised. For work that must not be lost to one bad moment but
    has no user waiting on it, such as the command menus set at start-up."""
    for attempt in range(attempts):
        try:
            return await call()
        except TRANSIENT as exc:
            if attempt == attempts - 1:
                raise
            wait = exc.retry_after if isinstance(exc, TelegramRetryAfter) else delay * 2**attempt
            log.info("transient failure (%s); retrying in %ss", type(exc).__name__, wait)
            await asyncio.sleep(wait)
    raise AssertionError("unreachable")
