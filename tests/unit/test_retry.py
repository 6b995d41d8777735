"""A handler's direct reply survives a short flood wait and Telegram's transient failures; a send
that may have gone through is not repeated; start-up calls are tried until Telegram answers."""

from __future__ import annotations

import json

import pytest
from aiogram import Bot
from aiogram.client.session.base import BaseSession
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramBadRequest,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.methods import AnswerCallbackQuery, EditMessageText, GetMe, SendMessage

from bot import retry
from bot.retry import Failure, RetryMiddleware, classify, until_done

GATEWAY_PAGE = "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>"


def decode_error() -> ClientDecodeError:
    try:
        json.loads(GATEWAY_PAGE)
    except ValueError as exc:
        return ClientDecodeError("Failed to decode object", exc, GATEWAY_PAGE)
    raise AssertionError


def network(message: str) -> TelegramNetworkError:
    return TelegramNetworkError(method=SendMessage(chat_id=1, text="x"), message=message)


class FaultySession(BaseSession):
    """Raises the queued errors in order, then succeeds."""

    def __init__(self, errors: list[Exception]) -> None:
        super().__init__()
        self.errors = list(errors)
        self.calls = 0

    async def make_request(self, bot, method, timeout=None):
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return True

    async def close(self) -> None: ...

    async def stream_content(self, *a, **kw):  # pragma: no cover
        yield b""


def flood(seconds: int) -> TelegramRetryAfter:
    return TelegramRetryAfter(method=SendMessage(chat_id=1, text="x"), message="Too Many Requests",
                              retry_after=seconds)


def server_error() -> TelegramServerError:
    return TelegramServerError(method=SendMessage(chat_id=1, text="x"), message="Internal Server Error")


@pytest.fixture
def slept(monkeypatch) -> list[float]:
    waits: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(retry.asyncio, "sleep", fake_sleep)
    return waits


def _bot(session: FaultySession, **options) -> Bot:
    bot = Bot("123456:" + "A" * 35, session=session)
    session.middleware(RetryMiddleware(**{"max_flood_wait": 5, "attempts": 3, **options}))
    return bot


def test_failures_are_told_apart():
    assert classify(flood(3)) is Failure.FLOOD
    assert classify(server_error()) is Failure.UNSENT
    assert classify(decode_error()) is Failure.UNSENT  # a proxy's HTML page
    assert classify(network("ClientConnectorError: Cannot connect to host")) is Failure.UNSENT
    assert classify(network("ServerDisconnectedError: Server disconnected")) is Failure.AMBIGUOUS
    assert classify(network("Request timeout error")) is Failure.AMBIGUOUS
    assert classify(TelegramBadRequest(method=GetMe(), message="Bad Request: chat not found")) is Failure.OTHER


async def test_short_flood_wait_is_waited_out_and_the_reply_sent(slept):
    session = FaultySession([flood(1), flood(2)])
    assert await _bot(session)(SendMessage(chat_id=1, text="hai")) is True
    assert session.calls == 3 and slept == [1, 2]


async def test_long_flood_wait_is_raised_at_once(slept):
    session = FaultySession([flood(30)])
    with pytest.raises(TelegramRetryAfter):
        await _bot(session)(SendMessage(chat_id=1, text="hai"))
    assert session.calls == 1 and slept == []


async def test_gives_up_after_the_attempts(slept):
    session = FaultySession([flood(1)] * 3)
    with pytest.raises(TelegramRetryAfter):
        await _bot(session)(SendMessage(chat_id=1, text="hai"))
    assert session.calls == 3


@pytest.mark.parametrize("error", [server_error, decode_error, lambda: network("ClientConnectorError: refused")],
                         ids=["5xx", "502-html-page", "not-connected"])
async def test_a_send_telegram_never_took_is_sent_again(slept, error):
    session = FaultySession([error()])
    assert await _bot(session)(SendMessage(chat_id=1, text="hai")) is True
    assert session.calls == 2 and slept == [0.5]


async def test_a_send_that_may_have_gone_through_is_not_repeated(slept):
    session = FaultySession([network("ServerDisconnectedError: Server disconnected")])
    with pytest.raises(TelegramNetworkError):
        await _bot(session)(SendMessage(chat_id=1, text="hai"))
    assert session.calls == 1


@pytest.mark.parametrize("method", [EditMessageText(chat_id=1, message_id=2, text="x"),
                                    AnswerCallbackQuery(callback_query_id="q"), GetMe()],
                         ids=["edit", "answer", "read"])
async def test_a_harmless_repeat_is_made_after_a_dropped_connection(slept, method):
    session = FaultySession([network("Request timeout error")])
    assert await _bot(session)(method) is True
    assert session.calls == 2


async def test_backoff_grows_and_is_capped(slept):
    session = FaultySession([server_error()] * 5)
    assert await _bot(session, attempts=6, backoff=1, backoff_cap=3)(GetMe()) is True
    assert slept == [1, 2, 3, 3, 3]


async def test_start_up_keeps_trying_through_transient_failures(slept):
    errors = [server_error(), decode_error(), network("Request timeout error"), flood(7)] * 3

    async def call():
        if errors:
            raise errors.pop(0)
        return "me"

    assert await until_done(call, "getMe") == "me"
    assert len(slept) == 12 and 7 in slept and max(slept) <= 30


async def test_start_up_stops_on_a_rejected_token(slept):
    async def call():
        raise TelegramUnauthorizedError(method=GetMe(), message="Unauthorized")

    with pytest.raises(TelegramUnauthorizedError):
        await until_done(call, "getMe")
    assert slept == []


def _flaky_bot(errors: list[Exception]) -> tuple[Bot, FaultySession]:
    session = FaultySession(errors)
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


async def test_a_button_answer_that_had_gone_through_before_the_drop_is_done(slept):
    method = AnswerCallbackQuery(callback_query_id="q")
    too_old = TelegramBadRequest(method=method, message="Bad Request: query is too old and response timeout "
                                 "expired or query ID is invalid")
    session = FaultySession([network("ServerDisconnectedError: Server disconnected"), too_old])
    assert await _bot(session)(method) is True
    assert session.calls == 2


async def test_a_button_answer_refused_at_the_first_try_stays_refused(slept):
    method = AnswerCallbackQuery(callback_query_id="q")
    session = FaultySession([TelegramBadRequest(method=method, message="Bad Request: query is too old")])
    with pytest.raises(TelegramBadRequest):
        await _bot(session)(method)
