"""ReportRepo on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from storage.models import Attachment, Citizen, Report, ReportEvent
from storage.repositories.reports import ReportRepo


def _report(citizen_id: int, tracking_id: str, submitted_at: datetime) -> Report:
    return Report(
        tracking_id=tracking_id,
        citizen_id=citizen_id,
        classification="complaint",
        title="Jalan rusak",
        body="Jalan di depan pasar berlubang besar sejak bulan lalu.",
        privacy="public",
        status="submitted",
        submitted_at=submitted_at,
    )


async def _citizen(session, telegram_id: int) -> Citizen:
    c = Citizen(telegram_id=telegram_id)
    session.add(c)
    await session.flush()
    return c


async def test_add_and_find_by_tracking_id_with_details(session):
    repo = ReportRepo(session)
    c = await _citizen(session, 1)
    r = await repo.add(_report(c.id, "LPR-AAAA-AAAA", datetime(2024, 5, 21, 3, tzinfo=UTC)))
    await repo.add_attachment(Attachment(report_id=r.id, file_id="f", file_unique_id="u", kind="photo"))
    await repo.add_event(ReportEvent(report_id=r.id, actor_role="citizen", kind="submitted"))
    await session.commit()
    session.expunge_all()

    found = await repo.by_tracking_id("LPR-AAAA-AAAA", with_details=True)
    assert found is not None and found.id == r.id
    assert [a.file_id for a in found.attachments] == ["f"]
    assert [e.kind for e in found.events] == ["submitted"]
    assert await repo.by_tracking_id("LPR-BBBB-BBBB") is None
    assert await repo.tracking_id_taken("LPR-AAAA-AAAA")
    assert not await repo.tracking_id_taken("LPR-BBBB-BBBB")


async def test_tracking_id_is_unique(session):
    repo = ReportRepo(session)
    c = await _citizen(session, 1)
    now = datetime(2024, 5, 21, tzinfo=UTC)
    await repo.add(_report(c.id, "LPR-AAAA-AAAA", now))
    with pytest.raises(IntegrityError):
        await repo.add(_report(c.id, "LPR-AAAA-AAAA", now))


async def test_list_by_citizen_is_newest_first_and_paged(session):
    repo = ReportRepo(session)
    alice = await _citizen(session, 1)
    bob = await _citizen(session, 2)
    base = datetime(2024, 5, 1, tzinfo=UTC)
    for i in range(5):
        await repo.add(_report(alice.id, f"LPR-A{i}", base + timedelta(days=i)))
    await repo.add(_report(bob.id, "LPR-B0", base))
    await session.commit()

    first = await repo.list_by_citizen(alice.id, limit=2)
    second = await repo.list_by_citizen(alice.id, offset=2, limit=2)
    assert [r.tracking_id for r in first] == ["LPR-A4", "LPR-A3"]
    assert [r.tracking_id for r in second] == ["LPR-A2", "LPR-A1"]
    assert await repo.count_by_citizen(alice.id) == 5
    assert await repo.count_by_citizen(bob.id) == 1
