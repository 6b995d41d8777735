"""Buttons that can no longer act go when the report moves on, and a stale tap says where the
report is now, answered once."""

from __future__ import annotations

from aiogram.methods import EditMessageReplyMarkup

from bot.ui.case_callbacks import OfficerAction, OfficerCb, VerifyAction, VerifyCb
from tests.handlers.casework_helpers import ADMIN, FAST_DELIVERY, drain, file_report, last_button_message, seed, tap
from tests.handlers.harness import Harness

REPORTER, O1, O2 = 5551, 6661, 6662
ADMIN2 = 9001


def _prefixes(markup) -> set[str]:
    if markup is None:
        return set()
    return {(b.callback_data or "").split(":", 1)[0] for row in markup.inline_keyboard for b in row}


def _shown(h: Harness, chat_id: int, message_id: int):
    return h.telegram.shown(chat_id, message_id)[1]


async def _card(h: Harness, admin) -> int:
    """The admin opens the new report's card; its message id."""
    await tap(h, admin, "Buka")
    card, _ = last_button_message(h, admin.id, "Tolak")
    return card.message_id


async def test_every_admin_card_loses_disposisi_tolak_tunda_once_assigned(tmp_path):
    async with Harness.create(tmp_path, roles={"admin_ids": [ADMIN, ADMIN2]}, **FAST_DELIVERY) as h:
        ids = await seed(h, reporter_id=REPORTER, officers={O1: "A"})
        filed = await file_report(h, REPORTER, agency_id=ids["A"])
        await drain(h)
        admin, admin2 = h.user(ADMIN, "Admin"), h.user(ADMIN2, "Admin Dua")
        card, card2 = await _card(h, admin), await _card(h, admin2)
        assert "vq" in _prefixes(_shown(h, ADMIN, card)) and "vq" in _prefixes(_shown(h, ADMIN2, card2))

        mark = h.mark()
        await tap(h, admin, "Dinas Alpha")  # the citizen's choice, on the card
        edits = [r for r in h.since(mark) if isinstance(r, EditMessageReplyMarkup)]
        # Once per card: a second edit to the same buttons is refused by Telegram.
        assert sorted((int(e.chat_id), e.message_id) for e in edits) == sorted([(ADMIN, card), (ADMIN2, card2)])
        for chat, message_id in ((ADMIN, card), (ADMIN2, card2)):
            markup = _shown(h, chat, message_id)
            assert "vq" not in _prefixes(markup), "Disposisi / Tolak / Tunda left on an assigned report"
            assert markup is not None and markup.inline_keyboard  # category and LAPOR! number stay

        # The other admin's old button, tapped anyway: one answer, with the status now.
        stale = VerifyCb(a=VerifyAction.REJECT, r=filed.id).pack()
        cq = await h.press(admin2, card2, stale)
        answers = h.answers(cq)
        assert len(answers) == 1 and answers[0].show_alert
        assert "Diteruskan ke instansi" in answers[0].text


async def test_a_rejected_reports_card_loses_its_actions_too(tmp_path):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        ids = await seed(h, reporter_id=REPORTER, officers={O1: "A"})
        await file_report(h, REPORTER, agency_id=ids["A"])
        await drain(h)
        admin = h.user(ADMIN, "Admin")
        card = await _card(h, admin)
        await tap(h, admin, "Tolak")
        sent, data = last_button_message(h, ADMIN, "Bukan tentang pelayanan publik")
        await h.press(admin, sent, data)
        await tap(h, admin, "Tolak tanpa catatan")
        assert "vq" not in _prefixes(_shown(h, ADMIN, card))


async def test_stale_verification_steps_say_the_status_and_lose_their_buttons(tmp_path):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        ids = await seed(h, reporter_id=REPORTER, officers={O1: "A"})
        filed = await file_report(h, REPORTER, agency_id=ids["A"])
        await drain(h)
        admin = h.user(ADMIN, "Admin")
        await _card(h, admin)
        await tap(h, admin, "Dinas Alpha")
        # Buttons of steps opened from an old copy of the card: no dialog opens for a report
        # that moved on.
        for action in (VerifyAction.PICK, VerifyAction.REJECT, VerifyAction.SEARCH):
            shown = await h.press(admin, 4242, VerifyCb(a=action, r=filed.id).pack())
            (answer,) = h.answers(shown)
            assert answer.show_alert and "Diteruskan ke instansi" in answer.text, action


async def test_an_officer_tapping_take_after_a_colleague_hears_the_status_once(tmp_path):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        ids = await seed(h, reporter_id=REPORTER, officers={O1: "A", O2: "A"})
        await file_report(h, REPORTER, agency_id=ids["A"])
        await drain(h)
        admin = h.user(ADMIN, "Admin")
        await _card(h, admin)
        await tap(h, admin, "Dinas Alpha")
        await drain(h)
        o1, o2 = h.user(O1, "Officer6661"), h.user(O2, "Officer6662")
        card1, take1 = last_button_message(h, O1, "Tindak lanjuti")
        card2, take2 = last_button_message(h, O2, "Tindak lanjuti")
        assert OfficerCb.unpack(take1).a is OfficerAction.TAKE

        await h.press(o1, card1, take1)
        assert "oc" not in _prefixes(_shown(h, O1, card1.message_id))  # replaced by the next message
        assert "Minta info" in [t for t, _ in h.last(O1).buttons]

        cq = await h.press(o2, card2, take2)
        answers = h.answers(cq)
        assert len(answers) == 1 and answers[0].show_alert
        assert "Sedang ditindaklanjuti" in answers[0].text
        assert "oc" not in _prefixes(_shown(h, O2, card2.message_id))
