"""Direct replies and start-up calls survive Telegram's hiccups; a send is never repeated blindly.

A handler's answer goes straight to Telegram (not through the outbox), so a failure there would
leave the user without a reply. Three kinds of failure are told apart (``classify``):

- **flood wait** (429 with ``retry_after``): Telegram refused the request; waited out when short
  (https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this);
- **unsent**: Telegram (or the proxy in front of it) answered that the request failed (5xx, a 502
  HTML page), or the connection could not even be opened: nothing happened, so any request may
  be sent again;
- **ambiguous**: the connection dropped or timed out after the request left: it may have gone
  through. Only requests whose repetition is harmless are sent again (reads, edits, button
  answers, menus); a message sent twice would reach the citizen twice, so a send is not.

The delivery worker does not use this: it paces itself, pauses globally on a 429 and retries
through the outbox.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from enum import Enum
from typing import TypeVar

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramBadRequest,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType

log = logging.getLogger(__name__)

T = TypeVar("T")


class Failure(Enum):
    FLOOD = "flood"
    UNSENT = "unsent"
    AMBIGUOUS = "ambiguous"
    OTHER = "other"  # Telegram refused the request itself (400, 403, 401...): the same again would fail


# aiohttp errors raised before a byte of the request was written (aiogram wraps them in
# TelegramNetworkError with "<ExceptionName>: ..." as its message).
_NOT_CONNECTED = ("ClientConnectorError", "ClientConnectorDNSError", "ClientConnectorCertificateError",
                  "ClientProxyConnectionError")

# Methods whose repetition changes nothing the user sees: reads, edits (a repeated one answers
# "message is not modified", taken as done by bot/unchanged_edits.py), menus, button answers
# (a second answer is refused, never shown), deletions.
_REPEATABLE_PREFIXES = ("get", "edit", "set", "delete", "answer", "stop")
_NOT_REPEATABLE = {"answerWebAppQuery", "setMessageReaction"}


def classify(exc: BaseException) -> Failure:
    if isinstance(exc, TelegramRetryAfter):
        return Failure.FLOOD
    if isinstance(exc, TelegramServerError):  # 5xx answered by the Bot API (RestartingTelegram too)
        return Failure.UNSENT
    if isinstance(exc, ClientDecodeError) and not isinstance(exc.data, dict):
        # Not JSON at all: a proxy's HTML error page (502/504), never a Bot API answer.
        return Failure.UNSENT
    if isinstance(exc, TelegramNetworkError):
        if exc.message.startswith(_NOT_CONNECTED):
            return Failure.UNSENT
        return Failure.AMBIGUOUS
    return Failure.OTHER


def brief(exc: BaseException) -> str:
    """One short line for the log (a ClientDecodeError's text carries the whole HTML page)."""
    if isinstance(exc, ClientDecodeError):
        return f"{exc.message}: {str(exc.data)[:80]!r}"
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"


def repeatable(method: TelegramMethod) -> bool:
    name = method.__api_method__
    return name.startswith(_REPEATABLE_PREFIXES) and name not in _NOT_REPEATABLE


# How Telegram refuses a repeat of a request that had gone through: the button was answered, the
# message deleted. (An edit's repeat, "message is not modified", is bot/unchanged_edits.py's.)
_DONE_BEFORE = {
    "answerCallbackQuery": ("query is too old", "query ID is invalid"),
    "deleteMessage": ("message to delete not found",),
}


def _already_done(method: TelegramMethod, exc: BaseException) -> bool:
    return isinstance(exc, TelegramBadRequest) and any(
        phrase in exc.message for phrase in _DONE_BEFORE.get(method.__api_method__, ())
    )


def transient(exc: BaseException) -> bool:
    """Would the same request succeed later? (Anything Telegram itself refused would not.)"""
    return classify(exc) is not Failure.OTHER


class RetryMiddleware(BaseRequestMiddleware):
    """Retries a direct request on a short flood wait, on an unsent failure, and on an ambiguous
    one when repeating it is harmless; gives up after ``attempts`` tries."""

    def __init__(self, *, max_flood_wait: float = 5.0, attempts: int = 5, backoff: float = 0.5,
                 backoff_cap: float = 4.0) -> None:
        # A longer flood wait means a real flood: better to fail than to hold the update that long.
        self.max_flood_wait = max_flood_wait
        self.attempts = attempts
        self.backoff = backoff
        self.backoff_cap = backoff_cap

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        maybe_done = False
        for attempt in range(1, self.attempts + 1):
            try:
                return await make_request(bot, method)
            except Exception as exc:
                if maybe_done and _already_done(method, exc):
                    # The attempt that dropped had gone through: what we asked for is done.
                    log.info("%s had gone through before the connection dropped", method.__api_method__)
                    return True  # type: ignore[return-value]
                kind = classify(exc)
                maybe_done = maybe_done or kind is Failure.AMBIGUOUS
                wait = self._wait(kind, exc, method, attempt)
                if wait is None:
                    raise
                log.info("%s on %s (%s); retrying in %.1fs", kind.value, method.__api_method__, brief(exc), wait)
                await asyncio.sleep(wait)
        raise AssertionError("unreachable")

    def _wait(self, kind: Failure, exc: Exception, method: TelegramMethod, attempt: int) -> float | None:
        if attempt >= self.attempts:
            return None
        if kind is Failure.FLOOD:
            assert isinstance(exc, TelegramRetryAfter)
            return exc.retry_after if exc.retry_after <= self.max_flood_wait else None
        if kind is Failure.UNSENT or (kind is Failure.AMBIGUOUS and repeatable(method)):
            return min(self.backoff_cap, self.backoff * 2 ** (attempt - 1))
        return None


async def until_done(call: Callable[[], Awaitable[T]], what: str, *, cap: float = 30.0) -> T:
    """Start-up calls (getMe, setMyCommands, setWebhook): tried until they succeed, however long
    Telegram is unreachable; only an error Telegram would repeat (401 bad token) is raised."""
    delay = 1.0
    while True:
        try:
            return await call()
        except Exception as exc:
            if not transient(exc):
                raise
            wait = exc.retry_after if isinstance(exc, TelegramRetryAfter) else delay
            log.warning("%s failed (%s); trying again in %.0fs", what, brief(exc), wait)
            await asyncio.sleep(wait)
            delay = min(cap, delay * 2)


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
        except Exception as exc:
            if not transient(exc) or attempt == attempts - 1:
                raise
            wait = exc.retry_after if isinstance(exc, TelegramRetryAfter) else delay * 2**attempt
            log.info("transient failure (%s); retrying in %ss", brief(exc), wait)
            await asyncio.sleep(wait)
    raise AssertionError("unreachable")
