"""The conditional status change on both databases: of two officers pressing at once, one wins."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import func, select

from bot.domain.access import Actor, Reason, Refused
from bot.services.casework import followup
from storage.models import Agency, Citizen, Report, ReportEvent
from storage.repositories.cases import CaseRepo
from tests.actors import make_casework

NOW = datetime(2024, 5, 6, 2, 0, tzinfo=UTC)


async def _assigned(session) -> tuple[int, int, int]:
    a = Agency(name="Dinas Alpha", kind="opd")
    c = Citizen(telegram_id=1, first_name="R")
    session.add_all([a, c])
    await session.flush()
    r = Report(tracking_id="LPR-AAAA-BBBB", citizen_id=c.id, classification="complaint", title="Judul",
               body="Isi laporan yang cukup panjang", privacy="public", status="assigned", agency_id=a.id,
               submitted_at=NOW, assigned_at=NOW)
    session.add(r)
    await session.commit()
    return r.id, a.id, c.id


async def test_conditional_change_lets_one_of_two_sessions_win(session_factory):
    async with session_factory() as s:
        rid, agency_id, _ = await _assigned(s)
    async with session_factory() as s1, session_factory() as s2:
        first = await CaseRepo(s1).change_status(rid, expected_status="assigned", agency_ids=[agency_id],
                                                 values={"status": "in_progress"})
        await s1.commit()
        second = await CaseRepo(s2).change_status(rid, expected_status="assigned", agency_ids=[agency_id],
                                                  values={"status": "in_progress"})
        await s2.commit()
    assert (first, second) == (True, False)


async def test_two_officers_take_at_once_only_one_acts(session_factory):
    async with session_factory() as s:
        rid, agency_id, citizen_id = await _assigned(s)
    officer = Actor(citizen_id=citizen_id, agency_ids=frozenset({agency_id}))
    cw = make_casework()

    async def take() -> str:
        async with session_factory() as s:
            try:
                await followup.take_report(s, cw, officer, rid, NOW)
                return "ok"
            except Refused as exc:
                return exc.reason.value

    results = sorted(await asyncio.gather(take(), take()))
    assert results[0] in (Reason.CONFLICT.value, Reason.NOT_NOW.value) and results[1] == "ok"
    async with session_factory() as s:
        assert (await s.get(Report, rid)).status == "in_progress"
        taken = await s.scalar(select(func.count()).select_from(ReportEvent).where(ReportEvent.kind == "taken"))
    assert taken == 1


async def test_officer_of_another_agency_is_refused(session_factory):
    async with session_factory() as s:
        rid, agency_id, citizen_id = await _assigned(s)
    async with session_factory() as s:
        try:
            await followup.take_report(s, make_casework(), Actor(citizen_id, agency_ids=frozenset({agency_id + 100})),
                                       rid, NOW)
        except Refused as exc:
            assert exc.reason == Reason.FORBIDDEN
        else:
            raise AssertionError("an officer of another agency took the report")
        assert (await s.get(Report, rid)).status == "assigned"


async def test_of_two_officers_racing_only_the_loser_hears_the_winner_took_it(session_factory):
    from storage.models import Officer, Outbox

    async with session_factory() as s:
        rid, agency_id, _ = await _assigned(s)
        officers = []
        for tid, name in ((601, "Ani"), (602, "Budi")):
            person = Citizen(telegram_id=tid, first_name=name, language="en")
            s.add(person)
            await s.flush()
            s.add(Officer(agency_id=agency_id, citizen_id=person.id, bound_at=NOW))
            officers.append((person.id, tid, name))
        await s.commit()
    cw = make_casework()

    async def take(citizen_id: int) -> str:
        async with session_factory() as s:
            try:
                await followup.take_report(s, cw, Actor(citizen_id, agency_ids=frozenset({agency_id})), rid, NOW)
                return "ok"
            except Refused as exc:
                return exc.reason.value

    results = await asyncio.gather(*(take(cid) for cid, _tid, _name in officers))
    assert results.count("ok") == 1 and min(results) in (Reason.CONFLICT.value, Reason.NOT_NOW.value)
    winner = next(name for (_cid, _tid, name), r in zip(officers, results, strict=True) if r == "ok")
    loser_tid = next(tid for (_cid, tid, _name), r in zip(officers, results, strict=True) if r != "ok")
    async with session_factory() as s:
        rows = (await s.scalars(select(Outbox).where(Outbox.chat_id.in_([601, 602])))).all()
    assert [r.chat_id for r in rows] == [loser_tid]
    assert f"<b>{winner}</b> of your agency took up" in rows[0].payload["text"]
