"""The daily officer reminder reaches an agency's linked group; an agency that chose the group
instead of private chats is left out of its officers' private reminders."""

from __future__ import annotations

from datetime import date

from bot.i18n import build_i18n
from bot.jobs.officer_reminders import send_reminders
from storage.models import AgencyGroup
from tests.schedule_fixtures import (
    add_agency,
    add_citizen,
    add_officer,
    add_report,
    job_context,
    make_settings,
    outbox_rows,
    wita,
)

MONDAY = date(2024, 5, 20)
GROUP_A, GROUP_B = -100111, -100222


async def test_reminders_go_to_linked_groups_per_the_agency_setting(session_factory):
    settings = make_settings()
    async with session_factory() as s:
        alpha, beta = await add_agency(s, "Dinas Alpha"), await add_agency(s, "Dinas Beta")
        oa, ob = await add_officer(s, alpha, 6001), await add_officer(s, beta, 6002)
        reporter = await add_citizen(s, 5001)
        for agency in (alpha, beta):
            await add_report(s, reporter, "assigned", agency_id=agency.id, followup_due=MONDAY,
                             title=f"Lampu mati {agency.name}")
        s.add_all([
            AgencyGroup(agency_id=alpha.id, chat_id=GROUP_A, title="Grup Alpha", status="active", delivery="also",
                        requested_by_id=oa.id),
            AgencyGroup(agency_id=beta.id, chat_id=GROUP_B, title="Grup Beta", status="active", delivery="only",
                        requested_by_id=ob.id),
        ])
        await s.commit()
    ctx = job_context(session_factory, settings, build_i18n(), wita(MONDAY, 8))
    assert await send_reminders(ctx, MONDAY) == 3
    rows = {row.chat_id: row.payload["text"] for row in await outbox_rows(session_factory)}
    assert set(rows) == {6001, GROUP_A, GROUP_B}  # Beta's officer: the group instead
    assert "Lampu mati Dinas Alpha" in rows[GROUP_A] and "Dinas Beta" not in rows[GROUP_A]
    assert "Lampu mati Dinas Beta" in rows[GROUP_B]
    # Once a day: a second run writes nothing again.
    assert await send_reminders(ctx, MONDAY) == 0


async def test_the_escalation_tells_the_overdue_agency_s_group(session_factory):
    from bot.jobs.escalation import send_escalations

    settings = make_settings()
    async with session_factory() as s:
        alpha, beta = await add_agency(s, "Dinas Alpha"), await add_agency(s, "Dinas Beta")
        oa = await add_officer(s, alpha, 6001)
        reporter = await add_citizen(s, 5001)
        await add_report(s, reporter, "assigned", agency_id=alpha.id, followup_due=date(2024, 5, 14),
                         title="Lampu mati sejak lama")
        await add_report(s, reporter, "assigned", agency_id=beta.id, followup_due=date(2024, 5, 14),
                         title="Sampah menumpuk")
        s.add(AgencyGroup(agency_id=alpha.id, chat_id=GROUP_A, title="Grup Alpha", status="active",
                          delivery="also", requested_by_id=oa.id))
        await s.commit()
    ctx = job_context(session_factory, settings, build_i18n(), wita(MONDAY, 9))
    assert await send_escalations(ctx, MONDAY) == 2  # the admin, and Alpha's group
    rows = {row.chat_id: row.payload["text"] for row in await outbox_rows(session_factory)}
    assert set(rows) == {settings.roles.admin_ids[0], GROUP_A}
    assert "Lampu mati sejak lama" in rows[GROUP_A] and "Sampah" not in rows[GROUP_A]
    assert await send_escalations(ctx, MONDAY) == 0  # once a day
