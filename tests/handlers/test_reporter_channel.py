"""The reporter's channel to the officers: the answer ends the exchange (its album excepted);
anything later is relayed only once confirmed; /laporan adds information on purpose; limits and
the officers' mute keep a flood from reaching them."""

from __future__ import annotations

from aiogram.methods import SendLocation, SendVoice
from aiogram.types import Voice
from sqlalchemy import select

from storage.models import AuditLog, ReportEvent
from tests.handlers.casework_helpers import ADMIN, FAST_DELIVERY, drain, file_report, seed, tap
from tests.handlers.harness import Harness

REPORTER, O1, O2 = 5551, 6661, 6662
PHONE = "0812-3456-7890"


async def _asked(h: Harness, privacy: str = "anonymous") -> int:
    ids = await seed(h, reporter_id=REPORTER, officers={O1: "A", O2: "A"})
    rid = (await file_report(h, REPORTER, agency_id=ids["A"], privacy=privacy, with_files=False)).id
    await drain(h)
    admin = h.user(ADMIN, "Admin")
    await tap(h, admin, "Buka")
    await tap(h, admin, "Dinas Alpha")
    await drain(h)
    o1 = h.user(O1, "Officer")
    await tap(h, o1, "Minta info")
    await h.send(o1, "Di titik mana tepatnya?")
    await drain(h)
    return rid


def _officer_texts(h: Harness) -> str:
    return "\n".join(m.text or "" for chat in (O1, O2) for m in h.sent_to(chat))


async def _events(h: Harness, kind: str) -> list[ReportEvent]:
    async with h.app.session_factory() as s:
        return list((await s.scalars(select(ReportEvent).where(ReportEvent.kind == kind))).all())


async def test_a_message_after_the_answer_is_only_relayed_once_confirmed(tmp_path):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        await _asked(h)
        citizen = h.user(REPORTER, "Zenobia")
        await h.send(citizen, "Di depan pasar, sebelah kiri")
        await drain(h)
        assert "Di depan pasar" in _officer_texts(h)
        # Minutes later, something not meant for the agency.
        await h.send(citizen, f"Pak, ini nomor saya {PHONE}")
        await drain(h)
        assert PHONE not in _officer_texts(h)
        assert "Add this to" in h.last_text(REPORTER)
        await tap(h, citizen, "No")
        await drain(h)
        assert PHONE not in _officer_texts(h) and await _events(h, "reporter_added") == []
        # Said again and confirmed, it goes.
        await h.send(citizen, "Lubangnya sekarang lebih besar")
        await tap(h, citizen, "Yes, add it")
        await drain(h)
        assert "Lubangnya sekarang lebih besar" in _officer_texts(h)
        assert "Pelapor menambahkan informasi" in _officer_texts(h)
        assert len(await _events(h, "reporter_added")) == 1


async def test_the_files_of_the_answers_album_join_it_without_a_question(tmp_path):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        await _asked(h)
        citizen = h.user(REPORTER, "Zenobia")
        await h.send_photo(citizen, media_group_id="alb-1", caption="Ini lubangnya")
        await h.send_photo(citizen, media_group_id="alb-1")
        await h.send_photo(citizen, media_group_id="alb-1")
        await drain(h)
        assert not any("Add this to" in (m.text or "") for m in h.sent_to(REPORTER))
        assert len(await _events(h, "reporter_replied")) == 3
        # A photo of another album afterwards is something new.
        await h.send_photo(citizen, media_group_id="alb-2")
        assert "Add this to" in h.last_text(REPORTER)


async def test_from_my_reports_a_voice_note_and_a_location_are_added_cleaned_and_coarse(tmp_path):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        await _asked(h)
        citizen = h.user(REPORTER, "Zenobia")
        await h.send(citizen, "/laporan")
        await tap(h, citizen, "LPR-")
        await tap(h, citizen, "Add information")
        h.telegram.files["voc-1"] = b"OggS voice"
        await h.send_message(citizen, voice=Voice(file_id="voc-1", file_unique_id="vu1", duration=4,
                                                  mime_type="audio/ogg"))
        assert "Added to" in h.last_text(REPORTER)
        await tap(h, citizen, "LPR-")
        await tap(h, citizen, "Add information")
        await h.send_location(citizen, -1.2563417, 116.8312789)
        await drain(h)
        voices = [r for r in h.requests if isinstance(r, SendVoice) and r.chat_id in (O1, O2)]
        assert len(voices) == 2 and all(not isinstance(v.voice, str) for v in voices)  # cleaned uploads
        assert all(v.voice.filename.endswith("-1.ogg") for v in voices)
        pins = [(r.latitude, r.longitude) for r in h.requests if isinstance(r, SendLocation) and r.chat_id in (O1, O2)]
        card = (-1.25, 116.83)  # the report's own point, on the card
        assert [p for p in pins if p != card] == [(-1.256, 116.831)] * 2
        assert "116.8312789" not in _officer_texts(h)


async def test_additions_over_the_hourly_limit_are_refused_with_a_clear_message(tmp_path):
    limits = {"limits": {"relays_per_report_per_hour": 2}}
    async with Harness.create(tmp_path, **FAST_DELIVERY, **limits) as h:
        await _asked(h)
        citizen = h.user(REPORTER, "Zenobia")
        await h.send(citizen, "Jawaban")
        for n in range(3):
            await h.send(citizen, f"Tambahan nomor {n}")
            await tap(h, citizen, "Yes, add it")
        await drain(h)
        texts = _officer_texts(h)
        assert "Tambahan nomor 0" in texts and "Tambahan nomor 1" in texts
        assert "Tambahan nomor 2" not in texts
        alerts = [a.text for a in h.requests if type(a).__name__ == "AnswerCallbackQuery" and a.text]
        assert any("many messages" in t for t in alerts)


async def test_an_officer_mutes_the_reporters_additions_audited_but_answers_still_arrive(tmp_path):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        rid = await _asked(h)
        citizen, o1 = h.user(REPORTER, "Zenobia"), h.user(O1, "Officer")
        await h.send(citizen, "Jawaban pertama")
        await h.send(citizen, "Tambahan satu")
        await tap(h, citizen, "Yes, add it")
        await drain(h)
        await tap(h, o1, "Bisukan")
        async with h.app.session_factory() as s:
            audit = (await s.scalars(select(AuditLog).where(AuditLog.action == "mute_reporter"))).all()
        assert [a.target for a in audit] == [f"report:{rid}"]
        await h.send(citizen, "Tambahan dua")
        await drain(h)
        assert "Tambahan dua" not in _officer_texts(h)
        assert "paused further messages" in h.last_text(REPORTER)
        # The officer asks again: the answer still reaches them.
        await tap(h, o1, "Minta info")
        await h.send(o1, "Kapan mulai berlubang?")
        await drain(h)
        await h.send(citizen, "Sejak bulan lalu")
        await drain(h)
        assert "Sejak bulan lalu" in _officer_texts(h)
        # ...and the officer can let additions through again.
        await tap(h, o1, "Izinkan lagi")
        async with h.app.session_factory() as s:
            actions = [a.action for a in (await s.scalars(select(AuditLog))).all()]
        assert "unmute_reporter" in actions


async def test_a_citizen_over_the_daily_report_limit_keeps_the_form(tmp_path):
    from tests.handlers.intake_helpers import consenting_citizen, drive, fsm

    async with Harness.create(tmp_path, limits={"reports_per_day": 1}) as h:
        u = h.user(1001, "Siti")
        await consenting_citizen(h, u)
        await drive(h, u, "cf")
        await tap(h, u, "Kirim")
        assert "LPR-" in h.last_text(u)
        await drive(h, u, "cf")
        cq = await tap(h, u, "Kirim")
        assert "24 jam" in h.answered(cq).text and h.answered(cq).show_alert
        state, _data = await fsm(h, u)
        assert state.endswith(":confirm")  # nothing lost
