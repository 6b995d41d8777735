"""/pengaturan (issue 13): announcements off and on, news at once or in a daily digest, the
language; one message edited in place, every press answered once. Through the real dispatcher."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from aiogram.methods import EditMessageText, SendDocument, SendMessage
from aiogram.types import User
from sqlalchemy import select

from bot.domain.access import COMMAND_LINE
from bot.services.casework.verification import assign_report
from bot.ui.citizen_callbacks import CitizenMenuCb, MenuAction
from bot.ui.privacy import PrivacyAction, PrivacyCb
from bot.ui.settings import SettingsAction, SettingsCb, SettingsLanguageCb
from storage.models import Citizen, DigestItem, Outbox
from tests.handlers.casework_helpers import FAST_DELIVERY, file_report, seed
from tests.handlers.harness import Harness, Sent

ADMIN_ID = 9000
SITI, BUDI, NEWCOMER = 1001, 1002, 1003


def _cb(action: SettingsAction) -> str:
    return SettingsCb(action=action).pack()


async def _citizens(h: Harness, *ids: int) -> None:
    async with h.app.session_factory() as s:
        s.add_all([Citizen(telegram_id=i, first_name=f"W{i}", consent_at=datetime.now(UTC)) for i in ids])
        await s.commit()


async def _siti_opens_the_settings(h: Harness) -> tuple[User, Sent]:
    """Siti, who agreed to the personal data notice, sends /pengaturan: she and the screen."""
    await _citizens(h, SITI)
    siti = h.user(SITI, "Siti")
    await h.send(siti, "/pengaturan")
    return siti, h.last(siti)


async def _row(h: Harness, telegram_id: int) -> Citizen:
    async with h.app.session_factory() as s:
        return await s.scalar(select(Citizen).where(Citizen.telegram_id == telegram_id))


async def _broadcast(h: Harness, text: str) -> tuple[str, list[int]]:
    """The admin sends an announcement to all citizens: the preview's count line, and the chats
    the outbox rows go to."""
    admin = h.user(ADMIN_ID, "Admin")
    await h.send(admin, "/umumkan")
    await h.send(admin, text)
    await h.press(admin, h.last(admin), h.last(admin).button("warga"))
    preview = h.last_text(admin)
    await h.press(admin, h.last(admin), h.last(admin).button("Kirim"))
    async with h.app.session_factory() as s:
        rows = (await s.scalars(select(Outbox).where(Outbox.group_key.like("broadcast:%"),
                                                     Outbox.payload["text"].as_string() == text))).all()
    return preview, sorted(r.chat_id for r in rows)


async def test_announcements_switched_off_are_not_received_and_not_counted(tmp_path):
    async with Harness.create(tmp_path) as h:
        await _citizens(h, BUDI)
        siti, screen = await _siti_opens_the_settings(h)
        assert "Pengumuman dari koordinator: <b>aktif</b>" in screen.text
        cq = await h.press(siti, screen, screen.button("Matikan pengumuman"))
        assert len(h.answers(cq)) == 1 and h.answered(cq).text == "Tersimpan."
        edited = h.last(siti)
        # The same message, edited: now offering to switch them on again.
        assert edited.method == "EditMessageText" and edited.message_id == screen.message_id
        assert "<b>nonaktif</b>" in edited.text and edited.button("Aktifkan pengumuman")
        assert (await _row(h, SITI)).announcements_off_at is not None

        preview, chats = await _broadcast(h, "Posyandu buka hari Sabtu")
        assert chats == [BUDI]  # Siti switched them off
        assert "1 penerima" in preview, preview

        # On again: the next announcement reaches her.
        await h.press(siti, screen, _cb(SettingsAction.ANNOUNCEMENTS_ON))
        preview, chats = await _broadcast(h, "Vaksinasi hari Senin")
        assert chats == [SITI, BUDI] and "2 penerima" in preview, preview


async def test_a_double_tap_and_an_old_button_change_nothing_and_are_answered_once(tmp_path):
    async with Harness.create(tmp_path) as h:  # strict: Telegram refuses an unchanged edit
        siti, screen = await _siti_opens_the_settings(h)
        first, second = await h.double_tap(siti, screen, _cb(SettingsAction.ANNOUNCEMENTS_OFF))
        assert [len(h.answers(q)) for q in (first, second)] == [1, 1]
        assert h.answered(second).text == "Sudah begitu."
        off_at = (await _row(h, SITI)).announcements_off_at
        assert off_at is not None
        # An old screen's "off" pressed again: still off, since the same moment.
        mark = h.mark()
        cq = await h.press(siti, screen, _cb(SettingsAction.ANNOUNCEMENTS_OFF))
        assert h.answered(cq) is not None and (await _row(h, SITI)).announcements_off_at == off_at
        assert not h.failed()
        assert not [r for r in h.since(mark) if isinstance(r, SendMessage)]  # no second screen


@pytest.mark.parametrize(("default", "chosen", "held"), [
    ("immediate", SettingsAction.DIGEST, True),
    ("digest", SettingsAction.IMMEDIATE, False),
])
async def test_the_citizens_choice_of_digest_or_immediate_wins_over_the_default(tmp_path, default, chosen, held):
    overrides = {**FAST_DELIVERY, "notifications": {**FAST_DELIVERY["notifications"], "citizen_mode": default}}
    async with Harness.create(tmp_path, **overrides) as h:
        ids = await seed(h, reporter_id=SITI, officers={2001: "A"})
        siti = h.user(SITI, "Zenobia")
        await h.send(siti, "/pengaturan")
        screen = h.last(siti)
        assert "(the default)" in screen.text  # Siti reads English
        await h.press(siti, screen, _cb(chosen))
        assert "(the default)" not in h.last_text(siti)
        if held:  # the digest's times, as English writes them
            assert "daily digest</b> (9:00" in h.last_text(siti) and "4:00" in h.last_text(siti)
        report = await file_report(h, SITI, agency_id=None, with_files=False)
        async with h.app.session_factory() as s:
            await assign_report(s, h.app.dp["casework"], COMMAND_LINE, report.id, ids["A"], datetime.now(UTC))
        async with h.app.session_factory() as s:
            items = (await s.scalars(select(DigestItem))).all()
            rows = (await s.scalars(select(Outbox).where(Outbox.chat_id == SITI))).all()
        assigned_held = [i for i in items if "Dinas Alpha" in i.text]
        assigned_now = [r for r in rows if "Dinas Alpha" in r.payload.get("text", "")]
        if held:
            assert len(assigned_held) == 1 and not assigned_now
        else:
            assert len(assigned_now) == 1 and not assigned_held


async def test_reached_from_the_start_menu_and_the_language_switch_is_the_same_one(tmp_path):
    async with Harness.create(tmp_path) as h:
        await _citizens(h, SITI)
        siti = h.user(SITI, "Siti")
        await h.send(siti, "/start")
        menu = h.last(siti)
        assert "/pengaturan" in menu.text
        cq = await h.press(siti, menu, menu.button("Pengaturan"))
        assert h.answered(cq) is not None
        screen = h.last(siti)
        assert screen.method == "SendMessage" and "⚙️ <b>Pengaturan</b>" in screen.text
        cq = await h.press(siti, screen, SettingsLanguageCb(code="en").pack())
        assert h.answered(cq).text == "Language: English"
        edited = h.last(siti)
        assert edited.message_id == screen.message_id and "⚙️ <b>Settings</b>" in edited.text
        assert (await _row(h, SITI)).language == "en"
        await h.send(siti, "/bantuan")
        assert "/pengaturan" in h.last_text(siti) and "<b>Help</b>" in h.last_text(siti)
        # A forged language is refused, once, and changes nothing.
        cq = await h.press(siti, screen, SettingsLanguageCb(code="xx").pack())
        assert len(h.answers(cq)) == 1 and h.answered(cq).show_alert
        assert (await _row(h, SITI)).language == "en"


async def test_before_consent_only_the_language(tmp_path):
    async with Harness.create(tmp_path) as h:
        newcomer = h.user(NEWCOMER, "Baru")
        await h.send(newcomer, "/start")  # the row, without consent
        await h.send(newcomer, "/pengaturan")
        screen = h.last(newcomer)
        assert "Pengumuman" not in screen.text.split("\n\n")[0] and "/start" in screen.text
        assert [data.split(":")[0] for _, data in screen.buttons] == ["setlang", "setlang"]
        cq = await h.press(newcomer, screen, _cb(SettingsAction.ANNOUNCEMENTS_OFF))  # forged
        assert len(h.answers(cq)) == 1 and h.answered(cq).show_alert
        assert (await _row(h, NEWCOMER)).announcements_off_at is None


async def test_the_data_copy_lists_the_settings_and_withdrawal_forgets_them(tmp_path):
    async with Harness.create(tmp_path) as h:
        siti, screen = await _siti_opens_the_settings(h)
        await h.press(siti, screen, _cb(SettingsAction.ANNOUNCEMENTS_OFF))
        await h.press(siti, screen, _cb(SettingsAction.DIGEST))
        # The admin's /datawarga gives the same copy as /privasi: both come from data_rights.export.
        await h.send(siti, "/privasi")
        await h.press(siti, h.last(siti), PrivacyCb(action=PrivacyAction.EXPORT).pack())
        (doc,) = [r for r in h.requests if isinstance(r, SendDocument)]
        copy = json.loads(doc.document.data)["settings"]
        assert copy["announcements"] is False and copy["announcements_off_since"]
        assert copy["updates"] == "digest"
        await h.press(siti, h.last(siti), PrivacyCb(action=PrivacyAction.WITHDRAW).pack())
        await h.press(siti, h.last(siti), PrivacyCb(action=PrivacyAction.WITHDRAW_YES).pack())
        row = await _row(h, SITI)
        assert row.announcements_off_at is None and row.update_mode is None


async def test_the_menu_button_is_answered_and_edits_nothing(tmp_path):
    async with Harness.create(tmp_path) as h:
        await _citizens(h, SITI)
        siti = h.user(SITI, "Siti")
        cq = await h.press(siti, 5, CitizenMenuCb(action=MenuAction.SETTINGS).pack())
        assert len(h.answers(cq)) == 1
        assert not [r for r in h.requests if isinstance(r, EditMessageText)]
