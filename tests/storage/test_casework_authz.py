"""The reporter's rules at the service level, on both databases: a handler is one forged
callback away, so the use case itself must refuse a stranger, and a rating or a dispute after
the 10-working-day reply window. The same for the admin's category and SP4N-LAPOR! number."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from bot.domain.access import Reason, Refused
from bot.services import categories, lapor
from bot.services.casework import reporter
from storage.models import Agency, Category, Citizen, Outbox, Report, ReportEvent
from tests.actors import as_admin, as_citizen, as_officer, make_casework

# Monday 6 May 2024, 10:00 WITA.
NOW = datetime(2024, 5, 6, 2, 0, tzinfo=UTC)
TODAY = date(2024, 5, 6)


async def _answered(session_factory, *, reply_due: date) -> tuple[int, Citizen, Citizen]:
    """An answered report of ``owner``, and a ``stranger`` who knows its id."""
    async with session_factory() as s:
        agency = Agency(name="Dinas Alpha", kind="opd")
        # Agreed to the notice: a citizen without consent is told nothing (recipients.reporter_of).
        owner = Citizen(telegram_id=1, first_name="Owner", consent_at=datetime(2024, 1, 2, tzinfo=UTC))
        stranger = Citizen(telegram_id=2, first_name="Stranger")
        s.add_all([agency, owner, stranger])
        await s.flush()
        report = Report(tracking_id="LPR-AAAA-BBBB", citizen_id=owner.id, classification="complaint",
                        title="Judul", body="Isi laporan yang cukup panjang", privacy="public",
                        status="answered", agency_id=agency.id, submitted_at=NOW, answered_at=NOW,
                        reply_due=reply_due)
        s.add(report)
        await s.commit()
        return report.id, owner, stranger


async def _unchanged(session_factory, report_id: int) -> None:
    async with session_factory() as s:
        report = await s.get(Report, report_id)
        assert report.status == "answered" and report.rating is None and report.reopened_count == 0
        assert await s.scalar(ReportEvent.__table__.select().where(ReportEvent.report_id == report_id)) is None


# The window ended on Friday 3 May; on Monday the answer stands (the auto-close will close it).
WINDOW_OPEN, WINDOW_PASSED = date(2024, 5, 20), date(2024, 5, 3)
URL = "https://www.lapor.go.id/pengaduan/{number}"


@pytest.mark.parametrize(
    ("who", "action", "reply_due", "reason"),
    [
        ("stranger", "rate", WINDOW_OPEN, Reason.FORBIDDEN),
        ("stranger", "dispute", WINDOW_OPEN, Reason.FORBIDDEN),
        ("owner", "rate", WINDOW_PASSED, Reason.TOO_LATE),
        ("owner", "dispute", WINDOW_PASSED, Reason.TOO_LATE),
    ],
)
async def test_the_answer_is_the_owners_to_rate_or_dispute_within_the_window(
    session_factory, who, action, reply_due, reason
):
    rid, owner, stranger = await _answered(session_factory, reply_due=reply_due)
    actor = as_citizen(owner if who == "owner" else stranger)
    async with session_factory() as s:
        with pytest.raises(Refused) as refused:
            if action == "rate":
                await reporter.accept_answer(s, make_casework(), actor, rid, 1, NOW)
            else:
                await reporter.dispute_answer(s, make_casework(), actor, rid, "Belum diperbaiki", NOW)
    assert refused.value.reason == reason
    await _unchanged(session_factory, rid)


async def test_a_dispute_on_the_last_day_of_the_window_reopens(session_factory):
    rid, owner, _stranger = await _answered(session_factory, reply_due=TODAY)
    async with session_factory() as s:
        report = await reporter.dispute_answer(s, make_casework(), as_citizen(owner), rid, "Belum diperbaiki", NOW)
    assert report.status == "in_progress" and report.reopened_count == 1


# -- the admin's extras on a report (issue 12) ---------------------------------------------------
@pytest.mark.parametrize("who", ["owner", "officer", "stranger"])
async def test_only_an_admin_sets_the_category_or_records_the_lapor_number(session_factory, who):
    """The admin card's buttons are behind the admin audience's filter; the services refuse
    anyone else too, since a forged callback or a command skips no rule here."""
    rid, owner, stranger = await _answered(session_factory, reply_due=WINDOW_OPEN)
    async with session_factory() as s:
        report = await s.get(Report, rid)
        category = Category(code="jalan-rusak", name="Jalan rusak")
        s.add(category)
        await s.commit()
        actor = {"owner": as_citizen(owner), "stranger": as_citizen(stranger),
                 "officer": as_officer(stranger, report.agency_id)}[who]
        category_id = category.id
    async with session_factory() as s:
        with pytest.raises(Refused) as refused:
            await categories.set_report_category(s, actor, rid, category_id, NOW)
        assert refused.value.reason == Reason.FORBIDDEN
        with pytest.raises(Refused) as refused:
            await lapor.record_lapor_id(s, make_casework(), actor, rid, "1916449", NOW, report_url=URL)
        assert refused.value.reason == Reason.FORBIDDEN
    async with session_factory() as s:
        report = await s.get(Report, rid)
        assert report.category_id is None and report.lapor_id is None
        assert await s.scalar(select(func.count()).select_from(Outbox)) == 0


async def test_an_admin_sets_both_in_any_status_and_the_reporter_hears_of_the_number(session_factory):
    rid, owner, _stranger = await _answered(session_factory, reply_due=WINDOW_OPEN)
    async with session_factory() as s:
        admin = Citizen(telegram_id=99, first_name="Admin")
        category = Category(code="jalan-rusak", name="Jalan rusak")
        s.add_all([admin, category])
        await s.commit()
        actor, category_id = as_admin(admin), category.id
    async with session_factory() as s:
        await categories.set_report_category(s, actor, rid, category_id, NOW)
    async with session_factory() as s:
        report = await lapor.record_lapor_id(s, make_casework(), actor, rid, "#1916449", NOW, report_url=URL)
        assert report.lapor_id == "1916449" and report.category_id == category_id
        (told,) = (await s.scalars(select(Outbox))).all()
        assert told.chat_id == owner.telegram_id and "1916449" in told.payload["text"]
