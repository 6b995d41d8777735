"""The SP4N-LAPOR! tracking number: the admin card's button shows LAPOR!'s form and takes the
number, ``/lapor_id`` records it too; the citizen is told with a link and sees it in /laporan;
statistics count the forwarded reports; only admins may record one."""

from __future__ import annotations

from sqlalchemy import select

from bot.domain.tracking import new_tracking_id
from bot.services.lapor import LaporForm, Submission
from bot.services.statistics import year_statistics
from bot.ui.case_extras import LaporCb
from storage.models import AuditLog, ReportEvent
from tests.handlers.casework_helpers import ADMIN, FAST_DELIVERY, drain, file_report, report, seed, tap
from tests.handlers.harness import Harness
from tests.handlers.intake_helpers import limit_violations

REPORTER, OTHER = 5551, 5552
URL = "https://www.lapor.go.id/pengaduan/1916449"


async def _filed(h: Harness, privacy: str = "public") -> tuple[dict[str, int], int]:
    ids = await seed(h, reporter_id=REPORTER, officers={})
    filed = await file_report(h, REPORTER, agency_id=ids["A"], privacy=privacy)
    await drain(h)
    return ids, filed.id


async def test_the_card_button_shows_lapors_form_and_records_the_number(tmp_path):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        _ids, rid = await _filed(h)
        admin = h.user(ADMIN, "Admin")
        await tap(h, admin, "Buka")
        mark = h.mark()
        await tap(h, admin, "SP4N-LAPOR!")
        shown = "\n".join(r.text for r in h.since(mark) if getattr(r, "text", None))
        # LAPOR!'s field names, each value ready to copy.
        for field in ("Judul:", "Isi Laporan:", "Tanggal Kejadian:", "Lokasi:", "Instansi Tujuan:", "Anonim:"):
            assert field in shown
        assert "<code>Jalan berlubang besar</code>" in shown and "Zenobia" not in shown
        await h.send(admin, "bukan nomor")
        assert "bukan nomor pelacakan" in h.last_text(ADMIN)
        assert (await report(h, rid)).lapor_id is None
        await h.send(admin, "#1916449")
        stored = await report(h, rid)
        assert stored.lapor_id == "1916449" and stored.lapor_recorded_at is not None
        assert "1916449" in h.last_text(ADMIN)
        await drain(h)
        # The reporter (English) is told, with the link to the report's page on lapor.go.id.
        told = h.last_text(REPORTER)
        assert "SP4N-LAPOR!" in told and f'href="{URL}"' in told
        async with h.app.session_factory() as s:
            event = await s.scalar(select(ReportEvent).where(ReportEvent.kind == "lapor_recorded"))
            audit = await s.scalar(select(AuditLog).where(AuditLog.action == "lapor_id"))
        assert event.note == "1916449" and audit.detail["lapor_id"] == "1916449"
        # /laporan shows it with the link.
        citizen = h.user(REPORTER, "Zenobia")
        await h.send(citizen, f"/status {stored.tracking_id}")
        assert f'<a href="{URL}">1916449</a>' in h.last_text(REPORTER)
        # Statistics count it as entered into SP4N-LAPOR!.
        async with h.app.session_factory() as s:
            stats = await year_statistics(s, stored.submitted_at.year, h.app.calendar)
        assert stats.total.forwarded == 1
        assert limit_violations(h) == []


async def test_lapor_id_command_and_a_number_used_twice(tmp_path):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        ids, rid = await _filed(h)
        other = await file_report(h, REPORTER, agency_id=ids["B"])
        admin = h.user(ADMIN, "Admin")
        tracking = (await report(h, rid)).tracking_id
        await h.send(admin, f"/lapor_id {tracking.lower()} 1916449")
        assert (await report(h, rid)).lapor_id == "1916449"
        await h.send(admin, f"/lapor_id {other.tracking_id} 1916449")
        assert tracking in h.last_text(ADMIN) and (await report(h, other.id)).lapor_id is None
        await h.send(admin, "/lapor_id")
        assert "/lapor_id LPR-XXXX-XXXX" in h.last_text(ADMIN)
        await h.send(admin, f"/lapor_id {new_tracking_id()} 1916450")  # well-formed, but no such report
        assert "Tidak ada laporan" in h.last_text(ADMIN)
        # Correcting the number is recording another one.
        await h.send(admin, f"/lapor_id {tracking} 1916451")
        assert (await report(h, rid)).lapor_id == "1916451"


async def test_only_an_admin_may_record_a_number(tmp_path):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        _ids, rid = await _filed(h)
        citizen = h.user(REPORTER, "Zenobia")
        cq = await h.press(citizen, 1, LaporCb(report_id=rid).pack())
        assert h.answered(cq).show_alert
        tracking = (await report(h, rid)).tracking_id
        await h.send(citizen, f"/lapor_id {tracking} 1916449")
        assert (await report(h, rid)).lapor_id is None


async def test_an_automatic_connector_records_the_number_without_asking(tmp_path):
    class FakeLapor:
        def __init__(self) -> None:
            self.forms: list[LaporForm] = []

        async def submit(self, form: LaporForm) -> Submission:
            self.forms.append(form)
            return Submission(lapor_id="2000001")

        async def fetch_status(self, lapor_id: str):
            return None

    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        fake = FakeLapor()
        h.app.dp["lapor_connector"] = fake
        _ids, rid = await _filed(h, privacy="anonymous")
        admin = h.user(ADMIN, "Admin")
        await tap(h, admin, "Buka")
        await tap(h, admin, "SP4N-LAPOR!")
        assert (await report(h, rid)).lapor_id == "2000001"
        form = fake.forms[0]
        assert form.anonim == "Ya" and form.instansi_tujuan == "Dinas Alpha"
        assert "Zenobia" not in repr(form) and "zq_secret_handle" not in repr(form)

