"""The facts /statistik sums are stored by the status changes themselves (bot.domain.timing via
``core.change_status``): after real casework (assigning, answering, closing, a dispute, a
check-in that reopens a closed report and its second closing, rejecting, withdrawing) every
report's stored working days and end equal what the oracle (tests/stats_oracle.py) derives from
its timestamps and timeline, and so do the year's figures. Near local midnight and around a
holiday, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from bot.domain.workdays import WorkCalendar
from bot.services.casework import followup, reporter, verification
from bot.services.statistics import ENDED_KINDS, StatsCache, ended_at, year_statistics
from storage.models import Agency, Citizen, Report
from storage.repositories.jobs import JobRepo
from storage.repositories.stats import StatsRepo
from tests.actors import as_admin, as_citizen, as_officer, make_casework
from tests.stats_oracle import compute
from tests.storage.test_stats_equivalence import assert_same

# Thursday 9 May 2024 is Ascension Day; 10 May a cuti bersama given in configuration.
CAL = WorkCalendar("Asia/Makassar", [date(2024, 5, 10)])
CW = make_casework(CAL)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment of May 2024 given in local time (WITA, UTC+8), as UTC."""
    return datetime(2024, 5, day, hour, minute, tzinfo=UTC) - timedelta(hours=8)


async def _setup(session_factory, submitted: list[datetime]) -> tuple[list[int], Citizen, Citizen, Citizen, int]:
    async with session_factory() as s:
        agency = Agency(name="Dinas Alpha", kind="opd")
        consent = datetime(2024, 1, 2, tzinfo=UTC)
        owner = Citizen(telegram_id=1, first_name="Warga", consent_at=consent)
        officer = Citizen(telegram_id=2, first_name="Petugas", consent_at=consent)
        admin = Citizen(telegram_id=3, first_name="Admin", consent_at=consent)
        s.add_all([agency, owner, officer, admin])
        await s.flush()
        reports = [
            Report(tracking_id=f"LPR-FACT-{i:04d}", citizen_id=owner.id, classification="complaint",
                   title="Jalan rusak", body="Isi laporan yang cukup panjang", privacy="public",
                   status="submitted", submitted_at=when, updated_at=when,
                   verify_due=CAL.add_working_days(CAL.local_date(when), 3),
                   # The completion ceiling: 14 working days for the second, 5 for the others.
                   completion_due=CAL.add_working_days(CAL.local_date(when), 14 if i == 1 else 5))
            for i, when in enumerate(submitted)
        ]
        s.add_all(reports)
        await s.commit()
        return [r.id for r in reports], owner, officer, admin, agency.id


async def test_stored_facts_equal_the_oracle_after_real_casework(session_factory):
    # Submitted a minute after local midnight (the day counts locally, not in UTC), before the
    # holidays, on a Friday night.
    ids, owner, officer, admin, agency_id = await _setup(
        session_factory, [at(6, 0, 1), at(7, 23, 59), at(8, 12), at(3, 22), at(13, 9)])
    closed_then_reopened, disputed, rejected, withdrawn, still_open = ids
    citizen, staff, boss = as_citizen(owner), as_officer(officer, agency_id), as_admin(admin)
    # /statistik's cache, filled before the casework: what it keeps must follow every step.
    cache = StatsCache(margin=timedelta(0))
    async with session_factory() as s:
        await year_statistics(s, 2024, CAL, date(2024, 6, 3), cache=cache)

    async def step(fn, *args, now):
        async with session_factory() as s:
            return await fn(s, CW, *args, now)

    for rid in (closed_then_reopened, disputed, still_open):
        await step(verification.assign_report, boss, rid, agency_id, now=at(13, 10))
        await step(followup.take_report, staff, rid, now=at(14, 8))  # the first response
    # Answered, accepted, then "not solved" at the check-in: reopened, answered and closed again.
    await step(followup.answer_report, staff, closed_then_reopened, "Sudah diperbaiki", now=at(15, 9))
    await step(reporter.accept_answer, citizen, closed_then_reopened, 4, now=at(15, 23, 59))
    async with session_factory() as s:
        await JobRepo(s).record_effect(reporter.CHECKIN_JOB, reporter.checkin_key(closed_then_reopened), at(20, 9))
        await s.commit()
    async with session_factory() as s:
        await reporter.answer_checkin(s, CW, citizen, closed_then_reopened, solved=False, now=at(22, 7))
    await _assert_facts(session_factory, closed_then_reopened, completion=None, ended=False)
    await step(followup.answer_report, staff, closed_then_reopened, "Sudah diaspal", now=at(27, 9))
    # Disputed within the window, answered again, closed by the auto-close.
    await step(followup.answer_report, staff, disputed, "Sudah diperbaiki", now=at(16, 9))
    await step(reporter.dispute_answer, citizen, disputed, "Belum diperbaiki", now=at(17, 9))
    await step(followup.answer_report, staff, disputed, "Sudah diaspal", now=at(20, 9))
    async with session_factory() as s:
        assert await reporter.close_unanswered(s, CW, disputed, at(31, 0, 30))
    async with session_factory() as s:
        await reporter.accept_answer(s, CW, citizen, closed_then_reopened, 5, at(28, 8))
        # A comment after rating changes the report again, not when it ended.
        await reporter.add_rating_comment(s, CW, citizen, closed_then_reopened, "Terima kasih", at(29, 8))
    await step(verification.reject_report, boss, rejected, "Bukan pelayanan publik", now=at(9, 10))
    await step(reporter.withdraw, citizen, withdrawn, "Sudah beres sendiri", now=at(6, 11))

    await _assert_facts(session_factory, closed_then_reopened, completion=at(28, 8), ended=True)
    await _assert_facts(session_factory, disputed, completion=at(31, 0, 30), ended=True)
    await _assert_facts(session_factory, still_open, completion=None, ended=False)
    async with session_factory() as s:
        facts = await StatsRepo(s).facts(submitted_before=datetime(2100, 1, 1, tzinfo=UTC),
                                         ended_kinds=ENDED_KINDS)
        rows = {r.id: r for r in (await s.scalars(select(Report))).all()}
        for fact in facts:
            row = rows[fact.id]
            submitted = CAL.local_date(fact.submitted_at)
            assert row.response_days == (CAL.working_days_between(submitted, CAL.local_date(fact.first_response_at))
                                         if fact.first_response_at else None)
            assert row.completion_days == (CAL.working_days_between(submitted, CAL.local_date(fact.closed_at))
                                           if fact.closed_at else None)
            assert _same_instant(row.ended_at, ended_at(fact)), fact.tracking_id
            done = fact.answered_at or fact.closed_at
            assert row.completion_met == (CAL.local_date(done) <= fact.completion_due
                                          if row.status == "closed" else None), fact.tracking_id
        # Answered on 20 May within 14 working days of 7 May: met; last answered on 27 May,
        # past 5 working days of 6 May: late (the first closing's answer no longer counts).
        assert (rows[disputed].completion_met, rows[closed_then_reopened].completion_met) == (True, False)
        # 14 May 08:00 local is the first response of three reports submitted 6-13 May: days
        # counted from the local day of submission, Ascension Day and the cuti bersama skipped.
        assert sorted(rows[i].response_days for i in (closed_then_reopened, disputed, still_open)) == [1, 3, 4]
        for year, today in [(2024, date(2024, 6, 3)), (2024, date(2024, 5, 21)), (2024, date(2025, 1, 6))]:
            oracle = compute(facts, year, CAL, today, await StatsRepo(s).agency_names(), {})
            assert_same(await year_statistics(s, year, CAL, today), oracle)
            assert_same(await year_statistics(s, year, CAL, today, cache=cache), oracle)


def _same_instant(a: datetime | None, b: datetime | None) -> bool:
    if a is None or b is None:
        return a is b
    # SQLite hands back naive UTC.
    return a.replace(tzinfo=a.tzinfo or UTC) == b.replace(tzinfo=b.tzinfo or UTC)


async def _assert_facts(session_factory, report_id: int, *, completion: datetime | None, ended: bool) -> None:
    async with session_factory() as s:
        row = await s.get(Report, report_id)
        expected = (CAL.working_days_between(CAL.local_date(row.submitted_at), CAL.local_date(completion))
                    if completion else None)
        assert row.completion_days == expected
        assert (row.ended_at is not None) == ended
