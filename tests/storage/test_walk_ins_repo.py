"""Walk-in claim codes and the erasure of walk-ins' personal data, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage.models import Citizen, Report, WalkIn
from storage.repositories.walk_ins import WalkInRepo

NOW = datetime(2024, 5, 21, 3, tzinfo=UTC)


async def _walk_in(session, n: int, *, status: str = "submitted", updated: datetime = NOW,
                   expires: datetime = NOW + timedelta(days=30)) -> WalkIn:
    report = Report(tracking_id=f"LPR-WALK-{n:04d}", citizen_id=None, channel="counter", classification="complaint",
                    title="Lampu mati", body="Lampu jalan mati.", privacy="public", status=status, submitted_at=NOW,
                    updated_at=updated)
    session.add(report)
    await session.flush()
    return await WalkInRepo(session).add(WalkIn(report_id=report.id, name="Siti", phone="0812", code_hash=f"h{n}",
                                                code_expires_at=expires, created_at=NOW))


async def test_a_code_is_claimed_once_and_not_after_it_expired(session):
    a, b = Citizen(telegram_id=1), Citizen(telegram_id=2)
    session.add_all([a, b])
    await session.flush()
    fresh = await _walk_in(session, 1)
    stale = await _walk_in(session, 2, expires=NOW - timedelta(seconds=1))
    repo = WalkInRepo(session)
    assert (await repo.by_code_hash("h1")).id == fresh.id
    assert await repo.claim(fresh.id, a.id, NOW)
    assert not await repo.claim(fresh.id, b.id, NOW)  # used
    assert not await repo.claim(stale.id, b.id, NOW)  # expired
    await session.commit()
    await session.refresh(fresh)
    assert fresh.claimed_by_id == a.id


async def test_personal_data_is_erased_only_once_finished_long_enough(session):
    old = await _walk_in(session, 1, status="closed", updated=NOW - timedelta(days=91))
    recent = await _walk_in(session, 2, status="closed", updated=NOW - timedelta(days=10))
    open_ = await _walk_in(session, 3, status="in_progress", updated=NOW - timedelta(days=400))
    repo = WalkInRepo(session)
    erased = await repo.erase_personal_data(finished_statuses=["closed", "rejected"],
                                            finished_before=NOW - timedelta(days=90), now=NOW)
    await session.commit()
    assert erased == 1
    for row, gone in ((old, True), (recent, False), (open_, False)):
        await session.refresh(row)
        assert (row.name is None and row.phone is None) is gone
