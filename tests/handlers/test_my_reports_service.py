"""bot.services.my_reports on SQLite and PostgreSQL: owner-scoped lookups, paging, deadlines."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.domain.tracking import new_tracking_id
from bot.services.my_reports import (
    DeadlineKind,
    find_my_report,
    list_my_reports,
    next_deadline,
    open_my_report,
)
from storage.models import Agency, Citizen, Report, ReportEvent
from storage.repositories.reports import ReportRepo

T0 = datetime(2024, 5, 21, 1, 30, tzinfo=UTC)


async def _setup(session):
    alice, bob = Citizen(telegram_id=1), Citizen(telegram_id=2)
    agency = Agency(name="Kecamatan Waru", kind="kecamatan")
    session.add_all([alice, bob, agency])
    await session.flush()
    reports = [
        Report(
            tracking_id=new_tracking_id(),
            citizen_id=alice.id,
            classification="complaint",
            title=f"A{i}",
            body="b",
            privacy="public",
            status="submitted",
            submitted_at=T0 + timedelta(minutes=i),
        )
        for i in range(7)
    ]
    bobs = Report(
        tracking_id=new_tracking_id(),
        citizen_id=bob.id,
        classification="aspiration",
        title="B",
        body="b",
        privacy="public",
        status="assigned",
        agency_id=agency.id,
        submitted_at=T0,
    )
    session.add_all([*reports, bobs])
    await session.flush()
    session.add(
        ReportEvent(
            report_id=bobs.id,
            actor_role="admin",
            kind="assigned",
            agency_id=agency.id,
            to_status="assigned",
        )
    )
    await session.commit()
    return alice, bob, agency, reports, bobs


async def test_lookups_are_scoped_to_the_owner(session):
    alice, bob, agency, reports, bobs = await _setup(session)
    assert await open_my_report(session, alice.id, bobs.id) is None
    assert await find_my_report(session, alice.id, bobs.tracking_id) is None

    view = await find_my_report(session, bob.id, bobs.tracking_id)
    assert view is not None and view.report.id == bobs.id
    assert [e.kind for e in view.events] == ["assigned"]
    assert view.attachments == []
    assert view.agency_names == {agency.id: "Kecamatan Waru"}
    assert (await open_my_report(session, bob.id, bobs.id)).report.tracking_id == bobs.tracking_id


async def test_get_for_citizen_wants_exactly_one_key(session):
    with pytest.raises(ValueError):
        await ReportRepo(session).get_for_citizen(1)
    with pytest.raises(ValueError):
        await ReportRepo(session).get_for_citizen(1, report_id=1, tracking_id="LPR-X")


async def test_pages_are_newest_first_and_clamped(session):
    alice, bob, _agency, reports, _bobs = await _setup(session)
    first = await list_my_reports(session, alice.id, 0, page_size=5)
    assert (first.total, first.pages, first.page) == (7, 2, 0)
    assert [r.title for r in first.reports] == ["A6", "A5", "A4", "A3", "A2"]
    last = await list_my_reports(session, alice.id, 42, page_size=5)
    assert last.page == 1 and [r.title for r in last.reports] == ["A1", "A0"]
    assert (await list_my_reports(session, alice.id, -3, page_size=5)).page == 0
    empty = await list_my_reports(session, 999_999)
    assert (empty.total, empty.pages, empty.reports) == (0, 1, [])


@pytest.mark.parametrize(
    ("status", "field", "kind"),
    [
        ("submitted", "verify_due", DeadlineKind.VERIFY),
        ("returned", "verify_due", DeadlineKind.VERIFY),
        ("in_progress", "followup_due", DeadlineKind.FOLLOWUP),
        ("awaiting_reporter", "followup_due", DeadlineKind.FOLLOWUP),
        ("answered", "reply_due", DeadlineKind.REPLY),
    ],
)
def test_next_deadline_follows_the_status(status, field, kind):
    report = Report(
        status=status,
        verify_due=date(2024, 1, 1),
        followup_due=date(2024, 2, 2),
        reply_due=date(2024, 3, 3),
    )
    assert next_deadline(report) == (kind, getattr(report, field))


def test_finished_reports_have_no_deadline():
    for status in ("closed", "rejected", "archived"):
        assert next_deadline(Report(status=status, verify_due=date(2024, 1, 1))) is None
    assert next_deadline(Report(status="submitted", verify_due=None)) is None
