"""Issue 13: the completion ceiling by kind of report (14/60/5/5 working days from receipt,
``Report.completion_due``) is reminded and escalated, counted apart from the step deadlines
("melewati batas penyelesaian"), from the (status, completion_due) index, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta

from bot.domain.enums import ReportStatus
from bot.domain.lifecycle import VERIFICATION_QUEUE, WITH_AGENCY
from bot.jobs.escalation import escalate_overdue
from bot.jobs.officer_reminders import remind_officers
from storage.repositories.overdue import OverdueRepo
from tests.schedule_fixtures import (
    ADMIN_TID,
    add_agency,
    add_citizen,
    add_officer,
    add_report,
    job_context,
    make_settings,
    outbox_rows,
    the_one_message,
    wita,
)

TUE = date(2024, 5, 21)
OFFICER_TID = 7101


async def seed(session_factory) -> dict[str, int]:
    """Dinas Info: two information requests past their 5-day ceiling whose follow-up deadline
    is still days away (no step deadline is missed: only the ceiling), one answered (the
    reporter's turn: never counted), one due today (still in time). One report waits for
    verification past its ceiling. Nothing else is late anywhere."""
    async with session_factory() as s:
        citizen = await add_citizen(s, 5101)
        await add_citizen(s, ADMIN_TID, language="en")
        info = await add_agency(s, "Dinas Info")
        await add_officer(s, info, OFFICER_TID)
        for i in range(2):
            await add_report(s, citizen, ReportStatus.IN_PROGRESS, agency_id=info.id, classification="information",
                             followup_due=TUE + timedelta(days=3), completion_due=TUE - timedelta(days=1 + i),
                             tracking_id=f"LPR-CEIL{i}")
        await add_report(s, citizen, ReportStatus.ANSWERED, agency_id=info.id, classification="information",
                         followup_due=TUE + timedelta(days=3), completion_due=TUE - timedelta(days=5),
                         tracking_id="LPR-ANSWERED")
        await add_report(s, citizen, ReportStatus.ASSIGNED, agency_id=info.id, classification="information",
                         followup_due=TUE + timedelta(days=6), completion_due=TUE, tracking_id="LPR-TODAY")
        await add_report(s, citizen, ReportStatus.SUBMITTED, verify_due=TUE + timedelta(days=1),
                         completion_due=TUE - timedelta(days=1), tracking_id="LPR-UNVERIFIED")
        await s.commit()
        return {"info": info.id}


async def test_counts_past_the_ceiling_per_agency_and_in_the_queue(session_factory):
    ids = await seed(session_factory)
    async with session_factory() as s:
        repo = OverdueRepo(s)
        # Without asking for the ceiling the step deadlines alone find nothing overdue.
        assert [(c.overdue, c.past_ceiling) for c in await repo.per_agency(WITH_AGENCY, TUE, TUE)] == []
        (count,) = await repo.per_agency(WITH_AGENCY, TUE, TUE, ceiling_before=TUE)
        assert (count.agency_id, count.agency_name, count.overdue, count.due_soon, count.past_ceiling) == (
            ids["info"], "Dinas Info", 0, 0, 2)
        # Merged into the step counts of the same agency (the reminder's horizon takes in more).
        (count,) = await repo.per_agency(WITH_AGENCY, TUE, TUE + timedelta(days=3), ceiling_before=TUE)
        assert (count.overdue, count.due_soon, count.past_ceiling) == (0, 2, 2)
        assert await repo.past_ceiling_count(VERIFICATION_QUEUE, TUE) == 1
        assert await repo.past_ceiling_count(VERIFICATION_QUEUE, TUE - timedelta(days=1)) == 0


async def test_the_escalation_states_the_reports_past_their_ceiling(session_factory, i18n):
    await seed(session_factory)
    # Without the ceiling nothing would be escalated at all today.
    row = await the_one_message(escalate_overdue, session_factory, i18n, wita(TUE, 9))
    assert row.chat_id == ADMIN_TID
    text = row.payload["text"]
    assert "Past the completion deadline for their kind of report: 3" in text
    assert "• <b>Dinas Info</b>: 2" in text
    assert "• still waiting for verification: 1" in text
    assert "Past the follow-up deadline" not in text  # stated apart, not mixed in
    assert "reply_markup" not in row.payload or not row.payload["reply_markup"]  # nothing to page through


async def test_the_officer_is_reminded_of_reports_past_their_ceiling(session_factory, i18n):
    await seed(session_factory)
    row = await the_one_message(remind_officers, session_factory, i18n, wita(TUE, 9))
    assert row.chat_id == OFFICER_TID
    text = row.payload["text"]
    assert "<b>Dinas Info</b>" in text
    assert "Past the completion deadline for their kind of report: 2" in text
    assert "LPR-ANSWERED" not in text


async def test_the_officer_reads_it_in_indonesian(session_factory, i18n):
    async with session_factory() as s:
        citizen = await add_citizen(s, 5102)
        info = await add_agency(s, "Dinas Info")
        officer = await add_officer(s, info, OFFICER_TID)
        officer.language = "id"
        await add_report(s, citizen, ReportStatus.IN_PROGRESS, agency_id=info.id, classification="aspiration",
                         followup_due=TUE + timedelta(days=3), completion_due=TUE - timedelta(days=1))
        await s.commit()
    row = await the_one_message(remind_officers, session_factory, i18n, wita(TUE, 9))
    assert "Melewati batas penyelesaian menurut jenis laporan: 1" in row.payload["text"]


async def test_the_agency_group_hears_its_reports_past_the_ceiling_were_escalated(session_factory, i18n):
    from bot.jobs.escalation import send_escalations
    from storage.models import AgencyGroup

    group = -100333
    async with session_factory() as s:
        citizen = await add_citizen(s, 5103)
        await add_citizen(s, ADMIN_TID, language="en")
        info = await add_agency(s, "Dinas Info")
        officer = await add_officer(s, info, OFFICER_TID)
        await add_report(s, citizen, ReportStatus.IN_PROGRESS, agency_id=info.id, classification="information",
                         followup_due=TUE + timedelta(days=3), completion_due=TUE - timedelta(days=1))
        s.add(AgencyGroup(agency_id=info.id, chat_id=group, title="Grup Info", status="active", delivery="also",
                          requested_by_id=officer.id))
        await s.commit()
    ctx = job_context(session_factory, make_settings(), i18n, wita(TUE, 9))
    assert await send_escalations(ctx, TUE) == 2  # the admin and the agency's group
    rows = {row.chat_id: row.payload["text"] for row in await outbox_rows(session_factory)}
    # A group reads Indonesian; nothing is past the follow-up deadline, so no count of that.
    assert rows[group].startswith("⚠️ <b>Dinas Info</b>: dilaporkan ke koordinator LAPOR! hari ini (tunggakan).")
    assert "Melewati batas penyelesaian menurut jenis laporan: 1" in rows[group]
