"""Direct replies and the delivery loop share one pace per chat and overall: a burst of two
to a chat, then one a second, and never more than the overall rate (on a fake clock)."""

from __future__ import annotations

import asyncio

from aiogram import Bot
from aiogram.client.session.base import BaseSession
from aiogram.methods import AnswerCallbackQuery, EditMessageText, SendMessage

from bot.pacing import PaceMiddleware
from bot.services.ratelimit import ChatPacer


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


def pacer(t: FakeTime, rate: float = 25, interval: float = 1.0) -> ChatPacer:
    return ChatPacer(rate, interval, clock=t.clock, sleep=t.sleep)


async def test_a_chat_gets_a_burst_then_one_a_second():
    t = FakeTime()
    p = pacer(t)
    sent_at = []
    for _ in range(6):
        await p.acquire(1)
        sent_at.append(t.now)
    assert sent_at == [0, 0, 1, 2, 3, 4]


async def test_other_chats_do_not_wait_for_a_busy_one():
    t = FakeTime()
    p = pacer(t)
    for _ in range(5):
        await p.acquire(1)
    before = t.now
    assert await p.acquire(2) == 0 and t.now == before


async def test_the_overall_rate_holds_across_chats():
    t = FakeTime()
    p = pacer(t, rate=10)
    for chat in range(30):
        await p.acquire(chat)
    # A burst of ten, then ten a second.
    assert 1.9 <= t.now <= 2.0


async def test_concurrent_callers_queue_in_call_order():
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        await asyncio.sleep(0)

    p = ChatPacer(25, 1.0, clock=lambda: 0.0, sleep=sleep)  # five callers at the same instant
    waits = await asyncio.gather(*(p.acquire(7) for _ in range(5)))
    assert waits == [0, 0, 1, 2, 3] and slept == [1, 2, 3]


class Recording(BaseSession):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []

    async def make_request(self, bot, method, timeout=None):
        self.calls.append(method.__api_method__)
        return True

    async def close(self) -> None: ...

    async def stream_content(self, *a, **kw):  # pragma: no cover
        yield b""


async def test_only_new_messages_are_paced():
    t = FakeTime()
    session = Recording()
    session.middleware(PaceMiddleware(pacer(t)))
    bot = Bot("123456:" + "A" * 35, session=session)
    for _ in range(5):
        await bot(EditMessageText(chat_id=1, message_id=1, text="x"))
        await bot(AnswerCallbackQuery(callback_query_id="q"))
    assert t.now == 0
    for _ in range(5):
        await bot(SendMessage(chat_id=1, text="x"))
    assert t.now == 3 and len(session.calls) == 15
