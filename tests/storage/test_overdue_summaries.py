"""The daily scans summarise (issue 15): counts per agency and the oldest few instead of one
line per overdue report, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from datetime import date, timedelta

from bot.domain.enums import ReportStatus
from bot.domain.lifecycle import VERIFICATION_QUEUE, WITH_AGENCY
from bot.jobs.escalation import OLDEST_SHOWN, escalate_overdue
from bot.jobs.officer_reminders import SHOWN_PER_AGENCY, remind_officers
from bot.services.overdue import overdue_scope
from storage.repositories.overdue import OverdueRepo
from tests.schedule_fixtures import (
    ADMIN_TID,
    add_agency,
    add_citizen,
    add_officer,
    add_report,
    the_one_message,
    wita,
)

TUE = date(2024, 5, 21)
OFFICER_TID = 7001


async def seed(session_factory) -> dict[str, int]:
    """Dinas PU: 12 overdue, 2 due tomorrow (Wed), 1 later; Dinas Kes: 1 overdue; 4 in the
    verification queue past due; the officer serves Dinas PU."""
    async with session_factory() as s:
        citizen = await add_citizen(s, 5001)
        await add_citizen(s, ADMIN_TID, language="en")
        pu = await add_agency(s, "Dinas PU")
        kes = await add_agency(s, "Dinas Kes")
        await add_officer(s, pu, OFFICER_TID)
        for i in range(12):
            await add_report(s, citizen, ReportStatus.IN_PROGRESS, agency_id=pu.id,
                             followup_due=TUE - timedelta(days=20 - i), tracking_id=f"LPR-PU{i:02d}")
        for i in range(2):
            await add_report(s, citizen, ReportStatus.ASSIGNED, agency_id=pu.id,
                             followup_due=TUE + timedelta(days=1), tracking_id=f"LPR-SOON{i}")
        await add_report(s, citizen, ReportStatus.ASSIGNED, agency_id=pu.id,
                         followup_due=TUE + timedelta(days=9), tracking_id="LPR-LATER")
        # Answered: the reporter's turn, never in the scans.
        await add_report(s, citizen, ReportStatus.ANSWERED, agency_id=pu.id,
                         followup_due=TUE - timedelta(days=30), tracking_id="LPR-ANSWERED")
        await add_report(s, citizen, ReportStatus.ASSIGNED, agency_id=kes.id,
                         followup_due=TUE - timedelta(days=1), tracking_id="LPR-KES")
        for i in range(4):
            await add_report(s, citizen, ReportStatus.SUBMITTED, verify_due=TUE - timedelta(days=25 + i),
                             tracking_id=f"LPR-VER{i}")
        await s.commit()
        return {"pu": pu.id, "kes": kes.id}


async def test_counts_per_agency_and_pages_of_the_oldest(session_factory):
    ids = await seed(session_factory)
    async with session_factory() as s:
        repo = OverdueRepo(s)
        counts = await repo.per_agency(WITH_AGENCY, TUE, TUE + timedelta(days=1))
        assert [(c.agency_name, c.overdue, c.due_soon) for c in counts] == [("Dinas PU", 12, 2), ("Dinas Kes", 1, 0)]
        assert counts[0].oldest_due == TUE - timedelta(days=20)
        scope = overdue_scope(TUE)
        assert await repo.count(scope) == 12 + 1 + 4
        pages = [await repo.oldest(scope, limit=5, offset=o) for o in (0, 5, 10, 15)]
        flat = [line.tracking_id for page in pages for line in page]
        assert flat == ["LPR-VER3", "LPR-VER2", "LPR-VER1", "LPR-VER0",
                        *(f"LPR-PU{i:02d}" for i in range(12)), "LPR-KES"]
        assert pages[0][0].agency_name is None and pages[1][0].agency_name == "Dinas PU"
        shown = await repo.oldest_per_agency(WITH_AGENCY, TUE + timedelta(days=1), [ids["pu"], ids["kes"]], 3)
        assert [x.tracking_id for x in shown[ids["pu"]]] == ["LPR-PU00", "LPR-PU01", "LPR-PU02"]
        assert [x.tracking_id for x in shown[ids["kes"]]] == ["LPR-KES"]
        assert await repo.verification_count(VERIFICATION_QUEUE, TUE) == 4


async def test_the_escalation_is_one_short_message_with_counts_and_a_button(session_factory, i18n):
    await seed(session_factory)
    row = await the_one_message(escalate_overdue, session_factory, i18n, wita(TUE, 9))
    text = row.payload["text"]
    assert "<b>Overdue reports (tunggakan)</b>: 17 on" in text
    assert "<b>Dinas PU</b>: 12," in text and "<b>Dinas Kes</b>: 1," in text
    assert "Waiting for verification past 3 working days: 4" in text
    named = [t for t in ("LPR-VER3", "LPR-VER2", "LPR-VER1", "LPR-VER0", "LPR-PU00", "LPR-PU01") if t in text]
    assert len(named) == OLDEST_SHOWN == 5 and "LPR-PU01" not in text
    assert "LPR-SOON0" not in text and "LPR-ANSWERED" not in text
    (button,) = [b for r in row.payload["reply_markup"]["inline_keyboard"] for b in r]
    assert button["callback_data"] == "ovd:0:1"


async def test_the_officer_reminder_counts_and_names_the_most_urgent_few(session_factory, i18n):
    await seed(session_factory)
    row = await the_one_message(remind_officers, session_factory, i18n, wita(TUE, 9))
    assert row.chat_id == OFFICER_TID
    text = row.payload["text"]
    assert "Overdue: 12" in text and "Due within one working day: 2" in text
    assert [t for t in (f"LPR-PU{i:02d}" for i in range(12)) if t in text] == [
        f"LPR-PU{i:02d}" for i in range(SHOWN_PER_AGENCY)]
    assert "… and 9 more in /kotak" in text  # 14 due, 5 named
    assert "LPR-KES" not in text and "LPR-LATER" not in text
    buttons = [b["callback_data"] for r in row.payload["reply_markup"]["inline_keyboard"] for b in r]
    assert len(buttons) == SHOWN_PER_AGENCY + 1 and buttons[-1] == "oc:ls:0:0"


async def test_the_most_urgent_few_per_agency_match_a_plain_reference(session_factory):
    """OverdueRepo.oldest_per_agency (a LATERAL per agency and status on PostgreSQL, a window on
    SQLite) picks what sorting each agency's reports in Python picks: ties on the deadline
    broken by id, other statuses, later deadlines and other agencies left out."""
    rng = random.Random(15)
    async with session_factory() as s:
        citizen = await add_citizen(s, 5002)
        agencies = [await add_agency(s, f"Dinas {i}") for i in range(5)]
        reports = []
        for i in range(160):
            status = rng.choice([*WITH_AGENCY, ReportStatus.ANSWERED, ReportStatus.CLOSED])
            agency = rng.choice(agencies)
            due = TUE + timedelta(days=rng.randint(-12, 4))
            ceiling = TUE + timedelta(days=rng.randint(-6, 6))
            r = await add_report(s, citizen, status, agency_id=agency.id, followup_due=due,
                                 completion_due=ceiling, tracking_id=f"LPR-R{i:03d}")
            reports.append((r.id, agency.id, status, due, ceiling))
        await s.commit()
    asked = [a.id for a in agencies[:4]]  # the fifth is not asked for
    due_by = TUE + timedelta(days=1)
    expected: dict[int, list[int]] = {}
    for rid, aid, status, due, _ceiling in sorted(reports, key=lambda r: (r[3], r[0])):
        if aid in asked and status in WITH_AGENCY and due <= due_by and len(expected.setdefault(aid, [])) < 3:
            expected[aid].append(rid)
    async with session_factory() as s:
        shown = await OverdueRepo(s).oldest_per_agency(WITH_AGENCY, due_by, asked, 3)
        assert {aid: [line.report_id for line in lines] for aid, lines in shown.items()} == expected
        assert await OverdueRepo(s).oldest_per_agency(WITH_AGENCY, due_by, [], 3) == {}
        # The counts of the agencies asked for (picked from the groups of all agencies).
        counts = await OverdueRepo(s).per_agency(WITH_AGENCY, TUE, due_by, asked, ceiling_before=TUE)
    mine = [r for r in reports if r[1] in asked and r[2] in WITH_AGENCY]
    assert {c.agency_id: (c.overdue, c.due_soon, c.past_ceiling) for c in counts} == {
        aid: (sum(1 for r in mine if r[1] == aid and r[3] < TUE),
              sum(1 for r in mine if r[1] == aid and TUE <= r[3] <= due_by),
              sum(1 for r in mine if r[1] == aid and r[4] < TUE))
        for aid in {r[1] for r in mine if r[3] <= due_by or r[4] < TUE}}
