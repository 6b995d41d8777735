"""The wiring itself: an update goes through every middleware and reaches a router."""

from aiogram.methods import SendMessage

from tests.handlers.harness import Harness


async def test_unknown_text_gets_a_pointer_and_the_citizen_is_stored(tmp_path):
    async with Harness.create(tmp_path) as h:
        alice = h.user(1001, "Alice", username="alice")
        await h.send(alice, "halo <b>")
        sent = [r for r in h.requests if isinstance(r, SendMessage)]
        assert len(sent) == 1 and sent[0].chat_id == 1001
        assert "/lapor" in sent[0].text

        from sqlalchemy import select

        from storage.models import Citizen

        async with h.app.session_factory() as s:
            row = await s.scalar(select(Citizen).where(Citizen.telegram_id == 1001))
        # Stored by Telegram id alone: no profile before consent (issue 10, UU PDP notice).
        assert row is not None and row.username is None


async def test_stale_button_is_answered(tmp_path):
    async with Harness.create(tmp_path) as h:
        alice = h.user(1001, "Alice")
        cq = await h.press(alice, 55, "nothing:here")
        answer = h.answered(cq)
        assert answer is not None and answer.show_alert
