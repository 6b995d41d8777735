"""Issue 13: the completion ceiling by kind of report (14/60/5/5 working days from receipt) is
shown where people look at a report: the officer's card, the admin's card and the citizen's
/laporan view, counted down in working days of the Indonesian calendar, and marked once passed."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from bot.domain.workdays import WorkCalendar
from bot.ui.case_callbacks import OfficerAction, OfficerCb, VerifyAction, VerifyCb
from bot.ui.citizen_callbacks import OpenMyReportCb
from bot.ui.formatting import long_date, short_date
from storage.models import Citizen, Report
from tests.handlers.casework_helpers import ADMIN, FAST_DELIVERY, drain, file_report, seed
from tests.handlers.harness import Harness

REPORTER, O1 = 5571, 6671


def _working_days_back(cal: WorkCalendar, d: date, n: int) -> date:
    while n:
        d -= timedelta(days=1)
        n -= cal.is_working_day(d)
    return d


async def _set(h: Harness, report_id: int, **values) -> None:
    async with h.app.session_factory() as s:
        row = await s.get(Report, report_id)
        for k, v in values.items():
            setattr(row, k, v)
        await s.commit()


def _shown_since(h: Harness, chat_id: int, seen: int) -> str:
    return "\n".join(m.text for m in h.sent_to(chat_id)[seen:])


async def _with_agency(h: Harness, report_id: int, agency_id: int, due: date) -> None:
    cal = h.app.calendar
    await _set(h, report_id, status="in_progress", agency_id=agency_id, assigned_at=datetime.now(UTC),
               followup_due=cal.add_working_days(cal.today(), 5), completion_due=due)


async def test_the_officer_card_counts_down_and_marks_a_passed_ceiling(tmp_path):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        ids = await seed(h, reporter_id=REPORTER, officers={O1: "A"})
        filed = await file_report(h, REPORTER, agency_id=ids["A"], with_files=False)
        await drain(h)
        cal, officer = h.app.calendar, h.user(O1, "Officer")
        due = cal.add_working_days(cal.today(), 3)
        await _with_agency(h, filed.id, ids["A"], due)
        await h.press(officer, 1, OfficerCb(a=OfficerAction.OPEN, r=filed.id).pack())
        card = h.last_text(officer)
        assert f"<b>Batas penyelesaian:</b> {short_date(due, 'id')} (3 hari kerja lagi)" in card

        passed = _working_days_back(cal, cal.today(), 2)
        await _set(h, filed.id, completion_due=passed)
        await h.press(officer, 1, OfficerCb(a=OfficerAction.OPEN, r=filed.id).pack())
        card = h.last_text(officer)
        assert (f"<b>Batas penyelesaian:</b> ⚠️ {short_date(passed, 'id')}: sudah terlewati, terlambat 2 hari kerja"
                in card)


async def test_the_admin_card_shows_the_ceiling_while_the_report_waits(tmp_path):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        ids = await seed(h, reporter_id=REPORTER, officers={O1: "A"})
        filed = await file_report(h, REPORTER, agency_id=ids["A"], with_files=False)
        cal, admin = h.app.calendar, h.user(ADMIN, "Admin")
        # As filed: a complaint, 14 working days from its local day of receipt.
        left = cal.working_days_between(cal.today(), filed.completion_due)
        await h.press(admin, 1, VerifyCb(a=VerifyAction.OPEN, r=filed.id).pack())
        card = "\n".join(m.text for m in h.sent_to(ADMIN))
        assert (f"<b>Batas penyelesaian:</b> {short_date(filed.completion_due, 'id')} ({left} hari kerja lagi)"
                in card)
        assert 0 < left <= 14


async def test_the_citizen_sees_it_in_laporan_and_no_countdown_once_answered(tmp_path):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        ids = await seed(h, reporter_id=REPORTER, officers={O1: "A"})
        async with h.app.session_factory() as s:
            (await s.scalar(select(Citizen).where(Citizen.telegram_id == REPORTER))).language = "id"
            await s.commit()
        filed = await file_report(h, REPORTER, agency_id=ids["A"], with_files=False)
        await drain(h)
        cal, reporter = h.app.calendar, h.user(REPORTER, "Zenobia")
        passed = _working_days_back(cal, cal.today(), 1)
        await _with_agency(h, filed.id, ids["A"], passed)
        seen = len(h.sent_to(REPORTER))
        await h.press(reporter, 1, OpenMyReportCb(report_id=filed.id, page=0).pack())
        text = _shown_since(h, REPORTER, seen)
        assert f"<b>Batas penyelesaian:</b> ⚠️ {long_date(passed, 'id')}: sudah terlewati" in text

        # Answered: the agency's part is done; the date stays, the countdown and the warning go.
        await _set(h, filed.id, status="answered", answered_at=datetime.now(UTC))
        seen = len(h.sent_to(REPORTER))
        await h.send(reporter, f"/status {filed.tracking_id}")
        text = _shown_since(h, REPORTER, seen)
        assert f"<b>Batas penyelesaian:</b> {long_date(passed, 'id')}\n" in text
        assert "terlewati" not in text

        # Rejected (or archived, withdrawn): no completion deadline at all.
        await _set(h, filed.id, status="rejected")
        seen = len(h.sent_to(REPORTER))
        await h.send(reporter, f"/status {filed.tracking_id}")
        text = _shown_since(h, REPORTER, seen)
        assert filed.tracking_id in text and "Batas penyelesaian" not in text
