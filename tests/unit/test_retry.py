"""A handler's direct reply survives a short flood wait; a long one is not waited out."""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.client.session.base import BaseSession
from aiogram.exceptions import TelegramBadRequest, TelegramNetworkError, TelegramRetryAfter, TelegramServerError
from aiogram.methods import SendMessage

from bot import retry
from bot.retry import RetryAfterMiddleware


class FloodSession(BaseSession):
    def __init__(self, retry_afters: list[int]) -> None:
        super().__init__()
        self.retry_afters = list(retry_afters)
        self.calls = 0

    async def make_request(self, bot, method, timeout=None):
        self.calls += 1
        if self.retry_afters:
            raise TelegramRetryAfter(method=method, message="Too Many Requests", retry_after=self.retry_afters.pop(0))
        return True

    async def close(self) -> None: ...

    async def stream_content(self, *a, **kw):  # pragma: no cover
        yield b""


@pytest.fixture
def slept(monkeypatch) -> list[float]:
    waits: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(retry.asyncio, "sleep", fake_sleep)
    return waits


def _bot(session: FloodSession) -> Bot:
    bot = Bot("123456:" + "A" * 35, session=session)
    session.middleware(RetryAfterMiddleware(max_wait=5, retries=2))
    return bot


async def test_short_flood_wait_is_waited_out_and_the_reply_sent(slept):
    session = FloodSession([1, 2])
    assert await _bot(session)(SendMessage(chat_id=1, text="hai")) is True
    assert session.calls == 3 and slept == [1, 2]


async def test_long_flood_wait_is_raised_at_once(slept):
    session = FloodSession([30])
    with pytest.raises(TelegramRetryAfter):
        await _bot(session)(SendMessage(chat_id=1, text="hai"))
    assert session.calls == 1 and slept == []


async def test_gives_up_after_the_retries(slept):
    session = FloodSession([1, 1, 1])
    with pytest.raises(TelegramRetryAfter):
        await _bot(session)(SendMessage(chat_id=1, text="hai"))
    assert session.calls == 3


class FlakySession(FloodSession):
    """Fails with the given errors first, then answers."""

    def __init__(self, errors: list[Exception]) -> None:
        super().__init__([])
        self.errors = list(errors)

    async def make_request(self, bot, method, timeout=None):
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return True


def _flaky_bot(errors: list[Exception]) -> tuple[Bot, FlakySession]:
    session = FlakySession(errors)
    return Bot("123456:" + "A" * 35, session=session), session


async def test_transient_failures_are_retried_with_a_growing_wait(slept):
    method = SendMessage(chat_id=1, text="hai")
    bot, session = _flaky_bot([TelegramNetworkError(method, "timeout"), TelegramServerError(method, "Bad Gateway")])
    assert await retry.retry_transient(lambda: bot(method), delay=1.0) is True
    assert session.calls == 3 and slept == [1.0, 2.0]


async def test_a_transient_failure_that_lasts_is_raised(slept):
    method = SendMessage(chat_id=1, text="hai")
    bot, session = _flaky_bot([TelegramNetworkError(method, "timeout")] * 3)
    with pytest.raises(TelegramNetworkError):
        await retry.retry_transient(lambda: bot(method), attempts=3)
    assert session.calls == 3


async def test_a_refusal_is_not_retried(slept):
    method = SendMessage(chat_id=1, text="hai")
    bot, session = _flaky_bot([TelegramBadRequest(method, "chat not found")])
    with pytest.raises(TelegramBadRequest):
        await retry.retry_transient(lambda: bot(method))
    assert session.calls == 1 and slept == []
