"""The delivery worker against a scripted aiogram session and a fake clock (no real waiting)."""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.session.base import BaseSession
from aiogram.exceptions import TelegramNetworkError
from aiogram.methods import SendMessage, TelegramMethod
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.services.delivery import DeliveryWorker
from bot.services.outbox import enqueue_message
from storage.models import Citizen
from storage.repositories.outbox import OutboxRepo


class FakeClock:
    def __init__(self) -> None:
        # Ahead of the wall clock: rows enqueued "now" are due on this clock.
        self.t = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)
        self.sleeps: list[float] = []

    def now(self) -> datetime:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += timedelta(seconds=seconds)

    async def sleep(self, seconds: float) -> None:
        # Let tasks that are ready now (a send just dispatched) reach their next await at the
        # current time before time jumps, as they would during a real sleep.
        for _ in range(20):
            await asyncio.sleep(0)
        self.sleeps.append(seconds)
        self.advance(seconds)
        await asyncio.sleep(0)


def reply(status: int, description: str, **parameters: Any) -> tuple[int, dict[str, Any]]:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return status, body


BAD_GATEWAY = reply(502, "Bad Gateway")
BLOCKED = reply(403, "Forbidden: bot was blocked by the user")
BAD_HTML = reply(400, "Bad Request: can't parse entities: Unsupported start tag \"b\"")


def flood(seconds: int) -> tuple[int, dict[str, Any]]:
    return reply(429, f"Too Many Requests: retry after {seconds}", retry_after=seconds)


def network_timeout(method: TelegramMethod) -> Exception:
    return TelegramNetworkError(method=method, message="Request timeout error")


class ScriptedSession(BaseSession):
    """Answers each request with the next scripted reply, or success when the script is empty.

    Replies go through aiogram's own ``check_response``, so the worker sees the exceptions a
    real Bot API answer would raise.
    """

    def __init__(self, clock: FakeClock) -> None:
        super().__init__()
        self.clock = clock
        self.script: deque[tuple[int, dict[str, Any]] | Callable[[TelegramMethod], Exception]] = (
            deque()
        )
        self.calls: list[tuple[datetime, TelegramMethod]] = []
        self.next_message_id = 1000

    async def make_request(self, bot, method, timeout=None):
        self.calls.append((self.clock.now(), method))
        if self.script:
            item = self.script.popleft()
            if callable(item):
                raise item(method)
            status, body = item
        else:
            self.next_message_id += 1
            message = {
                "message_id": self.next_message_id,
                "date": 0,
                "chat": {"id": method.chat_id, "type": "private"},
            }
            status, body = 200, {"ok": True, "result": message}
        return self.check_response(bot, method, status, json.dumps(body)).result

    async def stream_content(self, *args, **kwargs):  # pragma: no cover
        yield b""

    async def close(self) -> None:
        pass


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def api(clock) -> ScriptedSession:
    return ScriptedSession(clock)


@pytest.fixture
async def bot(api):
    b = Bot("42:TEST", session=api)
    yield b
    await b.session.close()


def make_worker(bot, session_factory, clock, **kw) -> DeliveryWorker:
    return DeliveryWorker(bot, session_factory, clock=clock.now, sleep=clock.sleep, **kw)


async def put(session_factory, chat_id: int, text: str = "hello", **kw) -> int:
    async with session_factory() as s:
        row = await enqueue_message(s, chat_id, text, **kw)
        await s.commit()
        return row.id


async def load(session_factory, row_id: int):
    async with session_factory() as s:
        return await OutboxRepo(s).get(row_id)


async def test_success_marks_sent_with_message_id(bot, api, clock, session_factory):
    button = InlineKeyboardButton(text="Lihat", callback_data="r:1")
    kb = InlineKeyboardMarkup(inline_keyboard=[[button]])
    row_id = await put(session_factory, 111, "<b>Laporan</b> diterima", reply_markup=kb)
    worker = make_worker(bot, session_factory, clock)

    assert await worker.run_once() == 1

    row = await load(session_factory, row_id)
    assert (row.status, row.attempts, row.telegram_message_id) == ("sent", 1, 1001)
    assert row.sent_at == clock.now() and row.claimed_until is None
    [(_, call)] = api.calls
    assert isinstance(call, SendMessage)
    assert (call.chat_id, call.text, call.parse_mode) == (111, "<b>Laporan</b> diterima", "HTML")
    assert call.reply_markup.inline_keyboard[0][0].callback_data == "r:1"
    assert await worker.run_once() == 0
    assert len(api.calls) == 1


async def test_server_errors_then_success_sends_once(bot, api, clock, session_factory):
    row_id = await put(session_factory, 111)
    api.script.extend([BAD_GATEWAY, BAD_GATEWAY])
    worker = make_worker(bot, session_factory, clock)

    await worker.run_once()
    row = await load(session_factory, row_id)
    assert (row.status, row.attempts) == ("pending", 1)
    assert "Bad Gateway" in row.last_error
    # First backoff: base 10 s, jittered into [5, 10].
    wait = row.next_attempt_at - clock.now()
    assert timedelta(seconds=5) <= wait <= timedelta(seconds=10)
    assert await worker.run_once() == 0  # not due yet

    clock.advance(10)
    await worker.run_once()
    row = await load(session_factory, row_id)
    assert (row.status, row.attempts) == ("pending", 2)
    wait = row.next_attempt_at - clock.now()
    assert timedelta(seconds=10) <= wait <= timedelta(seconds=20)

    clock.advance(20)
    await worker.run_once()
    row = await load(session_factory, row_id)
    assert (row.status, row.attempts, row.telegram_message_id) == ("sent", 3, 1001)
    assert row.last_error is None
    clock.advance(3600)
    assert await worker.run_once() == 0
    assert len(api.calls) == 3


async def test_flood_wait_pauses_everything_and_does_not_count(bot, api, clock, session_factory):
    first = await put(session_factory, 111)
    second = await put(session_factory, 222)
    api.script.append(flood(5))
    # One request at a time, so the pause is seen before the second chat is dispatched.
    worker = make_worker(bot, session_factory, clock, max_in_flight=1)
    t0 = clock.now()

    assert await worker.run_once() == 2
    assert len(api.calls) == 1
    row = await load(session_factory, first)
    assert (row.status, row.attempts) == ("pending", 0)
    assert row.next_attempt_at == t0 + timedelta(seconds=5)
    other = await load(session_factory, second)
    assert (other.status, other.attempts, other.claimed_until) == ("pending", 0, None)

    assert await worker.run_once() == 2
    assert 5 in clock.sleeps
    assert [c.chat_id for _, c in api.calls] == [111, 111, 222]
    assert all(at >= t0 + timedelta(seconds=5) for at, _ in api.calls[1:])
    row = await load(session_factory, first)
    assert (row.status, row.attempts) == ("sent", 1)
    assert (await load(session_factory, second)).status == "sent"


async def test_blocked_user_is_unreachable_and_queue_cancelled(bot, api, clock, session_factory):
    async with session_factory() as s:
        citizen = Citizen(telegram_id=111, first_name="Budi")
        s.add(citizen)
        await s.commit()
    blocked = await put(session_factory, 111, citizen_id=citizen.id)
    queued = await put(session_factory, 111, "second")
    other = await put(session_factory, 222)
    api.script.append(BLOCKED)
    worker = make_worker(bot, session_factory, clock, max_in_flight=1)

    assert await worker.run_once() == 2

    row = await load(session_factory, blocked)
    assert (row.status, row.last_error) == ("unreachable", "Forbidden: bot was blocked by the user")
    assert (await load(session_factory, queued)).status == "cancelled"
    assert (await load(session_factory, other)).status == "sent"
    blocked_at = api.calls[0][0]
    async with session_factory() as s:
        assert (await s.get(Citizen, citizen.id)).unreachable_at == blocked_at
    clock.advance(3600)
    assert await worker.run_once() == 0
    assert [c.chat_id for _, c in api.calls] == [111, 222]


async def test_bad_request_fails_with_description(bot, api, clock, session_factory):
    row_id = await put(session_factory, 111, "<b>broken")
    api.script.append(BAD_HTML)
    worker = make_worker(bot, session_factory, clock)

    await worker.run_once()

    row = await load(session_factory, row_id)
    assert (row.status, row.attempts) == ("failed", 1)
    assert row.last_error == "Bad Request: can't parse entities: Unsupported start tag \"b\""
    async with session_factory() as s:
        assert [r.id for r in await OutboxRepo(s).list_failed(10)] == [row_id]
    clock.advance(3600)
    assert await worker.run_once() == 0


@pytest.mark.parametrize(
    "failure",
    [network_timeout, lambda method: TimeoutError("read timed out")],
    ids=["aiogram-network-error", "bare-timeout"],
)
async def test_network_timeout_is_retried(bot, api, clock, session_factory, failure):
    row_id = await put(session_factory, 111)
    api.script.append(failure)
    worker = make_worker(bot, session_factory, clock)

    await worker.run_once()
    row = await load(session_factory, row_id)
    assert (row.status, row.attempts) == ("pending", 1)
    assert "timeout" in row.last_error.lower() or "timed out" in row.last_error

    clock.advance(10)
    await worker.run_once()
    row = await load(session_factory, row_id)
    assert (row.status, row.attempts) == ("sent", 2)


async def test_gives_up_after_max_attempts(bot, api, clock, session_factory):
    row_id = await put(session_factory, 111)
    api.script.extend([BAD_GATEWAY] * 5)
    worker = make_worker(bot, session_factory, clock, max_attempts=3)

    for _ in range(5):
        await worker.run_once()
        clock.advance(3600)

    row = await load(session_factory, row_id)
    assert (row.status, row.attempts) == ("failed", 3)
    assert "Bad Gateway" in row.last_error
    assert len(api.calls) == 3


async def test_invalid_stored_payload_fails_without_a_call(bot, api, clock, session_factory):
    async with session_factory() as s:
        row = await OutboxRepo(s).add(
            chat_id=111, method="sendMessage", payload={}, now=clock.now()
        )
        await s.commit()
    worker = make_worker(bot, session_factory, clock)

    await worker.run_once()

    stored = await load(session_factory, row.id)
    assert stored.status == "failed" and stored.last_error.startswith("invalid payload")
    assert api.calls == []


async def test_migrated_group_is_retried_in_the_new_chat(bot, api, clock, session_factory):
    row_id = await put(session_factory, -100)
    api.script.append(reply(400, "Bad Request: group chat was upgraded", migrate_to_chat_id=-1009))
    worker = make_worker(bot, session_factory, clock)

    await worker.run_once()
    await worker.run_once()

    assert [c.chat_id for _, c in api.calls] == [-100, -1009]
    row = await load(session_factory, row_id)
    assert (row.status, row.chat_id, row.attempts) == ("sent", -1009, 1)


async def test_per_chat_pacing_busy_chat_holds_up_no_one(bot, api, clock, session_factory):
    worker = make_worker(bot, session_factory, clock, per_chat_interval=1.0)
    t0 = clock.now()
    await put(session_factory, 111, "a1")
    await worker.run_once()  # chat 111 now has to wait a second

    await put(session_factory, 111, "a2")
    await put(session_factory, 111, "a3")
    await put(session_factory, 222, "b1")  # newer than a2, but its chat is free
    while await worker.run_once():
        pass

    sent = [(at, c.chat_id, c.text) for at, c in api.calls]
    a = [(at, text) for at, chat, text in sent if chat == 111]
    assert [text for _, text in a] == ["a1", "a2", "a3"]
    gaps = [later - earlier for (earlier, _), (later, _) in pairwise(a)]
    assert all(gap >= timedelta(seconds=1) for gap in gaps)
    [(b_at, _, _)] = [s for s in sent if s[1] == 222]
    assert b_at - t0 <= timedelta(seconds=0.05)  # one global gap, not chat 111's second
    assert b_at < a[1][0]


async def test_global_rate(bot, api, clock, session_factory):
    for chat in range(1, 51):
        await put(session_factory, chat)
    worker = make_worker(bot, session_factory, clock, global_rate=25.0, batch=50)

    assert await worker.run_once() == 50

    times = sorted(at for at, _ in api.calls)
    assert len(times) == 50
    # No 1-second window holds more than 25 sends ...
    assert all(times[i + 25] - times[i] >= timedelta(seconds=1) for i in range(len(times) - 25))
    # ... and nothing waited longer than the rate needs (49 gaps of 40 ms).
    assert times[-1] - times[0] <= timedelta(seconds=1.97)


async def test_run_forever_wakes_on_demand_and_stops(session_factory, bot, api):
    # Real clock here: the idle sleep is an hour, so only wake() can get the row out in time.
    worker = DeliveryWorker(bot, session_factory)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run_forever(stop, idle_sleep=3600))
    await asyncio.sleep(0.05)  # let it find nothing and go idle

    row_id = await put(session_factory, 111)
    worker.wake()

    async def delivered() -> None:
        while not api.calls or (await load(session_factory, row_id)).status != "sent":
            await asyncio.sleep(0.01)

    await asyncio.wait_for(delivered(), timeout=10)
    stop.set()
    await asyncio.wait_for(task, timeout=10)
    assert len(api.calls) == 1
