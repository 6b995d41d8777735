"""A form step whose question may not have reached the citizen (issue 11, item 8).

``go_to`` commits the step and its answers marked "question unsent", sends the question, then
clears the mark. A mark left by a crash (or a failed send) means the citizen still sees the
previous question: what they send next is shown the current question again, not taken as its
answer (the title filed as the description, before).
"""

from __future__ import annotations

import pytest
from aiogram.methods import SendMessage

from bot import retry
from bot.retry import RetryMiddleware
from handlers.intake.flow import QUESTION_UNSENT
from tests.handlers.harness import Fault, Harness
from tests.handlers.intake_helpers import BODY, TITLE, consenting_citizen, drive, fsm, key


async def test_a_delivered_question_leaves_no_mark(tmp_path):
    async with Harness.create(tmp_path) as h:
        u = h.user(1001)
        await consenting_citizen(h, u)
        await drive(h, u, "bo")
        _, data = await fsm(h, u)
        assert QUESTION_UNSENT not in data


async def test_after_a_crash_before_the_question_the_answer_to_the_old_one_is_not_taken(tmp_path):
    async with Harness.create(tmp_path) as h:
        u = h.user(1001)
        await consenting_citizen(h, u)
        await drive(h, u, "bo")
        # As a process killed between the step's commit and its question leaves it.
        _, data = await fsm(h, u)
        await h.app.fsm_storage.set_data(key(u), {**data, QUESTION_UNSENT: True})

        await h.send(u, TITLE)  # the citizen never saw "describe it": they send the title again
        state, data = await fsm(h, u)
        assert state.endswith(":body") and data["draft"].get("body") is None
        assert QUESTION_UNSENT not in data
        assert "Ceritakan" in h.last_text(u) or "keluhan" in h.last_text(u).lower(), h.last_text(u)

        await h.send(u, BODY)
        state, data = await fsm(h, u)
        assert state.endswith(":incident_date")
        assert (data["draft"]["title"], data["draft"]["body"]) == (TITLE, BODY)


async def test_a_button_pressed_before_the_question_arrived_shows_it_again(tmp_path):
    async with Harness.create(tmp_path) as h:
        u = h.user(1001)
        await consenting_citizen(h, u)
        await h.send(u, "/lapor")
        button = h.last(u).button("Pengaduan")
        _, data = await fsm(h, u)
        await h.app.fsm_storage.set_data(key(u), {**data, QUESTION_UNSENT: True})

        cq = await h.press(u, h.last(u), button)
        assert h.answered(cq) is not None
        state, data = await fsm(h, u)
        assert state.endswith(":classification") and data["draft"].get("classification") is None
        assert "Pengaduan" in str(h.last(u).buttons)


@pytest.mark.expects_error_handler("the question's sendMessage fails with a 502, every retry too")
async def test_a_question_telegram_failed_to_send_is_shown_before_the_next_answer(tmp_path, monkeypatch):
    async def no_sleep(seconds: float) -> None:
        pass

    monkeypatch.setattr(retry.asyncio, "sleep", no_sleep)  # bot/retry.py's pauses between tries
    async with Harness.create(tmp_path) as h:
        u = h.user(1001)
        await consenting_citizen(h, u)
        await drive(h, u, "ti")
        # A 502 is retried (bot/retry.py); one that lasts beyond the retries loses the question.
        h.telegram.fail(SendMessage, Fault.server_error(), times=RetryMiddleware().attempts)
        await h.send(u, TITLE)  # stored; the body question is lost on the way
        state, data = await fsm(h, u)
        assert state.endswith(":body") and data[QUESTION_UNSENT] is True

        await h.send(u, TITLE)  # the citizen repeats what they think went unheard
        _, data = await fsm(h, u)
        assert data["draft"].get("body") is None and QUESTION_UNSENT not in data
