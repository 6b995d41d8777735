"""/lapor_untuk: an admin files a walk-in's complaint through the citizens' form; the channel is
recorded, name and phone stay with the admins, and the one-time code makes whoever uses it first
(before it expires) the report's reporter."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from bot.services.statistics import year_statistics
from bot.ui.case_callbacks import VerifyAction, VerifyCb
from bot.ui.walk_in_render import WalkInCb
from storage.models import Citizen, Report, WalkIn
from tests.handlers.casework_helpers import ADMIN, FAST_DELIVERY, drain, report, seed
from tests.handlers.harness import Harness
from tests.handlers.intake_helpers import tap

O1, WARGA, OTHER = 6661, 7101, 7102


async def _file_for_walk_in(h: Harness, *, name: str | None = "Bu Siti Aminah", phone: str | None = "0812 5555 0101"):
    admin = h.user(ADMIN, "Admin")
    await h.send(admin, "/lapor_untuk")
    await tap(h, admin, "Loket")
    if name:
        await h.send(admin, name)
    else:
        await tap(h, admin, "Lewati")
    if phone:
        await h.send(admin, phone)
    else:
        await tap(h, admin, "Lewati")
    assert "seperti yang disampaikan warga (Loket)" in h.last_text(admin)
    await tap(h, admin, "Pengaduan")
    await tap(h, admin, "Tidak tahu")
    await h.send(admin, "Lampu jalan mati di RT 05")
    await h.send(admin, "Lampu jalan di depan rumah nomor 12 mati sejak seminggu, gelap sekali.")
    await tap(h, admin, "Kemarin")
    await tap(h, admin, "Biasa")  # privacy comes before the location and the files
    await h.send(admin, "Jl. Propinsi km 3, Penajam")
    await tap(h, admin, "Lewati")
    await tap(h, admin, "Kirim")
    receipt = h.last_text(admin)
    code = re.search(r"/klaim ([A-Z0-9]{10})", receipt).group(1)
    assert f"t.me/lapor_test_bot?start=claim_{code}" in receipt
    async with h.app.session_factory() as s:
        filed = await s.scalar(select(Report).order_by(Report.id.desc()).limit(1))
    return filed, code


async def test_a_walk_in_complaint_is_filed_claimed_once_and_counted(tmp_path):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        ids = await seed(h, reporter_id=5551, officers={O1: "A"})
        filed, code = await _file_for_walk_in(h)
        assert filed.channel == "counter" and filed.citizen_id is None and filed.status == "submitted"
        # The admin's card shows who it is for; an officer never sees it.
        admin = h.user(ADMIN, "Admin")
        await h.press(admin, 1, VerifyCb(a=VerifyAction.OPEN, r=filed.id).pack())
        assert "Bu Siti Aminah" in h.last_text(admin) and "0812 5555 0101" in h.last_text(admin)
        await h.press(admin, 1, VerifyCb(a=VerifyAction.ASSIGN, r=filed.id, v=str(ids["A"])).pack())
        await drain(h)
        officer_saw = " ".join(m.text or "" for m in h.sent_to(O1))
        assert filed.tracking_id in officer_saw
        assert "Siti" not in officer_saw and "5555" not in officer_saw

        warga = h.user(WARGA, "Siti")
        await h.send_message(warga, text=f"/start claim_{code}")
        assert "sekarang tercatat atas nama Anda" in h.last_text(warga)
        assert (await report(h, filed.id)).citizen_id is not None
        await h.send(warga, "/laporan")
        assert filed.tracking_id in h.last_text(warga)

        # Once only: the same code again, from someone else, is refused.
        other = h.user(OTHER, "Lain")
        await h.send(other, f"/klaim {code}")
        assert "tidak berlaku" in h.last_text(other)
        async with h.app.session_factory() as s:
            reporter = await s.get(Citizen, (await report(h, filed.id)).citizen_id)
        assert reporter.telegram_id == WARGA

        async with h.app.session_factory() as s:
            stats = await year_statistics(s, filed.submitted_at.year, h.app.calendar, h.app.calendar.today())
        assert stats.by_channel == {"counter": 1}


async def test_an_expired_or_made_up_code_is_refused(tmp_path):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        await seed(h, reporter_id=5551, officers={O1: "A"})
        filed, code = await _file_for_walk_in(h, name=None, phone=None)
        async with h.app.session_factory() as s:
            await s.execute(update(WalkIn).values(code_expires_at=datetime.now(UTC) - timedelta(minutes=1)))
            await s.commit()
        warga = h.user(WARGA, "Siti")
        for attempt in (f"/klaim {code}", "/klaim AAAAAAAAAA", "/klaim", "/start claim_x"):
            await h.send(warga, attempt)
            assert "tidak berlaku" in h.last_text(warga) or "Kirim kode" in h.last_text(warga), attempt
        assert (await report(h, filed.id)).citizen_id is None


async def test_only_admins_file_for_others(tmp_path):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        await seed(h, reporter_id=5551, officers={O1: "A"})
        citizen = h.user(5551, "Zenobia")
        await h.send(citizen, "/lapor_untuk")
        assert "atas nama warga" not in h.last_text(citizen) and "on a citizen" not in h.last_text(citizen)
        cq = await h.press(citizen, 1, WalkInCb(step="ch", value="counter").pack())
        assert h.answered(cq).show_alert


async def test_walk_in_personal_data_goes_with_the_closed_reports_retention(tmp_path):
    from bot.jobs.retention import purge
    from tests.schedule_fixtures import job_context

    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        await seed(h, reporter_id=5551, officers={O1: "A"})
        await _file_for_walk_in(h)
        now = datetime.now(UTC)
        days = h.app.settings.privacy.closed_report_days
        ctx = job_context(h.app.session_factory, h.app.settings, h.app.i18n, now)
        await purge(ctx, now.date())
        async with h.app.session_factory() as s:
            assert (await s.scalar(select(WalkIn))).name == "Bu Siti Aminah"  # still open: kept
            await s.execute(update(Report).values(status="closed", closed_at=now - timedelta(days=days + 1),
                                                  updated_at=now - timedelta(days=days + 1)))
            await s.commit()
        await purge(ctx, now.date())
        async with h.app.session_factory() as s:
            row = await s.scalar(select(WalkIn))
        assert row.name is None and row.phone is None and row.personal_erased_at is not None
