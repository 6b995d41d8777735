"""Statistics from a real database (SQLite and PostgreSQL) against the seed's hand count."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime

from bot.domain.workdays import WorkCalendar
from bot.services.statistics import agency_load, year_statistics
from storage.models import Agency, Citizen, Report, ReportEvent
from tests.stats_oracle import store_facts

CAL = WorkCalendar("Asia/Makassar")
_ids = itertools.count(1)


def at(y: int, m: int, d: int, h: int = 2) -> datetime:
    return datetime(y, m, d, h, tzinfo=UTC)


def report(citizen: Citizen, agency: Agency | None, submitted: datetime, status: str, **kw) -> Report:
    n = next(_ids)
    r = Report(
        tracking_id=f"LPR-T{n:05d}", citizen_id=citizen.id, classification="complaint",
        title=f"laporan {n}", body="isi", privacy=kw.pop("privacy", "public"), status=status,
        agency_id=agency.id if agency else None, submitted_at=submitted,
        verify_due=CAL.add_working_days(CAL.local_date(submitted), 3), **kw,
    )
    store_facts(r, CAL)
    return r


async def seed(session) -> tuple[Agency, Agency]:
    citizen = Citizen(telegram_id=5001, first_name="Warga")
    pupr = Agency(name="Dinas PUPR", kind="opd")
    dinkes = Agency(name="Dinas Kesehatan", kind="opd")
    session.add_all([citizen, pupr, dinkes])
    await session.flush()
    for i in range(41):
        sub = at(2023, 1 + i % 12, 9)
        session.add(report(citizen, pupr if i % 2 else dinkes, sub, "closed", assigned_at=sub,
                           answered_at=at(2023, 1 + i % 12, 16), closed_at=at(2023, 1 + i % 12, 27),
                           first_response_at=at(2023, 1 + i % 12, 12)))
    for i in range(7):
        sub = at(2024, 1 + i % 4, 2)
        session.add(report(citizen, pupr, sub, "closed", assigned_at=sub, answered_at=at(2024, 1 + i % 4, 9),
                           closed_at=at(2024, 1 + i % 4, 24), rating=4))
    session.add(report(citizen, dinkes, at(2024, 5, 13), "in_progress", assigned_at=at(2024, 5, 14),
                       followup_due=date(2024, 5, 21)))
    await session.commit()
    return pupr, dinkes


async def test_seed_figures(session):
    pupr, dinkes = await seed(session)
    s23 = await year_statistics(session, 2023, CAL, today=date(2024, 5, 21))
    assert (s23.total.received, s23.total.completed, s23.total.backlog) == (41, 41, 0)
    assert s23.by_agency[pupr.id].received + s23.by_agency[dinkes.id].received == 41

    s24 = await year_statistics(session, 2024, CAL, today=date(2024, 5, 21))
    assert (s24.total.received, s24.total.completed, s24.total.in_progress) == (8, 7, 1)
    assert s24.total.avg_rating == 4
    assert s24.by_agency[dinkes.id].in_progress == 1 and s24.by_agency[pupr.id].completed == 7
    assert s24.total.overdue == 0  # due 21 May is still in time on 21 May

    s24_later = await year_statistics(session, 2024, CAL, today=date(2024, 5, 22))
    assert s24_later.total.overdue == 1 and s24_later.by_agency[dinkes.id].overdue == 1
    assert s24_later.agency_names[dinkes.id] == "Dinas Kesehatan"


async def test_carry_over_and_rejection_time_from_events(session):
    citizen = Citizen(telegram_id=5002)
    agency = Agency(name="Kecamatan Waru", kind="kecamatan")
    session.add_all([citizen, agency])
    await session.flush()
    carried = report(citizen, agency, at(2023, 11, 6), "in_progress", assigned_at=at(2023, 11, 7),
                     followup_due=date(2023, 11, 14))
    rejected = report(citizen, None, at(2023, 12, 4), "rejected")
    store_facts(rejected, CAL, ended_event_at=at(2024, 1, 3))  # the event below
    session.add_all([carried, rejected])
    await session.flush()
    session.add(ReportEvent(report_id=rejected.id, actor_role="admin", kind="rejected",
                            created_at=at(2024, 1, 3)))
    await session.commit()

    s23 = await year_statistics(session, 2023, CAL, today=date(2024, 3, 1))
    assert s23.total.received == 2 and s23.total.rejected == 1
    # The rejection came in January: both were open on 31 December.
    assert s23.total.backlog == 2
    s24 = await year_statistics(session, 2024, CAL, today=date(2024, 3, 1))
    assert s24.total.received == 0
    assert (s24.total.backlog, s24.total.backlog_carried, s24.total.overdue_carried) == (1, 1, 1)
    assert await agency_load(session, CAL, today=date(2024, 3, 1)) == {agency.id: (1, 1)}
