"""The kecamatan above its kelurahan and desa (issue 13): its officers see the overdue reports
of the villages under it and may remind the village's officers, but do not act on them
(``access``: ``VIEW_AS_OVERSEER``, ``REMIND_AGENCY``; taking, asking, answering and returning
stay with the village's own officers). What they see of the reporter is what an agency sees."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import access
from bot.domain.access import Action, Actor
from bot.domain.lifecycle import WITH_AGENCY
from bot.domain.paging import clamp_page
from bot.services.casework import core
from bot.services.casework.core import PAGE_SIZE, CaseView, Casework
from bot.services.notices import KecamatanReminded
from storage.models import Report
from storage.repositories.agencies import AgencyRepo
from storage.repositories.jobs import JobRepo
from storage.repositories.overdue import OverdueLine, OverdueRepo

# One reminder per report and local day, whichever kecamatan officer taps first: a second tap
# (or a colleague's) is told it was sent already, and the village is not flooded.
REMINDER_EFFECT = "kecamatan_reminder"


async def overdue_count(session: AsyncSession, actor: Actor, today: date) -> int:
    """How many reports of the actor's villages are past their follow-up deadline; 0 for
    someone who oversees no village."""
    if access.check(actor, Action.OVERSEE) is not None:
        return 0
    return await OverdueRepo(session).count_of_agencies(WITH_AGENCY, today, actor.overseen_agency_ids)


async def overdue_page(
    session: AsyncSession, actor: Actor, today: date, page: int, *, page_size: int = PAGE_SIZE,
) -> tuple[list[OverdueLine], int, int, int]:
    """One page of the villages' overdue reports, longest overdue first: lines, page, pages, total."""
    access.ensure(actor, Action.OVERSEE)
    repo = OverdueRepo(session)
    total = await repo.count_of_agencies(WITH_AGENCY, today, actor.overseen_agency_ids)
    page, pages = clamp_page(page, total, page_size)
    lines = await repo.of_agencies(WITH_AGENCY, today, actor.overseen_agency_ids,
                                   limit=page_size, offset=page * page_size)
    return lines, page, pages, total


async def overseer_case(session: AsyncSession, actor: Actor, report_id: int) -> CaseView:
    return await core.view(session, await core.report_for(session, actor, Action.VIEW_AS_OVERSEER, report_id))


async def remind_agency(
    session: AsyncSession, cw: Casework, actor: Actor, report_id: int, now: datetime,
) -> tuple[Report, bool]:
    """The village's officers (and group) hear that their kecamatan reminds them of the report.
    Returns the report and whether a reminder went (False: one went today already)."""
    report = await core.report_for(session, actor, Action.REMIND_AGENCY, report_id)
    village = await AgencyRepo(session).get(report.agency_id) if report.agency_id is not None else None
    assert village is not None and village.parent_id is not None  # VIEW_AS_OVERSEER: a village's report
    if not await JobRepo(session).record_effect(REMINDER_EFFECT, f"{report.id}:{cw.today(now)}", now):
        return report, False
    kecamatan = await core.agency_name(session, village.parent_id) or ""
    await core.tell_officers(session, cw, village.id, KecamatanReminded(report, kecamatan), now=now)
    await session.commit()
    return report, True
