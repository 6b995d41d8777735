"""The reporter's rules at the service level, on both databases: a handler is one forged
callback away, so the use case itself must refuse a stranger and a late dispute."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.domain.access import Reason, Refused
from bot.services.casework import reporter
from storage.models import Agency, Citizen, Report, ReportEvent
from tests.actors import as_citizen, make_casework

# Monday 6 May 2024, 10:00 WITA.
NOW = datetime(2024, 5, 6, 2, 0, tzinfo=UTC)
TODAY = date(2024, 5, 6)


async def _answered(session_factory, *, reply_due: date) -> tuple[int, Citizen, Citizen]:
    """An answered report of ``owner``, and a ``stranger`` who knows its id."""
    async with session_factory() as s:
        agency = Agency(name="Dinas Alpha", kind="opd")
        owner = Citizen(telegram_id=1, first_name="Owner")
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


async def test_a_stranger_cannot_rate_someone_elses_answer(session_factory):
    rid, _owner, stranger = await _answered(session_factory, reply_due=date(2024, 5, 20))
    async with session_factory() as s:
        with pytest.raises(Refused) as refused:
            await reporter.accept_answer(s, make_casework(), as_citizen(stranger), rid, 1, NOW)
    assert refused.value.reason == Reason.FORBIDDEN
    await _unchanged(session_factory, rid)


async def test_a_stranger_cannot_dispute_someone_elses_answer(session_factory):
    rid, _owner, stranger = await _answered(session_factory, reply_due=date(2024, 5, 20))
    async with session_factory() as s:
        with pytest.raises(Refused) as refused:
            await reporter.dispute_answer(s, make_casework(), as_citizen(stranger), rid, "Belum diperbaiki", NOW)
    assert refused.value.reason == Reason.FORBIDDEN
    await _unchanged(session_factory, rid)


async def test_a_rating_after_the_reply_window_is_refused(session_factory):
    rid, owner, _stranger = await _answered(session_factory, reply_due=date(2024, 5, 3))
    async with session_factory() as s:
        with pytest.raises(Refused) as refused:
            await reporter.accept_answer(s, make_casework(), as_citizen(owner), rid, 5, NOW)
    assert refused.value.reason == Reason.TOO_LATE
    await _unchanged(session_factory, rid)


async def test_a_dispute_after_the_reply_window_is_refused(session_factory):
    # The window ended on Friday 3 May; on Monday the answer stands (auto-close will close it).
    rid, owner, _stranger = await _answered(session_factory, reply_due=date(2024, 5, 3))
    async with session_factory() as s:
        with pytest.raises(Refused) as refused:
            await reporter.dispute_answer(s, make_casework(), as_citizen(owner), rid, "Belum diperbaiki", NOW)
    assert refused.value.reason == Reason.TOO_LATE
    await _unchanged(session_factory, rid)


async def test_a_dispute_on_the_last_day_of_the_window_reopens(session_factory):
    rid, owner, _stranger = await _answered(session_factory, reply_due=TODAY)
    async with session_factory() as s:
        report = await reporter.dispute_answer(s, make_casework(), as_citizen(owner), rid, "Belum diperbaiki", NOW)
    assert report.status == "in_progress" and report.reopened_count == 1
