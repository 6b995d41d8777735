"""The privacy scan (tests/privacy_scan.py) over every path by which an anonymous report leaves
toward the agency: the card and its files and albums, the reporter's answer and additions (text,
files, a location), reminders, escalations, the weekly summary, exports, /audit, statistics and
the logs; in the officers' private chats and in the agency's forum group, where the report has
its own topic (issue 13: its name, everything posted in it, the group's overdue list, the last
line when the report ends). None of the reporter's identifiers may appear in any of it.

The same flow with one protection taken away must fail the scan: the scan is no formality.
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta

import pytest
from aiogram.methods import CloseForumTopic, CreateForumTopic, SendDocument, SendLocation, SendMediaGroup, SendPhoto
from sqlalchemy import update

from bot.jobs.base import JobContext
from bot.jobs.escalation import send_escalations
from bot.jobs.officer_reminders import send_reminders
from bot.jobs.weekly_summary import send_weekly_summary
from storage.models import Citizen
from tests.files import ARTIST, jpeg_with_exif, pdf_with_author
from tests.handlers.casework_helpers import ADMIN, FAST_DELIVERY, drain, link_group, report, seed, tap
from tests.handlers.harness import Harness
from tests.privacy_scan import Identity, Scan

REPORTER_ID, O1, O2 = 770_013_579, 6661, 6662
FORUM = -100_555_013
KTP = "KTP_Siti_Aminah_6409011234567890.jpg"
LETTER = "Surat_Siti_Aminah.pdf"
PROOF = "Bukti_Siti_Aminah.pdf"
SITI = Identity(
    first_name="Siti", last_name="Aminah", username="siti_aminah_ppu", telegram_id=REPORTER_ID,
    phone="0812-3456-7890", file_names=(KTP, LETTER, PROOF), latitude=-1.2563417, longitude=116.8312789,
    embedded=(ARTIST, "6409011234567890"),
)


async def _file_and_follow(h: Harness) -> tuple[int, int]:
    """Everything an anonymous report goes through; returns the report id and the request index
    from which the admins' chat gets only what must not name the reporter either."""
    await seed(h, reporter_id=REPORTER_ID, officers={O1: "A", O2: "A"})
    async with h.app.session_factory() as s:
        await s.execute(update(Citizen).where(Citizen.telegram_id == REPORTER_ID).values(
            first_name=SITI.first_name, last_name=SITI.last_name, username=SITI.username, language="id"))
        await s.commit()
    siti = h.user(REPORTER_ID, SITI.first_name, last_name=SITI.last_name, username=SITI.username)
    admin, o1 = h.user(ADMIN, "Admin"), h.user(O1, "Officer")
    # The agency's forum group hears of its reports as well as the officers' private chats.
    await link_group(h, h.group(FORUM, "Forum Dinas Alpha", forum=True), O1)

    # The form, with everything that can identify her.
    await h.send(siti, "/lapor")
    await tap(h, siti, "Pengaduan")
    await h.send(siti, "Alpha")
    await tap(h, siti, "Dinas Alpha")
    await h.send(siti, "Jalan berlubang di depan pasar")
    await h.send(siti, "Lubang besar di jalan depan pasar, sudah sebulan tidak diperbaiki.")
    await h.send(siti, "kemarin")
    await tap(h, siti, "Anonim")
    await h.send_location(siti, SITI.latitude, SITI.longitude)
    await h.send_photo(siti, media_group_id="form-album")
    await h.send_photo(siti, media_group_id="form-album")
    await h.send_document(siti, KTP, mime_type="image/jpeg", content=jpeg_with_exif())
    await h.send_document(siti, LETTER, content=pdf_with_author())
    await tap(h, siti, "Selesai")
    await tap(h, siti, "Kirim")
    await drain(h)

    await tap(h, admin, "Buka")
    await tap(h, admin, "Dinas Alpha")
    await drain(h)
    rid = (await report(h, 1)).id

    # The question, the answer with an album, a phone number sent later (declined), an
    # addition with a named PDF (confirmed), and one from /laporan with her exact point.
    await tap(h, o1, "Minta info")
    await h.send(o1, "Di titik mana tepatnya?")
    await drain(h)
    await h.send_photo(siti, media_group_id="answer-album", caption="Di sini, dekat warung")
    await h.send_photo(siti, media_group_id="answer-album")
    await h.send(siti, f"Kalau perlu hubungi saya {SITI.phone}")
    await tap(h, siti, "Tidak")
    await h.send_document(siti, PROOF, content=pdf_with_author())
    await tap(h, siti, "Ya, tambahkan")
    await h.send(siti, "/laporan")
    await tap(h, siti, "LPR-")
    await tap(h, siti, "Tambah informasi")
    await h.send_location(siti, SITI.latitude, SITI.longitude)
    await drain(h)

    # The officer opens it from /kotak and mutes her further messages (an audit entry).
    await h.send(o1, "/kotak")
    await tap(h, o1, "LPR-")
    await tap(h, o1, "Bisukan")
    await drain(h)

    # From here on the admins' chat gets nothing that may name her: jobs, statistics, exports.
    admin_from = len(h.requests)
    r = await report(h, rid)
    assert r.followup_due is not None
    late = r.followup_due + timedelta(days=10)
    ctx = JobContext(h.app.session_factory, h.app.settings, h.app.calendar, h.app.dp["notifier"],
                     datetime.combine(late, time(9), tzinfo=h.app.calendar.tz))
    assert await send_reminders(ctx, late) >= 2
    assert await send_escalations(ctx, late) >= 1
    submitted = h.app.calendar.local_date(r.submitted_at)
    monday = submitted + timedelta(days=7 - submitted.weekday())
    assert await send_weekly_summary(ctx.at(datetime.combine(monday, time(9), tzinfo=h.app.calendar.tz)))
    await drain(h)
    await h.send(admin, "/statistik")
    await h.send(admin, "/audit")
    await h.send(admin, f"/ekspor {submitted.year} csv")
    await h.send(admin, f"/ekspor {submitted.year} xlsx")
    await drain(h)
    # The reporter withdraws it (the admins and the agency are told): the last line in the
    # topic, and the topic closed.
    await h.send(siti, "/laporan")
    await tap(h, siti, "LPR-")
    await tap(h, siti, "Tarik laporan")
    await h.send(siti, "Sudah diperbaiki warga sendiri")
    await tap(h, siti, "Ya, tarik")
    await drain(h)
    return rid, admin_from


def _scan(h: Harness, admin_from: int, logs: list[logging.LogRecord]) -> Scan:
    scan = Scan(SITI, known_files=h.telegram.files, known_names=h.telegram.file_names)
    scan.requests(r for r in h.requests if getattr(r, "chat_id", None) in (O1, O2, FORUM))
    scan.requests(r for r in h.requests[admin_from:] if getattr(r, "chat_id", None) == ADMIN)
    for record in logs:
        scan.text(f"log {record.name}", record.getMessage())
    return scan


def _officer(h: Harness) -> list:
    return [r for r in h.requests if getattr(r, "chat_id", None) in (O1, O2)]


async def test_no_identifier_of_an_anonymous_reporter_reaches_the_agency(tmp_path, caplog):
    caplog.set_level(logging.INFO)
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        _rid, admin_from = await _file_and_follow(h)
        scan = _scan(h, admin_from, caplog.records)
        officer = _officer(h)
        admin_texts = " ".join(getattr(r, "text", None) or getattr(r, "caption", None) or ""
                               for r in h.requests[admin_from:])
        # Every path was really taken (or the scan would pass vacuously).
        texts = " ".join(getattr(r, "text", "") or "" for r in officer)
        assert "Laporan baru untuk Dinas Alpha" in texts  # the card
        assert "menjawab pertanyaan" in texts and "menambahkan informasi" in texts  # answer, additions
        assert "Di sini, dekat warung" in repr(officer)  # the album's caption text... as our own
        assert sum(isinstance(r, SendMediaGroup) for r in officer) >= 2  # the form's and the answer's albums
        assert any(isinstance(r, SendDocument) for r in officer) and any(isinstance(r, SendPhoto) for r in officer)
        assert sum(isinstance(r, SendLocation) for r in officer) >= 4  # the card's and the addition's pins
        assert len(h.telegram.uploads) >= 8  # cleaned files
        assert "Pengingat" in texts or "reminder" in texts.lower()
        assert SITI.phone not in texts  # declined: never relayed
        for word in ("Tunggakan", "Ringkasan mingguan", "Statistik", "Tindakan admin terbaru",
                     "membisukan pesan pelapor"):
            assert word.lower() in admin_texts.lower(), word
        assert sum(isinstance(r, SendDocument) for r in h.requests[admin_from:]) >= 2  # the exports
        # The group's topic got the same: the card with its files and pin, the additions, the
        # overdue list, the last line and the close.
        group = [r for r in h.requests if getattr(r, "chat_id", None) == FORUM]
        thread = next(r for r in group if isinstance(r, CreateForumTopic))
        group_texts = " ".join(getattr(r, "text", "") or "" for r in group)
        for word in ("Laporan baru untuk Dinas Alpha", "menambahkan informasi", "lewat tenggat", "🔒"):
            assert word in group_texts, word
        assert any(isinstance(r, SendMediaGroup) for r in group) and any(isinstance(r, SendLocation) for r in group)
        assert any(isinstance(r, CloseForumTopic) for r in group) and thread.name.startswith("LPR-")
        assert scan.scanned > 150
        assert scan.leaks == [], scan.report()


@pytest.mark.parametrize("removed", ["file cleaning", "coarse location"])
async def test_the_scan_fails_when_a_protection_is_removed(tmp_path, caplog, monkeypatch, removed):
    if removed == "file cleaning":
        monkeypatch.setattr("bot.services.file_cleaning.must_clean_files", lambda privacy: False)
    else:
        monkeypatch.setattr("bot.services.intake.Draft.protect_anonymity", lambda self: False)
        monkeypatch.setattr("bot.services.casework.reporter.protect_location", lambda privacy, lat, lon: (lat, lon))
    caplog.set_level(logging.INFO)
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        _rid, admin_from = await _file_and_follow(h)
        scan = _scan(h, admin_from, caplog.records)
    found = {leak.what for leak in scan.leaks}
    in_group = {leak.what for leak in scan.leaks if f"to {FORUM}" in leak.where}
    if removed == "file cleaning":
        assert f"file name {KTP}" in found and f"embedded {ARTIST}" in found, scan.report()
        assert f"file name {KTP}" in in_group, scan.report()  # the group's topic is scanned too
    else:
        assert "exact point" in found and "exact point" in in_group, scan.report()
