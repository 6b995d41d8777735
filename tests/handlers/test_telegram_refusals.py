"""When Telegram says no: the harness's fake answers like the Bot API (strict by default, it refuses
an unchanged edit and a second answer to a button; ``fail`` queues 403, 429 or 5xx for a method),
and the bot neither crashes nor answers a button twice."""

from __future__ import annotations

import pytest
from aiogram.methods import AnswerCallbackQuery, SendMessage
from sqlalchemy import select

from bot import retry
from bot.ui.citizen_callbacks import ConsentAction, ConsentCb
from storage.models import Citizen, Outbox
from tests.handlers.casework_helpers import ADMIN, FAST_DELIVERY, drain, file_report, report, seed, tap
from tests.handlers.harness import Fault, Harness


@pytest.fixture
def no_backoff(monkeypatch) -> None:
    """The retries' pauses (bot/retry.py) skipped: what is tested is which requests are made."""

    async def no_sleep(seconds: float) -> None:
        pass

    monkeypatch.setattr(retry.asyncio, "sleep", no_sleep)


def refusals(h: Harness) -> list[str]:
    return [f"{type(method).__name__}: {error.message}" for method, error in h.failed()]


async def test_a_gateway_page_on_a_direct_reply_is_retried(tmp_path, no_backoff):
    async with Harness.create(tmp_path) as h:
        alice = h.user(1001, "Alice")
        h.telegram.fail(SendMessage, Fault.gateway_page())
        await h.send(alice, "/start")
        assert "Pilih bahasa" in h.last_text(alice)
        assert refusals(h) == ["SendMessage: Failed to decode object"]


@pytest.mark.expects_error_handler("a gateway page on every try: the error handler must survive it too")
async def test_the_error_handler_survives_a_gateway_page(tmp_path, no_backoff):
    async with Harness.create(tmp_path) as h:
        alice = h.user(1001, "Alice")
        await h.send(alice, "/start")
        greeting = h.last(alice)
        h.telegram.fail(AnswerCallbackQuery, Fault.gateway_page(), times=10)
        cq = await h.press(alice, greeting, greeting.button("English"))
        # Five tries by the handler, five for the apology; all refused, and nothing raised.
        assert len(h.answers(cq)) == 10
        assert len(refusals(h)) == 10


def assert_answered_once(h: Harness, *cq_ids: str) -> None:
    for cq in cq_ids:
        assert h.answered(cq) is not None, f"{cq} left unanswered"
        assert len(h.answers(cq)) == 1, f"{cq} answered {len(h.answers(cq))} times"


async def _citizen(h: Harness, telegram_id: int) -> Citizen:
    async with h.app.session_factory() as s:
        return await s.scalar(select(Citizen).where(Citizen.telegram_id == telegram_id))


async def test_double_tap_on_a_language_button(tmp_path):
    async with Harness.create(tmp_path) as h:
        alice = h.user(1001, "Alice")
        await h.send(alice, "/start")
        greeting = h.last(alice)
        first, second = await h.double_tap(alice, greeting, greeting.button("English"))
        assert_answered_once(h, first, second)
        assert (await _citizen(h, 1001)).language == "en"
        # The second edit would change nothing: the bot knows what it showed and does not ask.
        assert refusals(h) == []


async def test_double_tap_on_the_consent_button(tmp_path):
    async with Harness.create(tmp_path) as h:
        alice = h.user(1001, "Alice")
        await h.send(alice, "/start")
        greeting = h.last(alice)
        await h.press(alice, greeting, greeting.button("English"))
        notice = h.last(alice)
        assert notice.buttons, "the notice has its buttons"
        first, second = await h.double_tap(alice, notice, ConsentCb(action=ConsentAction.ACCEPT).pack())
        assert_answered_once(h, first, second)
        assert (await _citizen(h, 1001)).consent_at is not None
        assert "already agreed" in (h.answered(second).text or "")
        menus = [m for m in h.sent_to(alice) if m.text and "/laporan" in m.text]
        assert len(menus) == 1, "one menu, not one per tap"
        assert refusals(h) == []


async def test_disagree_then_agree_at_once_ends_with_the_menu(tmp_path):
    async with Harness.create(tmp_path) as h:
        alice = h.user(1001, "Alice")
        await h.send(alice, "/start")
        greeting = h.last(alice)
        await h.press(alice, greeting, greeting.button("English"))
        notice = h.last(alice)
        declined, agreed = await h.press_together(alice, notice, ConsentCb(action=ConsentAction.DECLINE).pack(),
                                                  ConsentCb(action=ConsentAction.ACCEPT).pack())
        assert_answered_once(h, declined, agreed)
        assert (await _citizen(h, 1001)).consent_at is not None
        assert "/laporan" in h.last_text(alice), "the menu is shown last"
        assert refusals(h) == []


async def test_an_old_notice_tapped_after_agreeing_is_answered_without_a_refused_request(tmp_path):
    async with Harness.create(tmp_path) as h:
        alice = h.user(1001, "Alice")
        await h.send(alice, "/start")
        greeting = h.last(alice)
        await h.press(alice, greeting, greeting.button("English"))
        notice = h.last(alice)
        for action in (ConsentAction.ACCEPT, ConsentAction.DECLINE, ConsentAction.SHOW, ConsentAction.ACCEPT):
            cq = await h.double_tap(alice, notice, ConsentCb(action=action).pack())
            assert_answered_once(h, *cq)
        first, second = await h.double_tap(alice, greeting, greeting.button("Bahasa Indonesia"))
        assert_answered_once(h, first, second)
        assert refusals(h) == []


async def test_a_second_answer_to_one_button_is_refused(tmp_path):
    # The fake itself: what the tests above rely on to catch a button answered twice.
    async with Harness.create(tmp_path) as h:
        await h.app.bot.answer_callback_query("cq-x")
        with pytest.raises(Exception, match="query is too old"):
            await h.app.bot.answer_callback_query("cq-x")


async def test_flood_wait_on_a_direct_reply_is_waited_out(tmp_path, monkeypatch):
    waits: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(retry.asyncio, "sleep", fake_sleep)
    async with Harness.create(tmp_path) as h:
        alice = h.user(1001, "Alice")
        h.telegram.fail(SendMessage, Fault.flood(3))
        await h.send(alice, "/start")
        assert waits == [3]
        assert "Pilih bahasa" in h.last_text(alice)
        [refused] = refusals(h)
        assert refused.startswith("SendMessage") and "retry after 3" in refused


async def test_citizen_who_blocked_the_bot_is_marked_unreachable_by_the_outbox(tmp_path):
    reporter, officer = 770_001, 6601
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        ids = await seed(h, reporter_id=reporter, officers={officer: "A"})
        filed = await file_report(h, reporter, agency_id=ids["A"])
        h.telegram.fail(SendMessage, Fault.blocked(), times=100, chat_id=reporter)
        await drain(h)
        admin = h.user(ADMIN, "Admin")
        await tap(h, admin, "Buka")
        await tap(h, admin, "Dinas Alpha")
        await drain(h)
        # The admin's action stands; the citizen's messages stop instead of failing forever.
        assert (await report(h, filed.id)).agency_id == ids["A"]
        assert (await _citizen(h, reporter)).unreachable_at is not None
        async with h.app.session_factory() as s:
            statuses = {row.status for row in await s.scalars(select(Outbox).where(Outbox.chat_id == reporter))}
        assert statuses and statuses <= {"unreachable", "cancelled"}, statuses
        assert any(m.chat_id == officer for m in h.requests if isinstance(m, SendMessage))


async def test_a_reply_to_a_citizen_who_just_blocked_the_bot_is_not_an_error(tmp_path, error_handler_records):
    async with Harness.create(tmp_path) as h:
        alice = h.user(1001, "Alice")
        h.telegram.fail(SendMessage, Fault.blocked(), times=2, chat_id=1001)
        await h.send(alice, "/start")
        assert (await _citizen(h, 1001)).unreachable_at is not None
        assert not error_handler_records, [r.getMessage() for r in error_handler_records]


async def test_a_server_error_on_a_direct_reply_is_retried(tmp_path, error_handler_records, no_backoff):
    async with Harness.create(tmp_path) as h:
        alice = h.user(1001, "Alice")
        h.telegram.fail(SendMessage, Fault.server_error())
        await h.send(alice, "/start")
        assert "Pilih bahasa" in h.last_text(alice)
        assert not error_handler_records, [r.getMessage() for r in error_handler_records]


async def test_a_server_error_on_a_button_answer_is_retried_and_answers_it_once(tmp_path, no_backoff):
    async with Harness.create(tmp_path) as h:
        alice = h.user(1001, "Alice")
        await h.send(alice, "/start")
        greeting = h.last(alice)
        h.telegram.fail(AnswerCallbackQuery, Fault.server_error())
        cq = await h.press(alice, greeting, greeting.button("English"))
        # Telegram took the second try: the handler's own answer, once, and no apology.
        assert h.answered(cq) is not None and not h.answered(cq).show_alert
        assert len(h.answers(cq)) == 2
        assert refusals(h) == ["AnswerCallbackQuery: Bad Gateway"]
        assert (await _citizen(h, 1001)).language == "en"


@pytest.mark.expects_error_handler("Telegram keeps failing: the error handler's apology is the floor")
async def test_a_reply_telegram_keeps_refusing_ends_in_the_apology(tmp_path, no_backoff):
    async with Harness.create(tmp_path) as h:
        alice = h.user(1001, "Alice")
        h.telegram.fail(SendMessage, Fault.server_error(), times=5)
        await h.send(alice, "/start")
        assert "something went wrong" in h.last_text(alice).lower() or "kesalahan" in h.last_text(alice).lower()
