"""Free text outside a form becomes a report on request (issue 14): "Selamat siang, saya mau lapor
lampu jalan mati di RT 05" used to get "I did not understand" and was lost."""

from __future__ import annotations

from aiogram.methods import SendMessage
from sqlalchemy import select

from storage.models import Report
from tests.handlers.harness import Harness
from tests.handlers.intake_helpers import consenting_citizen, fsm, limit_violations, tap

TEXT = "Selamat siang, saya mau lapor lampu jalan mati di RT 05 <Kelurahan Nenang> & gelap sekali"


def _replies(h: Harness, mark: int, user) -> list[SendMessage]:
    return [r for r in h.since(mark) if isinstance(r, SendMessage) and r.chat_id == user.id]


async def test_a_message_becomes_the_description_of_a_report(tmp_path):
    async with Harness.create(tmp_path) as h:
        siti = h.user(1001, "Siti")
        await consenting_citizen(h, siti)
        mark = h.mark()
        await h.send(siti, TEXT)
        offer = _replies(h, mark, siti)
        assert len(offer) == 1 and "Buat laporan dari pesan ini" in offer[0].text
        assert "tidak saya pahami" not in offer[0].text
        await tap(h, siti, "Buat laporan dari pesan ini")
        assert "langkah 1 dari 8" in h.last_text(siti)
        await tap(h, siti, "Pengaduan")
        await tap(h, siti, "Tidak tahu")
        await h.send(siti, "Lampu jalan mati di RT 05")
        body_step = h.last(siti)
        # The description step shows the message (escaped) and offers to use it as it is.
        assert "langkah 4 dari 8" in body_step.text
        assert "&lt;Kelurahan Nenang&gt; &amp; gelap" in body_step.text
        await tap(h, siti, "Pakai uraian ini")
        assert "langkah 5 dari 8" in h.last_text(siti)
        await h.send(siti, "kemarin sore")
        await tap(h, siti, "Biasa")
        await h.send(siti, "RT 05, Kelurahan Nenang")
        await tap(h, siti, "Lewati")
        await tap(h, siti, "Kirim")
        assert "LPR-" in h.last_text(siti)
        async with h.app.session_factory() as s:
            report = await s.scalar(select(Report))
        assert report.body == TEXT and report.title == "Lampu jalan mati di RT 05"
        assert limit_violations(h) == []


async def test_a_newcomer_s_message_is_not_kept_before_consent(tmp_path):
    """The notice promises that nothing but the Telegram id is stored before consent (issue 10),
    so a newcomer's first message is not kept: they read the notice, agree, send it again."""
    async with Harness.create(tmp_path) as h:
        budi = h.user(1002, "Budi")  # never sent /start: this is his first message
        mark = h.mark()
        await h.send(budi, TEXT)
        replies = _replies(h, mark, budi)
        assert "kirim lagi pesan Anda" in replies[0].text
        assert "Pemberitahuan data pribadi" in replies[-1].text
        _state, data = await fsm(h, budi)
        assert TEXT not in str(data)
        await tap(h, budi, "Saya setuju")
        await h.send(budi, TEXT)
        await tap(h, budi, "Buat laporan dari pesan ini")
        assert "langkah 1 dari 8" in h.last_text(budi)
        _state, data = await fsm(h, budi)
        assert TEXT in str(data)


async def test_a_short_message_gets_help_and_a_report_button(tmp_path):
    async with Harness.create(tmp_path) as h:
        siti = h.user(1001, "Siti")
        await consenting_citizen(h, siti)
        await h.send(siti, "halo")
        assert "tidak saya pahami" in h.last_text(siti)
        await tap(h, siti, "Buat laporan")
        assert "langkah 1 dari 8" in h.last_text(siti)
        _state, data = await fsm(h, siti)
        assert data["draft"]["body"] is None


async def test_the_welcome_after_consent_offers_a_report(tmp_path):
    async with Harness.create(tmp_path) as h:
        ani = h.user(1003, "Ani")
        await h.send(ani, "/start")
        await tap(h, ani, "Bahasa Indonesia")
        await tap(h, ani, "Saya setuju")
        welcome = h.last(ani)
        assert "Sekarang Anda dapat mengirim laporan" in welcome.text
        assert any("Buat laporan" in label for label, _data in welcome.buttons)
        await tap(h, ani, "Buat laporan")
        assert "langkah 1 dari 8" in h.last_text(ani)


async def test_a_forged_or_forgotten_message_is_refused(tmp_path):
    async with Harness.create(tmp_path) as h:
        siti = h.user(1001, "Siti")
        await consenting_citizen(h, siti)
        mark = h.mark()
        cq = await h.press(siti, 5, "rft:424242")
        assert h.answered(cq).show_alert and "tidak tersimpan" in h.answered(cq).text
        assert _replies(h, mark, siti) == [] and (await fsm(h, siti))[0] is None
