"""The reporter withdraws their own report from its view in /laporan: reason, confirmation,
the agency and the admins told; someone else's report, a forged confirmation and an answered
report are refused."""

from __future__ import annotations

from sqlalchemy import select

from bot.ui.case_callbacks import OfficerAction, OfficerCb
from bot.ui.citizen_callbacks import OpenMyReportCb, WithdrawAction, WithdrawCb
from storage.models import Citizen, ReportEvent
from tests.handlers.casework_helpers import ADMIN, FAST_DELIVERY, drain, file_report, report, seed, tap
from tests.handlers.harness import Harness
from tests.handlers.test_casework_feedback import _assigned

REPORTER, O1, STRANGER = 5551, 6661, 7771


async def _world(h: Harness) -> dict[str, int]:
    ids = await seed(h, reporter_id=REPORTER, officers={O1: "A"})
    async with h.app.session_factory() as s:
        s.add(Citizen(telegram_id=STRANGER, first_name="Stranger", language="en"))
        await s.commit()
    return ids


async def test_the_reporter_withdraws_an_assigned_report_and_the_agency_and_admin_hear_why(tmp_path):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        ids = await _world(h)
        rid = await _assigned(h, ids)
        reporter = h.user(REPORTER, "Zenobia")
        await h.press(reporter, 1, OpenMyReportCb(report_id=rid).pack())
        await tap(h, reporter, "Withdraw this report")
        assert "Why do you want to withdraw" in h.last_text(reporter)
        await h.send(reporter, "Sudah diperbaiki warga sendiri")
        assert "Sudah diperbaiki warga sendiri" in h.last_text(reporter)
        mark = h.mark()
        await tap(h, reporter, "Yes, withdraw it")
        assert "is withdrawn" in h.last_text(reporter)
        assert (await report(h, rid)).status == "withdrawn"
        await drain(h)
        to_officer = h.last_text(O1)
        assert "menarik" in to_officer and "Sudah diperbaiki warga sendiri" in to_officer
        assert "Zenobia" not in to_officer and "zq_secret_handle" not in to_officer
        assert "Sudah diperbaiki warga sendiri" in h.last_text(ADMIN)
        assert h.since(mark)
        async with h.app.session_factory() as s:
            event = await s.scalar(select(ReportEvent).where(ReportEvent.report_id == rid,
                                                             ReportEvent.kind == "withdrawn"))
        assert event is not None and event.note == "Sudah diperbaiki warga sendiri"
        # Nothing more to withdraw, and the officer's buttons are refused now.
        await h.press(reporter, 1, OpenMyReportCb(report_id=rid).pack())
        assert not any("Withdraw" in text for text, _ in h.last(reporter).buttons)
        cq = await h.press(h.user(O1, "Officer6661"), 1, OfficerCb(a=OfficerAction.ANSWER, r=rid).pack())
        assert h.answered(cq).show_alert


async def test_someone_elses_report_cannot_be_withdrawn_by_a_forged_button(tmp_path):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        ids = await _world(h)
        rid = (await file_report(h, REPORTER, agency_id=ids["A"])).id
        stranger = h.user(STRANGER, "Stranger")
        cq = await h.press(stranger, 1, WithdrawCb(action=WithdrawAction.ASK, report_id=rid).pack())
        assert h.answered(cq).show_alert and "cannot act on this report" in h.answered(cq).text
        # A forged confirmation without the reason step is refused, and so is one whose step was
        # for another report.
        cq = await h.press(stranger, 1, WithdrawCb(action=WithdrawAction.CONFIRM, report_id=rid).pack())
        assert h.answered(cq).show_alert
        own = (await file_report(h, STRANGER, agency_id=ids["A"])).id
        await h.press(stranger, 1, WithdrawCb(action=WithdrawAction.ASK, report_id=own).pack())
        await h.send(stranger, "salah kirim")
        cq = await h.press(stranger, 1, WithdrawCb(action=WithdrawAction.CONFIRM, report_id=rid).pack())
        assert h.answered(cq).show_alert
        assert (await report(h, rid)).status == "submitted"
        assert (await report(h, own)).status == "submitted"


async def test_an_answered_report_offers_no_withdrawal_and_refuses_a_forged_one(tmp_path):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        ids = await _world(h)
        rid = await _assigned(h, ids)
        officer = h.user(O1, "Officer6661")
        await h.press(officer, 1, OfficerCb(a=OfficerAction.ANSWER, r=rid).pack())
        await h.send(officer, "Sudah ditambal.")
        await drain(h)
        reporter = h.user(REPORTER, "Zenobia")
        await h.press(reporter, 1, OpenMyReportCb(report_id=rid).pack())
        assert not any("Withdraw" in text for text, _ in h.last(reporter).buttons)
        cq = await h.press(reporter, 1, WithdrawCb(action=WithdrawAction.ASK, report_id=rid).pack())
        assert h.answered(cq).show_alert
        assert (await report(h, rid)).status == "answered"


async def test_keep_it_and_cancel_leave_the_report_open(tmp_path):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        ids = await _world(h)
        rid = (await file_report(h, REPORTER, agency_id=ids["A"])).id
        reporter = h.user(REPORTER, "Zenobia")
        await h.press(reporter, 1, WithdrawCb(action=WithdrawAction.ASK, report_id=rid).pack())
        await h.send_sticker(reporter)
        assert "why you withdraw" in h.last_text(reporter)
        await h.send(reporter, "berubah pikiran")
        await tap(h, reporter, "No, keep it")
        assert (await report(h, rid)).status == "submitted"
        cq = await h.press(reporter, 1, WithdrawCb(action=WithdrawAction.CONFIRM, report_id=rid).pack())
        assert h.answered(cq).show_alert
        await h.press(reporter, 1, WithdrawCb(action=WithdrawAction.ASK, report_id=rid).pack())
        await h.send(reporter, "/batal")
        assert "stays as it is" in h.last_text(reporter)
        assert (await report(h, rid)).status == "submitted"
