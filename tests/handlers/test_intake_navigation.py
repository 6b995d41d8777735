"""Back, edit from the summary, /batal, /bantuan in the form, consent, agency browsing."""

from __future__ import annotations

from aiogram.types import ReplyKeyboardMarkup, ReplyKeyboardRemove
from sqlalchemy import func, select

from storage.models import Citizen, Report
from tests.handlers.harness import Harness
from tests.handlers.intake_helpers import (
    BODY,
    TITLE,
    consenting_citizen,
    drive,
    fsm,
    limit_violations,
    seed_agencies,
    tap,
    texts_since,
)


async def _reports(h: Harness) -> int:
    async with h.app.session_factory() as s:
        return await s.scalar(select(func.count()).select_from(Report))


async def test_back_goes_one_step_back_and_keeps_the_answers(tmp_path):
    async with Harness.create(tmp_path) as h:
        u = h.user(1001)
        await consenting_citizen(h, u)
        await drive(h, u, "dt")
        await tap(h, u, "Kembali")
        state, data = await fsm(h, u)
        assert state.endswith(":body")
        assert data["draft"]["title"] == TITLE and data["draft"]["body"] == BODY
        await tap(h, u, "Kembali")
        assert (await fsm(h, u))[0].endswith(":title")
        # the location step's reply keyboard has its own Kembali, and leaving removes the keyboard
        await h.send(u, "Judul yang baru saja")
        await h.send(u, BODY)
        await tap(h, u, "Hari ini")
        await tap(h, u, "Biasa")
        assert isinstance(h.last(u).reply_markup, ReplyKeyboardMarkup)
        await h.send(u, "⬅️ Kembali")
        assert (await fsm(h, u))[0].endswith(":privacy")
        assert any(isinstance(s.reply_markup, ReplyKeyboardRemove) for s in h.sent_to(u)[-3:])
        assert (await fsm(h, u))[1]["draft"]["title"] == "Judul yang baru saja"
        assert limit_violations(h) == []


async def test_edit_from_summary_returns_to_summary(tmp_path):
    async with Harness.create(tmp_path) as h:
        u = h.user(1001)
        await consenting_citizen(h, u)
        await drive(h, u, "cf")
        await tap(h, u, "Judul")
        assert (await fsm(h, u))[0].endswith(":title")
        await h.send(u, "Judul yang sudah diperbaiki")
        state, data = await fsm(h, u)
        assert state.endswith(":confirm") and data["editing"] is False
        assert "Judul yang sudah diperbaiki" in h.last_text(u)
        # Kembali while editing goes back to the summary too
        await tap(h, u, "Lokasi")
        await h.send(u, "⬅️ Kembali")
        assert (await fsm(h, u))[0].endswith(":confirm")
        # A complaint turned into an aspiration needs nothing new: straight back to the summary
        await tap(h, u, "Jenis")
        await tap(h, u, "Aspirasi")
        assert (await fsm(h, u))[0].endswith(":confirm")
        assert limit_violations(h) == []


async def test_aspiration_skips_date_and_location_then_complaint_needs_them(tmp_path):
    async with Harness.create(tmp_path) as h:
        u = h.user(1001)
        await consenting_citizen(h, u)
        await drive(h, u, "dt", kind="Aspirasi")
        await tap(h, u, "Lewati")
        await tap(h, u, "Rahasia")
        await h.send(u, "Lewati")
        assert (await fsm(h, u))[0].endswith(":attachments")
        await tap(h, u, "Lewati")
        assert (await fsm(h, u))[0].endswith(":confirm")
        await tap(h, u, "Jenis")
        await tap(h, u, "Pengaduan")
        state, data = await fsm(h, u)
        assert state.endswith(":incident_date") and data["editing"] is True
        # a complaint cannot skip the date
        cq = await tap(h, u, "Hari ini")
        assert (await fsm(h, u))[0].endswith(":location")
        mark = h.mark()
        await h.send(u, "Lewati")
        assert "Pengaduan memerlukan lokasi" in texts_since(h, mark)[-1]
        assert (await fsm(h, u))[0].endswith(":location")
        await h.send_location(u)
        assert (await fsm(h, u))[0].endswith(":confirm")
        assert cq


async def test_cancel_from_any_step_files_nothing(tmp_path):
    async with Harness.create(tmp_path) as h:
        u = h.user(1001)
        await consenting_citizen(h, u)
        for step in ("ag", "bo", "lo", "cf"):
            await drive(h, u, step)
            await h.send(u, "/batal")
            assert "dibatalkan" in h.last_text(u) and "tidak ada laporan" in h.last_text(u)
            assert isinstance(h.last(u).reply_markup, ReplyKeyboardRemove)
            assert await fsm(h, u) == (None, {})
        await h.send(u, "/batal")
        assert "Tidak ada formulir" in h.last_text(u)
        # the summary's Batal button does the same
        await drive(h, u, "cf")
        await tap(h, u, "Batal")
        assert (await fsm(h, u))[0] is None
        assert await _reports(h) == 0


async def test_help_in_the_form_answers_and_reasks_the_step(tmp_path):
    async with Harness.create(tmp_path) as h:
        u = h.user(1001)
        await consenting_citizen(h, u)
        await drive(h, u, "bo")
        before = await fsm(h, u)
        mark = h.mark()
        await h.send(u, "/bantuan")
        texts = texts_since(h, mark)
        assert len(texts) == 1  # help and the question again, in one message
        assert "Bantuan" in texts[0]
        assert texts[0].index("Bantuan") < texts[0].index("Ceritakan apa yang terjadi")
        assert await fsm(h, u) == before
        # /lapor again keeps the form and re-asks too
        await h.send(u, "/lapor")
        assert "sedang mengisi" in h.last_text(u) and "Ceritakan" in h.last_text(u)
        assert await fsm(h, u) == before


async def test_lapor_without_consent_shows_the_notice(tmp_path):
    async with Harness.create(tmp_path) as h:
        u = h.user(1001)
        async with h.app.session_factory() as s:
            s.add(Citizen(telegram_id=u.id, language="id"))
            await s.commit()
        mark = h.mark()
        await h.send(u, "/lapor")
        texts = texts_since(h, mark)
        assert "pemberitahuan data pribadi" in texts[0]
        assert len(texts) == 2  # the notice itself, with its buttons
        assert (await fsm(h, u))[0] is None


async def test_agency_search_and_village_browsing(tmp_path):
    async with Harness.create(tmp_path) as h:
        ids = await seed_agencies(h)
        u = h.user(1001)
        await consenting_citizen(h, u)
        await drive(h, u, "ag")
        await h.send(u, "pdam")
        assert "PDAM" in h.last_text(u) or "pdam" in h.last_text(u)
        assert [t for t, _ in h.last(u).buttons][0].startswith("Perumda")
        mark = h.mark()
        await h.send(u, "zzz <tidak> ada")
        assert "&lt;tidak&gt;" in texts_since(h, mark)[0]
        assert (await fsm(h, u))[0].endswith(":agency")
        await h.send(u, "x")
        assert "paling sedikit 2 huruf" in h.last_text(u)
        await tap(h, u, "Kecamatan")
        assert "Kecamatan Penajam" in [t for t, _ in h.last(u).buttons]
        await tap(h, u, "Kelompok")
        await tap(h, u, "Kelurahan/Desa")
        await tap(h, u, "Kecamatan Penajam")
        await tap(h, u, "Nenang")
        state, data = await fsm(h, u)
        assert state.endswith(":title") and data["draft"]["agency_id"] == ids["nenang"]
        assert limit_violations(h) == []


async def test_english_citizen_gets_english(tmp_path):
    async with Harness.create(tmp_path) as h:
        u = h.user(1001)
        await consenting_citizen(h, u, language="en")
        await h.send(u, "/lapor")
        assert "What kind of report" in h.last_text(u)
        await tap(h, u, "Complaint")
        assert "Which agency" in h.last_text(u)


async def test_edit_attachments_then_back_still_submits(tmp_path):
    async with Harness.create(tmp_path) as h:
        u = h.user(1001)
        await consenting_citizen(h, u)
        await drive(h, u, "cf")
        await tap(h, u, "Lampiran")
        await h.send_document(u)
        await tap(h, u, "Kembali")
        assert (await fsm(h, u))[0].endswith(":confirm")
        assert "1 dokumen" in h.last_text(u)
        await tap(h, u, "Kirim")
        assert "LPR-" in h.last_text(u)
        assert await _reports(h) == 1
