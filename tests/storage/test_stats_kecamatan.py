"""The roll-up per kecamatan in /statistik (issue 13), on SQLite and PostgreSQL: a kecamatan's
figures are its own plus those of the kelurahan and desa under it, computed in the same GROUP BY
as the agencies' (whose figures tests/storage/test_stats_equivalence.py holds to the oracle)."""

from __future__ import annotations

import random
from dataclasses import asdict, fields
from datetime import date, timedelta

from bot.services.statistics import Figures, year_statistics
from storage.models import Agency, Citizen
from tests.storage.test_stats_repo import CAL, at, report

STATUSES = ["submitted", "assigned", "in_progress", "answered", "closed", "rejected", "archived"]


def summed(figures: list[Figures]) -> dict:
    out = Figures()
    for f in figures:
        for field in fields(Figures):
            setattr(out, field.name, getattr(out, field.name) + getattr(f, field.name))
    return asdict(out)


async def test_a_kecamatan_sums_itself_and_its_villages_only(session):
    rng = random.Random(13)
    citizen = Citizen(telegram_id=5013, first_name="Warga")
    waru, sepaku = Agency(name="Kecamatan Waru", kind="kecamatan"), Agency(name="Kecamatan Sepaku", kind="kecamatan")
    opd = Agency(name="Dinas PUPR", kind="opd")
    session.add_all([citizen, waru, sepaku, opd])
    await session.flush()
    villages = {waru.id: [Agency(name="Desa Sesulu", kind="desa", parent_id=waru.id),
                          Agency(name="Kelurahan Waru", kind="kelurahan", parent_id=waru.id)],
                sepaku.id: [Agency(name="Desa Bumi Harapan", kind="desa", parent_id=sepaku.id)]}
    session.add_all([v for vs in villages.values() for v in vs])
    await session.flush()
    holders = [waru, sepaku, opd, None, *(v for vs in villages.values() for v in vs)]
    for i in range(80):
        sub = at(2024 if i % 5 else 2023, 1 + i % 12, 1 + i % 27)
        status = rng.choice(STATUSES)
        holder = rng.choice(holders) if status not in ("submitted", "rejected", "archived") else None
        day = CAL.local_date(sub)
        session.add(report(citizen, holder, sub, status, assigned_at=sub if holder else None,
                           followup_due=day + timedelta(days=rng.randint(1, 20)) if holder else None,
                           first_response_at=sub + timedelta(days=2) if i % 3 else None,
                           closed_at=sub + timedelta(days=9) if status == "closed" else None,
                           rating=rng.randint(1, 5) if status == "closed" else None))
    await session.commit()

    stats = await year_statistics(session, 2024, CAL, today=date(2024, 12, 31))
    assert set(stats.by_kecamatan) == {waru.id, sepaku.id}  # the OPD and the queue roll up nowhere
    for kecamatan, under in villages.items():
        members = [kecamatan, *(v.id for v in under)]
        expected = summed([stats.by_agency[a] for a in members if a in stats.by_agency])
        assert asdict(stats.by_kecamatan[kecamatan]) == expected
        assert stats.by_kecamatan[kecamatan].received > 0 and stats.by_kecamatan[kecamatan].backlog > 0
