"""A button's update replayed from the journal after a crash answers the button at most once,
and never when Telegram would refuse it (bot/callback_answers.py); its work is done once.

A crash is simulated in the process: the handler's next request after the answer never returns
and the handling is cut off there (nothing after it runs or commits, as after a kill -9); then the
next start replays what the journal holds unfinished.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware
from aiogram.methods import AnswerCallbackQuery, SendMessage, TelegramMethod
from aiogram.types import CallbackQuery, Chat, Message, Update
from sqlalchemy import select

from bot.callback_answers import ANSWER_WINDOW
from bot.services.update_journal import UpdateJournal
from storage.models import ReportEvent
from tests.handlers.casework_helpers import (
    ADMIN,
    FAST_DELIVERY,
    drain,
    file_report,
    last_button_message,
    report,
    seed,
    tap,
)
from tests.handlers.harness import BOT_USER, Fault, Harness

REPORTER, OFFICER = 5551, 6661


class Freeze(BaseRequestMiddleware):
    """Once armed, the first request after a button's answer never returns: the process dies there."""

    def __init__(self) -> None:
        self.armed = False
        self.answered = False
        self.reached = asyncio.Event()

    async def __call__(self, make_request, bot: Bot, method: TelegramMethod):
        if self.armed and isinstance(method, AnswerCallbackQuery):
            result = await make_request(bot, method)
            self.answered = True
            return result
        if self.armed and self.answered:
            self.reached.set()
            await asyncio.Event().wait()
        return await make_request(bot, method)


async def _card_open(h: Harness) -> int:
    ids = await seed(h, reporter_id=REPORTER, officers={OFFICER: "A"})
    filed = await file_report(h, REPORTER, agency_id=ids["A"])
    await drain(h)
    await tap(h, h.user(ADMIN, "Admin"), "Buka")
    return filed.id


async def _crash_after_the_answer(h: Harness, label: str) -> str:
    """Press ``label`` in the admin's chat and kill the handling right after the button's answer;
    the callback query id."""
    freeze = Freeze()
    h.session.middleware(freeze)
    sent, data = last_button_message(h, ADMIN, label)
    freeze.armed = True
    pressing = asyncio.create_task(h.press(h.user(ADMIN, "Admin"), sent, data))
    await asyncio.wait_for(freeze.reached.wait(), 10)
    pressing.cancel()
    await asyncio.gather(pressing, return_exceptions=True)
    freeze.armed = False
    [answer] = [r for r in h.requests if isinstance(r, AnswerCallbackQuery)][-1:]
    return answer.callback_query_id


async def _kinds(h: Harness, report_id: int) -> list[str]:
    async with h.app.session_factory() as s:
        return list((await s.scalars(select(ReportEvent.kind).where(ReportEvent.report_id == report_id)
                                     .order_by(ReportEvent.id))).all())


async def test_a_crash_after_the_answer_does_not_answer_the_replayed_button_again(tmp_path):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        rid = await _card_open(h)
        cq = await _crash_after_the_answer(h, "Dinas Alpha")
        assert (await report(h, rid)).status == "assigned"  # committed before the answer

        assert await h.app.journal.replay(h.app.bot, take_over=True) == 1
        # Telegram refused nothing: the button had its one answer before the crash.
        assert [a.text for a in h.answers(cq)] == ["Didisposisikan."]
        assert h.failed() == []
        # The work is done once: one assignment, one card to the officer.
        await drain(h)
        assert await _kinds(h, rid) == ["submitted", "assigned"]
        assert sum("Jalan berlubang besar" in (m.text or "") for m in h.sent_to(OFFICER)) == 1


def _callback_update(update_id: int, user_id: int, data: str) -> Update:
    message = Message(message_id=77, date=datetime.now(UTC), chat=Chat(id=user_id, type="private"),
                      from_user=BOT_USER, text="(button message)")
    cq = CallbackQuery(id=f"cq-dead-{update_id}", from_user=Harness.user(user_id, "Admin"),
                       chat_instance=str(user_id), data=data, message=message)
    return Update(update_id=update_id, callback_query=cq)


async def _left_by_a_dead_process(h: Harness, update: Update, *, received_ago: timedelta) -> None:
    """A previous process stored and claimed the update ``received_ago``, then died before
    answering its button."""
    received = datetime.now(UTC) - received_ago
    dead = UpdateJournal(h.app.session_factory, clock=lambda: received)
    await dead.record(update.update_id, update.model_dump(mode="json", exclude_none=True, by_alias=True))
    assert await dead.claim(update.update_id)


async def test_a_replayed_button_never_answered_is_answered_once_while_telegram_takes_it(tmp_path):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        rid = await _card_open(h)
        _, data = last_button_message(h, ADMIN, "Dinas Alpha")
        update = _callback_update(900, ADMIN, data)
        await _left_by_a_dead_process(h, update, received_ago=timedelta(seconds=2))

        assert await h.app.journal.replay(h.app.bot, take_over=True) == 1
        assert [a.text for a in h.answers(update.callback_query.id)] == ["Didisposisikan."]
        assert (await report(h, rid)).status == "assigned"


async def test_a_replayed_button_too_old_for_telegram_is_not_answered_and_its_work_is_done(tmp_path):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        rid = await _card_open(h)
        _, data = last_button_message(h, ADMIN, "Dinas Alpha")
        update = _callback_update(901, ADMIN, data)
        await _left_by_a_dead_process(h, update, received_ago=ANSWER_WINDOW + timedelta(seconds=5))

        assert await h.app.journal.replay(h.app.bot, take_over=True) == 1
        assert h.answers(update.callback_query.id) == []  # Telegram would refuse it: too old
        assert (await report(h, rid)).status == "assigned"
        # The rest of the handler ran: the admin is told in the chat instead.
        assert any("didisposisikan ke" in (r.text or "") for r in h.requests if isinstance(r, SendMessage))


@pytest.mark.expects_error_handler("Telegram refuses the confirmation after the button was answered")
async def test_the_error_handler_does_not_answer_an_answered_button_again(tmp_path):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        rid = await _card_open(h)
        h.telegram.fail(SendMessage, Fault(400, "Bad Request: chat not found"), chat_id=ADMIN)
        sent, data = last_button_message(h, ADMIN, "Dinas Alpha")
        cq = await h.press(h.user(ADMIN, "Admin"), sent, data)
        assert (await report(h, rid)).status == "assigned"
        # The apology is not a second answer Telegram would refuse.
        assert [a.text for a in h.answers(cq)] == ["Didisposisikan."]
        assert [type(r).__name__ for r, _ in h.failed()] == ["SendMessage"]


async def test_a_button_telegram_calls_too_old_does_not_stop_the_handler(tmp_path):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        rid = await _card_open(h)
        h.telegram.fail(AnswerCallbackQuery, Fault.query_too_old())
        sent, data = last_button_message(h, ADMIN, "Dinas Alpha")
        await h.press(h.user(ADMIN, "Admin"), sent, data)
        assert (await report(h, rid)).status == "assigned"
        # The rest of its work is done, and nothing answers the dead query again.
        assert any("didisposisikan ke" in (r.text or "") for r in h.requests if isinstance(r, SendMessage))
        assert len([r for r in h.requests if isinstance(r, AnswerCallbackQuery)]) == 2  # "Buka", this one
