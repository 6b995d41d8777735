"""The whole casework path through the real dispatcher and the real delivery worker."""

from __future__ import annotations

from aiogram.methods import SendDocument, SendLocation, SendPhoto
from sqlalchemy import select

from storage.models import Attachment, ReportEvent
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
from tests.handlers.harness import Harness

REPORTER, O1, O2, OB = 5551, 6661, 6662, 6663


async def _assigned(h: Harness) -> tuple[dict[str, int], int]:
    ids = await seed(h, reporter_id=REPORTER, officers={O1: "A", O2: "A", OB: "B"})
    filed = await file_report(h, REPORTER, agency_id=ids["A"])
    await drain(h)
    admin = h.user(ADMIN, "Admin")
    await tap(h, admin, "Buka")
    await tap(h, admin, "Dinas Alpha")  # the citizen's choice, pre-selected
    await drain(h)
    return ids, filed.id


async def test_file_assign_ask_reply_answer_rate(tmp_path):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        ids, rid = await _assigned(h)
        assert (await report(h, rid)).status == "assigned"
        # Every officer of A got the card, the pin and the files; B's officer got nothing.
        for chat in (O1, O2):
            sent = h.sent_to(chat)
            assert any("Jalan berlubang besar" in (m.text or "") for m in sent)
            assert any("&lt;dan&gt;" in (m.text or "") for m in sent), "body must be escaped"
            assert any(isinstance(m.request, SendLocation) for m in sent)
            # An anonymous report: the photo was cleaned and uploaded anew, never re-sent as it came.
            assert any(isinstance(m.request, SendPhoto) for m in sent)
            assert not any(getattr(m.request, "photo", None) == "photo-file-1" for m in sent)
            assert any(isinstance(m.request, SendDocument) for m in sent)
            labels = [t for t, _ in last_button_message(h, chat, "Minta info")[0].buttons]
            assert labels == ["Tindak lanjuti", "Minta info", "Tanggapi", "Bukan wewenang"]
        assert h.sent_to(OB) == []
        # The citizen (English) hears which agency and by when.
        assert "Dinas Alpha" in h.last_text(REPORTER) and "answers by" in h.last_text(REPORTER)

        o1, o2, citizen = h.user(O1, "Officer6661"), h.user(O2, "Officer6662"), h.user(REPORTER, "Zenobia")
        await tap(h, o1, "Minta info")
        await h.send(o1, "Di titik mana tepatnya lubangnya?")
        await drain(h)
        assert (await report(h, rid)).status == "awaiting_reporter"
        assert "Di titik mana tepatnya" in h.last_text(REPORTER)
        last_button_message(h, REPORTER, "Reply")

        # Free text while one question is pending is the answer; a photo sent after it is
        # something new: offered as an addition, relayed once the reporter confirms.
        await h.send(citizen, "Di depan pasar, sebelah kiri")
        await h.send_photo(citizen)
        assert "Tambahkan informasi" in h.last_text(REPORTER) or "Add this to" in h.last_text(REPORTER)
        await tap(h, citizen, "Yes, add it")
        await drain(h)
        r = await report(h, rid)
        assert r.status == "in_progress"
        for chat in (O1, O2):
            texts = [m.text or "" for m in h.sent_to(chat)]
            assert any("Di depan pasar" in t for t in texts)
            # An anonymous report: the photo went cleaned, as a new upload.
            assert any(isinstance(m.request, SendPhoto) and not str(m.request.photo).startswith("photo-")
                       for m in h.sent_to(chat))
        async with h.app.session_factory() as s:
            replies = (await s.scalars(select(ReportEvent).where(ReportEvent.kind == "reporter_replied"))).all()
            added = (await s.scalars(select(ReportEvent).where(ReportEvent.kind == "reporter_added"))).all()
            files = (await s.scalars(select(Attachment).where(Attachment.event_id.is_not(None)))).all()
        assert len(replies) == 1 and len(added) == 1 and len(files) == 1

        await tap(h, o2, "Tanggapi")
        await h.send(o2, "Lubang sudah ditambal oleh tim UPT jalan.")
        await drain(h)
        r = await report(h, rid)
        assert r.status == "answered" and r.reply_due is not None
        assert "Lubang sudah ditambal" in h.last_text(REPORTER)

        await tap(h, citizen, "Satisfied")
        await tap(h, citizen, "⭐⭐⭐⭐")
        await h.send(citizen, "Cepat sekali, terima kasih")
        await drain(h)
        r = await report(h, rid)
        assert r.status == "closed" and r.rating == 4 and r.rating_comment == "Cepat sekali, terima kasih"
        assert any("4/5" in (m.text or "") for m in h.sent_to(O1))


async def test_reroute_keeps_both_on_the_timeline(tmp_path):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        ids, rid = await _assigned(h)
        o1, admin = h.user(O1, "Officer6661"), h.user(ADMIN, "Admin")
        await tap(h, o1, "Bukan wewenang")
        await h.send(o1, "Jalan provinsi, bukan kewenangan kabupaten.")
        await drain(h)
        r = await report(h, rid)
        assert r.status == "returned" and r.agency_id is None
        assert "bukan kewenangan kabupaten" in h.last_text(ADMIN)
        # The queue shows it with the reason; the admin forwards it to B.
        await h.send(admin, "/verifikasi")
        await tap(h, admin, r.tracking_id)
        card = "\n".join(m.text or "" for m in h.sent_to(ADMIN)[-3:])
        assert "bukan kewenangan kabupaten" in card
        await tap(h, admin, "Pilih instansi")
        await tap(h, admin, "dinas/badan")
        await tap(h, admin, "Dinas Beta")
        await drain(h)
        r = await report(h, rid)
        assert r.status == "assigned" and r.agency_id == ids["B"]
        assert any("Jalan berlubang besar" in (m.text or "") for m in h.sent_to(OB))
        assert "Dinas Beta" in h.last_text(REPORTER)
        async with h.app.session_factory() as s:
            kinds = [e.kind for e in (await s.scalars(
                select(ReportEvent).where(ReportEvent.report_id == rid).order_by(ReportEvent.id))).all()]
        assert kinds == ["submitted", "assigned", "returned", "rerouted"]


async def test_not_solved_reopens_to_the_agency(tmp_path):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        _, rid = await _assigned(h)
        o1, citizen = h.user(O1, "Officer6661"), h.user(REPORTER, "Zenobia")
        await tap(h, o1, "Tindak lanjuti")
        await drain(h)
        assert (await report(h, rid)).status == "in_progress"
        await tap(h, o1, "Tanggapi")
        await h.send(o1, "Sudah kami perbaiki.")
        await drain(h)
        await tap(h, citizen, "Not solved")
        await h.send(citizen, "Lubangnya masih ada, hanya ditutup pasir.")
        await drain(h)
        r = await report(h, rid)
        assert r.status == "in_progress" and r.reopened_count == 1 and r.reply_due is None
        assert any("ditutup pasir" in (m.text or "") for m in h.sent_to(O2))
        assert "reopened" in h.last_text(REPORTER)
