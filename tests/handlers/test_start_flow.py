"""/start (language, personal-data notice, consent), /bahasa and /bantuan, via the dispatcher."""

from __future__ import annotations

from aiogram.filters import CommandObject
from aiogram.methods import SendMessage
from sqlalchemy import select

from bot.ui.citizen_callbacks import (
    ConsentAction,
    ConsentCb,
    ConsentForReportCb,
    LanguageCb,
)
from handlers.start import _not_invite
from storage.models import Citizen
from tests.handlers.harness import Harness


async def _citizen(h: Harness, telegram_id: int) -> Citizen:
    async with h.app.session_factory() as s:
        row = await s.scalar(select(Citizen).where(Citizen.telegram_id == telegram_id))
    assert row is not None
    return row


def _texts(h: Harness, mark: int, chat_id: int) -> list[str]:
    return [
        getattr(r, "text", None) or ""
        for r in h.since(mark)
        if str(getattr(r, "chat_id", "")) == str(chat_id)
    ]


async def test_first_start_chooses_language_then_consent_is_stored(tmp_path):
    async with Harness.create(tmp_path) as h:
        alice = h.user(1001, "Alice <b>")
        await h.send(alice, "/start")
        greeting = h.last(alice)
        # Indonesian first, the name escaped, a button per language.
        assert "SP4N-LAPOR!" in greeting.text and "Pilih bahasa" in greeting.text
        assert "Alice &lt;b&gt;" in greeting.text
        assert {d for _, d in greeting.buttons} == {"lang:id", "lang:en"}
        assert (await _citizen(h, 1001)).consent_at is None

        cq = await h.press(alice, greeting, greeting.button("English"))
        assert h.answered(cq) is not None
        assert (await _citizen(h, 1001)).language == "en"
        notice = h.last(alice)
        assert "Personal data notice" in notice.text  # already in the chosen language
        assert "username" in notice.text and "anonymous" in notice.text
        assert (await _citizen(h, 1001)).consent_at is None

        cq = await h.press(alice, notice, ConsentCb(action=ConsentAction.ACCEPT).pack())
        assert h.answered(cq) is not None
        assert (await _citizen(h, 1001)).consent_at is not None
        menu = h.last(alice)
        assert "/lapor" in menu.text and "/laporan" in menu.text
        assert "cmenu:mine" in [d for _, d in menu.buttons]


async def test_start_again_after_consent_greets_without_the_notice(tmp_path):
    async with Harness.create(tmp_path) as h:
        alice = h.user(1001, "Alice")
        await h.send(alice, "/start")
        await h.press(alice, h.last(alice), LanguageCb(code="id").pack())
        await h.press(alice, h.last(alice), ConsentCb(action=ConsentAction.ACCEPT).pack())
        consented_at = (await _citizen(h, 1001)).consent_at

        mark = h.mark()
        await h.send(alice, "/start")
        texts = _texts(h, mark, 1001)
        assert len(texts) == 1
        assert "Selamat datang kembali, Alice" in texts[0]
        assert "Pemberitahuan data pribadi" not in texts[0]
        assert not any("consent:" in (d or "") for _, d in h.last(alice).buttons)
        assert (await _citizen(h, 1001)).consent_at == consented_at


async def test_refusing_consent_explains_and_offers_the_notice_again(tmp_path):
    async with Harness.create(tmp_path) as h:
        bob = h.user(1002, "Bob")
        await h.send(bob, "/start")
        await h.press(bob, h.last(bob), LanguageCb(code="id").pack())
        notice = h.last(bob)
        assert "Pemberitahuan data pribadi" in notice.text

        cq = await h.press(bob, notice, ConsentCb(action=ConsentAction.DECLINE).pack())
        assert h.answered(cq) is not None
        refusal = h.last(bob)
        assert "Tanpa persetujuan Anda" in refusal.text
        assert (await _citizen(h, 1002)).consent_at is None

        cq = await h.press(bob, refusal, refusal.button("Baca pemberitahuan"))
        assert h.answered(cq) is not None
        again = h.last(bob)
        assert "Pemberitahuan data pribadi" in again.text
        assert ConsentCb(action=ConsentAction.ACCEPT).pack() in [d for _, d in again.buttons]


async def test_forged_language_code_is_refused_and_answered(tmp_path):
    async with Harness.create(tmp_path) as h:
        alice = h.user(1001, "Alice")
        await h.send(alice, "/start")
        cq = await h.press(alice, h.last(alice), LanguageCb(code="xx").pack())
        answer = h.answered(cq)
        assert answer is not None and answer.show_alert
        assert (await _citizen(h, 1001)).language is None


def test_invite_payloads_are_left_to_the_invite_router():
    def cmd(args):
        return CommandObject(prefix="/", command="start", args=args)

    assert _not_invite(None, cmd(None))
    assert _not_invite(None, cmd("hello"))
    assert not _not_invite(None, cmd("inv_ABC123"))


async def test_start_with_invite_payload_does_not_greet(tmp_path):
    async with Harness.create(tmp_path) as h:
        carol = h.user(1003, "Carol")
        mark = h.mark()
        await h.send(carol, "/start inv_nosuchcode")
        assert not any("Pilih bahasa" in t for t in _texts(h, mark, 1003))


async def test_bahasa_mid_form_switches_language_and_keeps_the_form(tmp_path):
    async with Harness.create(tmp_path) as h:
        alice = h.user(1001, "Alice")
        await h.send(alice, "/start")
        await h.press(alice, h.last(alice), LanguageCb(code="id").pack())
        await h.press(alice, h.last(alice), ConsentCb(action=ConsentAction.ACCEPT).pack())

        fsm = h.app.dp.fsm.get_context(bot=h.app.bot, chat_id=1001, user_id=1001)
        await fsm.set_state("ReportForm:title")
        await fsm.set_data({"classification": "complaint", "title": "Jalan rusak"})

        await h.send(alice, "/bahasa")
        picker = h.last(alice)
        assert {d for _, d in picker.buttons} == {"lang:id", "lang:en"}
        cq = await h.press(alice, picker, LanguageCb(code="en").pack())
        assert h.answered(cq) is not None
        assert (await _citizen(h, 1001)).language == "en"
        # The confirmation is already in English, and says how to go on with the form.
        assert "middle of a report form" in h.last_text(alice)

        assert await fsm.get_state() == "ReportForm:title"
        assert await fsm.get_data() == {"classification": "complaint", "title": "Jalan rusak"}

        # /laporan works mid-form too, and leaves the form alone.
        await h.send(alice, "/laporan")
        assert "not filed any reports" in h.last_text(alice)

        await h.send(alice, "/bahasa")
        await h.press(alice, h.last(alice), LanguageCb(code="id").pack())
        assert (await _citizen(h, 1001)).language == "id"
        assert "sedang mengisi formulir" in h.last_text(alice)
        assert await fsm.get_state() == "ReportForm:title"


async def test_bantuan_explains_and_keeps_the_form(tmp_path):
    async with Harness.create(tmp_path) as h:
        alice = h.user(1001, "Alice")
        await h.send(alice, "/bantuan")
        text = h.last_text(alice)
        for needle in (
            "SP4N-LAPOR!",
            "Pengaduan",
            "Aspirasi",
            "Permintaan informasi",
            "Anonim",
            "Rahasia",
            "3 hari kerja",
            "5 hari kerja",
            "10 hari kerja",
            "/status",
            "/batal",
        ):
            assert needle in text, needle
        assert text.rstrip().endswith("Untuk memulai, kirim /lapor.")

        fsm = h.app.dp.fsm.get_context(bot=h.app.bot, chat_id=1001, user_id=1001)
        await fsm.set_state("ReportForm:body")
        await fsm.set_data({"title": "Lampu jalan mati"})
        mark = h.mark()
        await h.send(alice, "/bantuan")
        sent = [r for r in h.since(mark) if isinstance(r, SendMessage)]
        # The intake router answers /bantuan inside the form with this help (then may re-ask).
        assert "<b>Bantuan</b>" in sent[0].text
        assert "/batal" in sent[0].text.rsplit("\n", 1)[-1]  # the last line says how to go on
        assert await fsm.get_state() == "ReportForm:body"
        assert await fsm.get_data() == {"title": "Lampu jalan mati"}


async def test_menu_buttons_open_my_reports_and_help(tmp_path):
    async with Harness.create(tmp_path) as h:
        alice = h.user(1001, "Alice")
        await h.send(alice, "/start")
        await h.press(alice, h.last(alice), LanguageCb(code="id").pack())
        await h.press(alice, h.last(alice), ConsentCb(action=ConsentAction.ACCEPT).pack())
        menu = h.last(alice)

        cq = await h.press(alice, menu, menu.button("Laporan saya"))
        assert h.answered(cq) is not None
        assert "belum pernah mengirim laporan" in h.last_text(alice)

        cq = await h.press(alice, menu, menu.button("Bantuan"))
        assert h.answered(cq) is not None
        assert "<b>Bantuan</b>" in h.last_text(alice)


async def _lapor_without_consent(h: Harness, user) -> None:
    async with h.app.session_factory() as s:
        s.add(Citizen(telegram_id=user.id, first_name=user.first_name, language="id"))
        await s.commit()
    await h.send(user, "/lapor")


async def test_agreeing_to_the_notice_from_lapor_starts_the_form_at_once(tmp_path):
    async with Harness.create(tmp_path) as h:
        alice = h.user(1001, "Alice")
        await _lapor_without_consent(h, alice)
        notice = h.last(alice)
        assert "Pemberitahuan data pribadi" in notice.text
        # The notice remembers, in its own buttons, that it came from /lapor.
        data = [d for _, d in notice.buttons]
        assert ConsentForReportCb(action=ConsentAction.ACCEPT).pack() in data
        assert all(len(d.encode()) <= 64 for d in data)
        fsm = h.app.dp.fsm.get_context(bot=h.app.bot, chat_id=1001, user_id=1001)
        assert await fsm.get_state() is None  # nothing kept in the FSM while waiting

        mark = h.mark()
        cq = await h.press(alice, notice, notice.button("Saya setuju"))
        assert h.answered(cq) is not None
        assert (await _citizen(h, 1001)).consent_at is not None
        first_step = h.last(alice)
        assert "Terima kasih. Mari mulai laporan Anda." in first_step.text
        assert any("Pengaduan" in label for label, _ in first_step.buttons)
        assert await fsm.get_state() == "ReportForm:classification"
        # No second /lapor asked for, and no menu in between.
        assert not any("Yang bisa saya bantu" in t for t in _texts(h, mark, 1001))

        # Pressing the old notice again neither re-consents nor restarts the form.
        form_id = (await fsm.get_data())["form_id"]
        cq = await h.press(alice, notice, ConsentForReportCb(action=ConsentAction.ACCEPT).pack())
        assert h.answered(cq) is not None and "sudah menyetujui" in (h.answered(cq).text or "")
        assert (await fsm.get_data())["form_id"] == form_id


async def test_declining_then_agreeing_from_lapor_still_starts_the_form(tmp_path):
    async with Harness.create(tmp_path) as h:
        bob = h.user(1002, "Bob")
        await _lapor_without_consent(h, bob)
        await h.press(bob, h.last(bob), ConsentForReportCb(action=ConsentAction.DECLINE).pack())
        refusal = h.last(bob)
        assert "Tanpa persetujuan Anda" in refusal.text
        assert (await _citizen(h, 1002)).consent_at is None
        await h.press(bob, refusal, refusal.button("Baca pemberitahuan"))
        again = h.last(bob)
        assert ConsentForReportCb(action=ConsentAction.ACCEPT).pack() in [d for _, d in again.buttons]
        await h.press(bob, again, again.button("Saya setuju"))
        fsm = h.app.dp.fsm.get_context(bot=h.app.bot, chat_id=1002, user_id=1002)
        assert await fsm.get_state() == "ReportForm:classification"


async def test_agreeing_from_start_shows_the_menu_not_the_form(tmp_path):
    async with Harness.create(tmp_path) as h:
        carol = h.user(1003, "Carol")
        await h.send(carol, "/start")
        await h.press(carol, h.last(carol), LanguageCb(code="id").pack())
        notice = h.last(carol)
        assert ConsentCb(action=ConsentAction.ACCEPT).pack() in [d for _, d in notice.buttons]
        await h.press(carol, notice, notice.button("Saya setuju"))
        assert "/lapor" in h.last_text(carol)
        fsm = h.app.dp.fsm.get_context(bot=h.app.bot, chat_id=1003, user_id=1003)
        assert await fsm.get_state() is None


async def test_forged_report_consent_in_a_form_keeps_the_form(tmp_path):
    async with Harness.create(tmp_path) as h:
        dave = h.user(1004, "Dave")
        await _lapor_without_consent(h, dave)
        notice = h.last(dave)
        fsm = h.app.dp.fsm.get_context(bot=h.app.bot, chat_id=1004, user_id=1004)
        await fsm.set_state("ReportForm:title")
        await fsm.set_data({"title": "Jalan rusak"})
        cq = await h.press(dave, notice, ConsentForReportCb(action=ConsentAction.ACCEPT).pack())
        assert h.answered(cq) is not None
        assert (await _citizen(h, 1004)).consent_at is not None
        # A form already open is not replaced: the greeting says how to go on with it.
        assert "sedang mengisi formulir" in h.last_text(dave)
        assert await fsm.get_state() == "ReportForm:title"
        assert await fsm.get_data() == {"title": "Jalan rusak"}


async def _everything_stored_about(h: Harness, telegram_id: int) -> dict:
    """The citizen row and every conversation-state row of the user, as plain values."""
    from storage.models import FsmState

    async with h.app.session_factory() as s:
        row = await s.scalar(select(Citizen).where(Citizen.telegram_id == telegram_id))
        states = (await s.scalars(select(FsmState).where(FsmState.user_id == telegram_id))).all()
    return {
        "citizen": {c.key: getattr(row, c.key) for c in Citizen.__table__.columns} if row else None,
        "fsm": [(st.state, st.data) for st in states],
    }


async def test_before_consent_nothing_but_the_telegram_id_and_language_is_stored(tmp_path):
    """UU PDP notice: until the citizen agrees, the bot keeps only what it needs to show the
    notice. A newcomer with a name and a username who writes a report-like message, picks a
    language, reads the notice and declines leaves nothing else behind."""
    async with Harness.create(tmp_path) as h:
        siti = h.user(1004, "Siti", last_name="Aminah", username="siti_aminah_ppu")
        await h.send(siti, "Selamat siang, jalan di depan rumah saya Jl. Mawar 5 rusak parah sekali")
        await h.send(siti, "/start")
        await h.press(siti, h.last(siti), LanguageCb(code="id").pack())
        notice = h.last(siti)
        assert "Pemberitahuan data pribadi" in notice.text
        await h.press(siti, notice, ConsentCb(action=ConsentAction.DECLINE).pack())

        stored = await _everything_stored_about(h, 1004)
        citizen = stored["citizen"]
        identity = {k: v for k, v in citizen.items()
                    if k not in ("id", "created_at", "updated_at") and v is not None}
        assert identity == {"telegram_id": 1004, "language": "id"}
        assert "Mawar" not in str(stored["fsm"]) and "Aminah" not in str(stored)
        assert "siti_aminah_ppu" not in str(stored)

        # Once she agrees, the profile the notice names is kept.
        await h.press(siti, h.last(siti), h.last(siti).button("Baca pemberitahuan"))
        await h.press(siti, h.last(siti), ConsentCb(action=ConsentAction.ACCEPT).pack())
        row = await _citizen(h, 1004)
        assert (row.first_name, row.last_name, row.username) == ("Siti", "Aminah", "siti_aminah_ppu")


async def test_the_notice_names_controller_legal_basis_retention_and_rights(tmp_path):
    async with Harness.create(tmp_path, privacy={
            "controller": "Diskominfo Kabupaten <PPU>", "contact": "ppid@ppu.go.id"}) as h:
        alice = h.user(1001, "Alice")
        await h.send(alice, "/start")
        await h.press(alice, h.last(alice), LanguageCb(code="en").pack())
        text = h.last(alice).text
        for needle in ("Diskominfo Kabupaten &lt;PPU&gt;", "ppid@ppu.go.id", "UU 27/2022",
                       "Perpres 76/2013", "Telegram user ID", "Who sees it", "anonymous",
                       "How long", "withdraw your consent", "3×24 hours", "erased"):
            assert needle in text, needle
        assert len(text) < 4096
