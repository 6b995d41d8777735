"""/lapor end to end through the dispatcher: a full complaint, back, edit, cancel, consent."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from bot.ui.formatting import long_date
from storage.models import Report
from tests.handlers.harness import Harness
from tests.handlers.intake_helpers import (
    consenting_citizen,
    fsm,
    limit_violations,
    seed_agencies,
    tap,
    texts_since,
)


async def test_full_complaint_with_every_field_and_an_album(tmp_path):
    async with Harness.create(tmp_path) as h:
        ids = await seed_agencies(h)
        alice = h.user(1001, "Alice")
        await consenting_citizen(h, alice)

        await h.send(alice, "/lapor")
        assert "Pengaduan" in h.last_text(alice)
        await tap(h, alice, "Pengaduan")
        await tap(h, alice, "Dinas dan badan")
        assert "Halaman 1 dari 2" in h.last_text(alice)
        await tap(h, alice, "Berikutnya")
        await tap(h, alice, "Pekerjaan Umum")
        assert "Instansi: Dinas Pekerjaan Umum dan Penataan Ruang" in h.last_text(alice)
        await h.send(alice, "Jalan <rusak> & berlubang")
        await h.send(alice, "Jalan di depan pasar berlubang besar, sudah tiga minggu & belum diperbaiki.")
        await h.send(alice, "kemarin")
        # Privacy before the location: an anonymous reporter is warned before sharing a point.
        await tap(h, alice, "Anonim")
        assert "Titik yang tepat dapat mengenali Anda" in h.last_text(alice)
        mark = h.mark()
        await h.send_location(alice, latitude=-1.2563417, longitude=116.8312789)
        assert any("kira-kira" in t for t in texts_since(h, mark))
        await h.send_photo(alice, media_group_id="album-1")
        await h.send_photo(alice, media_group_id="album-1")
        mark = h.mark()
        await h.send_photo(alice, media_group_id="album-1")
        assert texts_since(h, mark) == []  # the album was acknowledged once, by its first item
        await h.send_document(alice)
        assert "4 dari 5" in h.last_text(alice)
        await h.send_voice(alice)  # a voice note is evidence too
        # ...but no cleaner strips it: an anonymous reporter sends it only on purpose.
        assert "tidak bisa dibersihkan" in h.last_text(alice)
        await tap(h, alice, "Tetap kirim")
        assert "1 file akan dikirim apa adanya" in h.last_text(alice)
        await tap(h, alice, "Selesai")
        summary = h.last_text(alice)
        assert "Jalan &lt;rusak&gt; &amp; berlubang" in summary
        assert "3 foto" in summary and "1 dokumen" in summary and "1 pesan suara" in summary

        await tap(h, alice, "Kirim")
        receipt = h.last_text(alice)
        assert "LPR-" in receipt
        state, _data = await fsm(h, alice)
        assert state is None

        async with h.app.session_factory() as s:
            report = await s.scalar(select(Report).options(selectinload(Report.attachments),
                                                           selectinload(Report.events)))
        assert report.tracking_id in receipt
        assert report.title == "Jalan <rusak> & berlubang"
        assert report.classification == "complaint" and report.privacy == "anonymous"
        assert report.requested_agency_id == ids["pupr"]
        assert report.incident_date is not None
        # Only the coarse point was ever stored, in the draft as in the report.
        assert (report.latitude, report.longitude) == (-1.256, 116.831)
        assert [a.kind for a in report.attachments] == ["photo", "photo", "photo", "document", "voice"]
        assert [e.kind for e in report.events] == ["submitted"]

        assert long_date(report.verify_due, "id") in receipt
        assert limit_violations(h) == []
