"""The SQL statistics (bot/services/statistics.py over the facts stored on each report) equal
the row-by-row Python oracle (tests/stats_oracle.py) on random data: every status, reports near
local midnight and on holidays, cuti bersama from configuration, carried-over backlog,
rejections dated by their events, in Indonesian time zones and one with daylight saving time.
The working days in SQL (storage/localdays.py, which the 1M-report bench fills them with) equal
the calendar's."""

from __future__ import annotations

import random
from dataclasses import asdict, fields
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import case, literal, select, union_all

from bot.domain.enums import ReportStatus
from bot.domain.workdays import WorkCalendar
from bot.jobs.weekly_summary import week_figures
from bot.services.statistics import ENDED_KINDS, Figures, YearStats, year_statistics
from storage.localdays import LocalDays, day_number
from storage.models import Agency, Category, Citizen, Report, ReportEvent
from storage.repositories.stats import StatsRepo
from tests.stats_oracle import compute, store_facts
from tests.stats_oracle import week as oracle_week

S = ReportStatus


def _local(rng: random.Random, cal: WorkCalendar, lo: date, span_days: int) -> datetime:
    """A moment on a random local day, often right at the edges of that day."""
    day = lo + timedelta(days=rng.randrange(span_days))
    at = rng.choice([time(0, 0), time(23, 59, 59, 999999), time(0, 0, 0, 1), time(7, 30),
                     time(rng.randrange(24), rng.randrange(60), rng.randrange(60))])
    return datetime.combine(day, at, cal.tz).astimezone(UTC)


def _later(rng: random.Random, start: datetime, max_days: int = 40) -> datetime:
    return start + timedelta(days=rng.randrange(max_days), seconds=rng.randrange(86400))


async def seed_random(session, cal: WorkCalendar, rng: random.Random, n: int = 250) -> None:
    citizen = Citizen(telegram_id=7001)
    agencies = [Agency(name=f"Dinas {i}", kind="opd") for i in range(3)]
    categories = [Category(code=f"k{i}", name=f"Kategori {i}") for i in range(2)]
    session.add_all([citizen, *agencies, *categories])
    await session.flush()
    ended_events = []
    for i in range(n):
        status = rng.choice(list(S))
        submitted = _local(rng, cal, date(2023, 11, 1), 500)
        r = Report(
            tracking_id=f"LPR-E{i:05d}", citizen_id=citizen.id, classification="complaint",
            title="t", body="b", privacy="public", status=status.value,
            agency_id=rng.choice([None, *(a.id for a in agencies)]),
            category_id=rng.choice([None, *(c.id for c in categories)]),
            submitted_at=submitted, updated_at=_later(rng, submitted, 80),
            verify_due=rng.choice([None, cal.add_working_days(cal.local_date(submitted), 3)]),
            reopened_count=rng.choice([0, 0, 1]),
            lapor_id=f"L{i}" if rng.random() < 0.2 else None,
            completion_due=rng.choice([None, *(cal.add_working_days(cal.local_date(submitted), days)
                                                for days in (5, 14, 60))]),
        )
        if status not in (S.SUBMITTED,) and rng.random() < 0.8:
            r.assigned_at = _later(rng, submitted, 10)
            r.followup_due = cal.add_working_days(cal.local_date(r.assigned_at), 5)
        if rng.random() < 0.6:
            r.first_response_at = _later(rng, submitted)
        # Mostly answered when closed; a few closed without an answer count by their closing.
        if status in (S.ANSWERED, S.IN_PROGRESS) or (status == S.CLOSED and rng.random() < 0.9) \
                or rng.random() < 0.2:
            r.answered_at = _later(rng, submitted)
        if status == S.CLOSED and rng.random() < 0.9:
            r.closed_at = _later(rng, submitted, 60)
        if status == S.CLOSED and rng.random() < 0.7:
            r.rating = rng.randint(1, 5)
        session.add(r)
        ended = None
        if status in (S.REJECTED, S.ARCHIVED) and rng.random() < 0.7:
            ended = _later(rng, submitted, 60)
            ended_events.append((r, ended))
        store_facts(r, cal, ended)
    await session.flush()
    for r, at in ended_events:
        kind = "rejected" if r.status == S.REJECTED else "archived"
        session.add(ReportEvent(report_id=r.id, actor_role="admin", kind=kind, created_at=at))
        # An unrelated later event must not move the end.
        session.add(ReportEvent(report_id=r.id, actor_role="admin", kind="note",
                                created_at=at + timedelta(days=90)))
    await session.commit()


def _nonzero(groups: dict) -> dict:
    return {k: asdict(v) for k, v in groups.items() if v != Figures()}


def assert_same(sql: YearStats, oracle: YearStats) -> None:
    assert asdict(sql.total) == asdict(oracle.total)
    assert _nonzero(sql.by_agency) == _nonzero(oracle.by_agency)
    assert _nonzero(sql.by_category) == _nonzero(oracle.by_category)
    assert sql.received_by_month == oracle.received_by_month
    assert sql.completed_by_month == oracle.completed_by_month
    assert sql.as_of == oracle.as_of


CASES = [
    # zone, extra holidays (cuti bersama), seed
    ("Asia/Makassar", [date(2024, 4, 8), date(2024, 4, 9), date(2024, 12, 26)], 1),
    ("Asia/Jakarta", [date(2024, 2, 9)], 2),
    ("Asia/Jayapura", [], 3),
    ("America/New_York", [date(2024, 3, 11)], 4),  # daylight saving: the offset changes
]


@pytest.mark.parametrize(("tz", "extra", "seed"), CASES)
async def test_sql_statistics_equal_the_oracle(session, tz, extra, seed):
    cal = WorkCalendar(tz, extra)
    await seed_random(session, cal, random.Random(seed))
    repo = StatsRepo(session)
    facts = await repo.facts(submitted_before=datetime(2100, 1, 1, tzinfo=UTC), ended_kinds=ENDED_KINDS)
    names, cats = await repo.agency_names(), await repo.category_names()
    for year, today in [(2024, date(2024, 6, 14)), (2024, date(2025, 2, 3)), (2023, date(2025, 2, 3)),
                        (2025, date(2025, 3, 31)), (2024, date(2024, 12, 31))]:
        sql = await year_statistics(session, year, cal, today)
        assert sql.total.received > 0 or year == 2023
        if year == 2024:  # both sides of the completion ceiling occur, so the comparison can fail
            assert sql.total.completed_in_time > 0 and sql.total.completed_late > 0
        assert_same(sql, compute(facts, year, cal, today, names, cats))


@pytest.mark.parametrize(("tz", "extra", "seed"), CASES[:1] + CASES[3:])
async def test_weekly_summary_equals_the_oracle(session, tz, extra, seed):
    cal = WorkCalendar(tz, extra)
    await seed_random(session, cal, random.Random(seed), n=400)
    facts = await StatsRepo(session).facts(submitted_before=datetime(2100, 1, 1, tzinfo=UTC))
    weeks = [date(2023, 11, 6), date(2024, 1, 1), date(2024, 3, 4), date(2024, 3, 11), date(2024, 12, 23)]
    for monday in weeks:
        end = monday + timedelta(days=7)
        sql = {a: asdict(f) for a, f in (await week_figures(session, cal, monday, end)).items()}
        expected = {a: asdict(f) for a, f in oracle_week(facts, cal, monday, end).items()}
        assert sql == expected and any(f["received"] for f in sql.values()), monday


def test_the_figures_sum_every_field():
    a = Figures(received=1, rating_sum=4, rated=1)
    a += Figures(received=2, rating_sum=5, rated=1, backlog=3)
    assert (a.received, a.avg_rating, a.backlog) == (3, 4.5, 3)
    assert {f.name for f in fields(Figures)} >= {"response_days_sum", "responded"}


def _working_days(days: LocalDays, a, b):
    """Working days after day ``a`` up to and including day ``b`` (0 when b <= a), as the
    statistics count them from ``LocalDays.ordinal``."""
    return case((b > a, days.ordinal(b) - days.ordinal(a)), else_=0)


@pytest.mark.parametrize("tz", ["Asia/Makassar", "America/New_York"])
async def test_working_days_in_sql_equal_the_calendar(session, tz):
    """Every pair of local days over two years, against ``WorkCalendar.working_days_between``."""
    cal = WorkCalendar(tz, [date(2024, 4, 8), date(2024, 4, 9)])
    lo, hi = date(2024, 1, 1), date(2025, 12, 31)
    holidays = [lo + timedelta(days=i) for i in range((hi - lo).days + 1)]
    days = LocalDays(session.get_bind().dialect.name, tz,
                     [d for d in holidays if cal.is_holiday(d)], lo, hi)
    rng = random.Random(7)
    pairs = [(lo + timedelta(days=rng.randrange(700)), lo + timedelta(days=rng.randrange(700)))
             for _ in range(300)]
    pairs += [(date(2024, 4, 5), date(2024, 4, 10)), (date(2024, 12, 31), date(2025, 1, 2))]
    rows = union_all(*(select(literal(day_number(a)).label("a"), literal(day_number(b)).label("b"))
                       for a, b in pairs)).subquery()
    got = (await session.execute(select(_working_days(days, rows.c.a, rows.c.b)))).scalars().all()
    # union_all keeps the order of its parts on both databases for a plain scan.
    assert sorted(got) == sorted(cal.working_days_between(a, b) for a, b in pairs)
    assert got == [cal.working_days_between(a, b) for a, b in pairs]

    # Days past either end of [lo, hi] (PostgreSQL's table of ordinals ends there): weekdays
    # still count, holidays only those given.
    def counted(a: date, b: date) -> int:
        return sum(1 for n in range(1, (b - a).days + 1) if (d := a + timedelta(n)).weekday() < 5
                   and not (lo <= d <= hi and cal.is_holiday(d)))

    beyond = [(lo - timedelta(days=40), date(2024, 4, 10)), (date(2025, 12, 20), hi + timedelta(days=30)),
              (lo - timedelta(days=9), hi + timedelta(days=9)), (hi + timedelta(days=2), hi + timedelta(days=20))]
    rows = union_all(*(select(literal(day_number(a)).label("a"), literal(day_number(b)).label("b"))
                       for a, b in beyond)).subquery()
    got = (await session.execute(select(_working_days(days, rows.c.a, rows.c.b)))).scalars().all()
    assert got == [counted(a, b) for a, b in beyond]
