"""/statistik's months counted once (bot.services.statistics.StatsCache): after random changes to
reports of any month (re-routing, closing, reopening, rejecting, a new category, a rating, the
LAPOR! number, a new report) the cached figures equal a count from scratch; an
unchanged month is not counted again; a write committed a while after its stamp is still seen.
On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.domain.enums import ReportStatus
from bot.domain.workdays import WorkCalendar
from bot.services.statistics import COMMIT_MARGIN, StatsCache, warm_statistics, year_statistics
from storage.base import utcnow
from storage.models import Agency, Report
from storage.repositories.cases import CaseRepo
from storage.repositories.stats import StatsRepo
from tests.stats_oracle import store_facts
from tests.storage.test_stats_equivalence import seed_random

S = ReportStatus
CAL = WorkCalendar("Asia/Makassar", [date(2024, 4, 8)])
# Closed and rejected only from here: a report rejected or archived by the seed keeps its event.
OPEN = (S.SUBMITTED, S.ASSIGNED, S.IN_PROGRESS, S.RETURNED)
VIEWS = [(2024, date(2024, 6, 14)), (2024, date(2025, 2, 3)), (2023, date(2025, 2, 3)), (2025, date(2025, 3, 31))]


async def _change_some(session, rng: random.Random, n: int) -> None:
    """What casework does to reports, through the ORM and through conditional UPDATEs."""
    reports = (await session.scalars(select(Report).order_by(Report.id))).all()
    agencies = [a.id for a in (await session.scalars(select(Agency))).all()]
    for r in rng.sample(list(reports), n):
        action = rng.choice(["reroute", "close", "reopen", "reject", "category", "rating", "lapor"])
        if action == "reroute":  # pelimpahan, as the guarded status change writes it
            await CaseRepo(session).change_status(r.id, expected_status=r.status, values={
                "agency_id": rng.choice(agencies), "updated_at": r.updated_at})
            continue
        # As the services do (the oracle dates an end without an event by it).
        r.updated_at = r.submitted_at + timedelta(days=20)
        if action == "close" and r.status in OPEN:
            r.status, r.answered_at = S.CLOSED.value, r.answered_at or r.submitted_at + timedelta(days=3)
            r.closed_at, r.rating = r.submitted_at + timedelta(days=9), rng.randint(1, 5)
        elif action == "reopen" and r.status == S.CLOSED:
            r.status, r.closed_at, r.reopened_count = S.IN_PROGRESS.value, None, r.reopened_count + 1
        elif action == "reject" and r.status in OPEN:
            r.status = S.REJECTED.value
        elif action == "category":
            r.category_id = None
        elif action == "rating":
            r.rating = rng.randint(1, 5)
        elif action == "lapor" and r.lapor_id is None:
            r.lapor_id = f"LAPOR-{r.id}"
        store_facts(r, CAL)
    session.add(Report(tracking_id=f"LPR-NEW{len(reports)}", citizen_id=reports[0].citizen_id,
                       classification="complaint", title="t", body="b", privacy="public", status="submitted",
                       submitted_at=datetime(2024, 7, 2, 3, tzinfo=UTC)))
    await session.commit()


async def _assert_views(session, cache: StatsCache) -> None:
    """Cached equals counted from scratch (which tests/storage/test_stats_equivalence.py holds
    equal to the oracle; the oracle itself is compared in test_stats_stored_facts.py after real
    casework, where the mutations are consistent by construction)."""
    for year, today in VIEWS:
        cached = await year_statistics(session, year, CAL, today, cache=cache)
        assert cached == await year_statistics(session, year, CAL, today), (year, today)


async def test_cached_months_follow_every_change(session):
    """Every change falls within the margin: found by the writes read, not by their age."""
    await seed_random(session, CAL, random.Random(11), n=300)
    cache = StatsCache(margin=COMMIT_MARGIN)
    await _assert_views(session, cache)
    rng = random.Random(5)
    for _round in range(4):
        await _change_some(session, rng, 25)
        await _assert_views(session, cache)


def _spy(monkeypatch, counted: list[tuple[str, int]]) -> None:
    def spying(name: str, real):
        def spy(self, periods, *args, **kw):
            counted.append((name, len(periods)))
            return real(self, periods, *args, **kw)
        return spy

    for name in ("cohort", "backlog_by_period"):
        monkeypatch.setattr(StatsRepo, name, spying(name, getattr(StatsRepo, name)))


async def _first_report_from(session, when: datetime) -> int:
    return await session.scalar(select(Report.id).where(Report.submitted_at >= when)
                                .order_by(Report.submitted_at).limit(1))


async def test_only_the_changed_month_is_counted_again(session, monkeypatch):
    """Cohort and backlog: a write counts its month again, once; then (the write read) not again,
    even while it is younger than the margin."""
    await seed_random(session, CAL, random.Random(12), n=200)
    counted: list[tuple[str, int]] = []
    _spy(monkeypatch, counted)
    cache = StatsCache(margin=COMMIT_MARGIN)
    months = ("cohort", 12), ("backlog_by_period", 14)
    await year_statistics(session, 2024, CAL, date(2025, 2, 3), cache=cache)
    assert counted == [*months]  # the backlog: 2023-11 .. 2024-12
    await year_statistics(session, 2024, CAL, date(2025, 2, 3), cache=cache)
    assert counted == [*months]  # nothing changed: nothing counted
    march = await _first_report_from(session, datetime(2024, 3, 5, tzinfo=UTC))
    await session.execute(update(Report).where(Report.id == march).values(rating=5))
    await session.commit()
    await year_statistics(session, 2024, CAL, date(2025, 2, 3), cache=cache)
    one_month = ("cohort", 1), ("backlog_by_period", 1)
    assert counted == [*months, *one_month]
    await year_statistics(session, 2024, CAL, date(2025, 2, 3), cache=cache)
    assert counted == [*months, *one_month]


async def test_a_write_committed_late_or_written_again_is_seen(session):
    """A report written before the count but committed after it carries a stamp older than the
    count: the margin makes the month count again."""
    await seed_random(session, CAL, random.Random(13), n=100)
    for margin, seen in [(timedelta(minutes=30), True), (timedelta(0), False)]:
        cache = StatsCache(margin=margin)
        before = await year_statistics(session, 2024, CAL, date(2025, 2, 3), cache=cache)
        report = await session.scalar(select(Report).where(Report.submitted_at >= datetime(2024, 2, 1, tzinfo=UTC),
                                                           Report.submitted_at < datetime(2025, 1, 1, tzinfo=UTC),
                                                           Report.lapor_id.is_(None))
                                      .order_by(Report.id).limit(1))
        await session.execute(update(Report).where(Report.id == report.id).values(
            lapor_id=f"LATE-{margin.seconds}", changed_at=utcnow() - timedelta(minutes=10)))
        await session.commit()
        after = await year_statistics(session, 2024, CAL, date(2025, 2, 3), cache=cache)
        assert (after.total.forwarded == before.total.forwarded + 1) is seen

    # A report whose earlier write the cache has read already (its month counted after it) is
    # written again: its new stamp tells, though no new report joined the writes read. The second
    # cache reads too many writes to keep them: it counts every month every time.
    caches = StatsCache(), StatsCache(max_writes=0)
    march = await _first_report_from(session, datetime(2024, 3, 5, tzinfo=UTC))
    await session.execute(update(Report).where(Report.id == march).values(rating=1))
    await session.commit()
    first = [await year_statistics(session, 2024, CAL, date(2025, 2, 3), cache=c) for c in caches]
    await session.execute(update(Report).where(Report.id == march).values(rating=5))
    await session.commit()
    fresh = await year_statistics(session, 2024, CAL, date(2025, 2, 3))
    assert fresh.total.rating_sum == first[0].total.rating_sum + 4
    for cache in caches:
        assert await year_statistics(session, 2024, CAL, date(2025, 2, 3), cache=cache) == fresh


async def test_the_running_year_is_counted_ahead_once_started_and_not_when_stopping(engine, monkeypatch):
    factory = async_sessionmaker(engine, expire_on_commit=False)
    async with factory() as session:
        await seed_random(session, CAL, random.Random(13), n=60)
        await session.commit()
    counted: list[tuple[str, int]] = []
    _spy(monkeypatch, counted)
    cache = StatsCache()
    stopping = asyncio.Event()
    stopping.set()
    await warm_statistics(factory, CAL, cache, stopping, after=30)
    assert counted == [] and cache.months_kept() == 0
    await warm_statistics(factory, CAL, cache, asyncio.Event(), after=0)
    warmed = list(counted)
    assert ("cohort", 12) in warmed
    async with factory() as session:  # the admin's first /statistik after the start
        cached = await year_statistics(session, CAL.today().year, CAL, cache=cache)
        assert counted == warmed  # nothing counted again
        assert cached == await year_statistics(session, CAL.today().year, CAL)
