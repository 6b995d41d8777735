"""The reporter's rules at the service level, on both databases: a handler is one forged
callback away, so the use case itself must refuse a stranger, and a rating or a dispute after
the 10-working-day reply window."""

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


# The window ended on Friday 3 May; on Monday the answer stands (the auto-close will close it).
WINDOW_OPEN, WINDOW_PASSED = date(2024, 5, 20), date(2024, 5, 3)


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
