"""The liaison officers' follow-up: the agency's inbox, taking a report up, asking the reporter,
answering, and returning it as not the agency's authority (bukan wewenang)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import access, deadlines
from bot.domain.access import Action, Actor
from bot.domain.enums import ActorRole, EventKind, ReportStatus
from bot.domain.lifecycle import WITH_AGENCY
from bot.domain.paging import clamp_page
from bot.domain.text_rules import validate_reason
from bot.services.casework import core
from bot.services.casework.core import PAGE_SIZE, CaseView, Casework, Page
from bot.services.notices import ColleagueTook, Returned
from storage.models import Report
from storage.repositories.cases import CaseRepo
from storage.repositories.citizens import CitizenRepo

S = ReportStatus


async def agency_inbox(session: AsyncSession, actor: Actor, page: int, *, page_size: int = PAGE_SIZE) -> Page:
    """The open reports of the officer's agencies, by follow-up deadline (overdue first)."""
    access.ensure(actor, Action.WORK_INBOX)
    repo = CaseRepo(session)
    total = await repo.count_agency_open(actor.agency_ids, WITH_AGENCY)
    page, pages = clamp_page(page, total, page_size)
    reports = await repo.agency_open(actor.agency_ids, WITH_AGENCY, offset=page * page_size, limit=page_size)
    return Page(list(reports), page, pages, total)


async def officer_case(session: AsyncSession, actor: Actor, report_id: int) -> CaseView:
    return await core.view(session, await core.report_for(session, actor, Action.VIEW_AS_OFFICER, report_id))


async def report_for(session: AsyncSession, actor: Actor, action: Action, report_id: int) -> Report:
    """Before a text step starts (the question, the answer, the reason): refuse a button that
    the report's status no longer allows, rather than after the officer has typed."""
    return await core.report_for(session, actor, action, report_id)


_MOVES: dict[Action, tuple[ReportStatus, EventKind]] = {
    Action.TAKE: (S.IN_PROGRESS, EventKind.TAKEN),
    Action.ASK: (S.AWAITING_REPORTER, EventKind.INFO_REQUESTED),
    Action.ANSWER: (S.ANSWERED, EventKind.ANSWERED),
    Action.RETURN: (S.RETURNED, EventKind.RETURNED),
}


async def _act(
    session: AsyncSession, cw: Casework, actor: Actor, action: Action, report_id: int, *,
    note: str | None = None, values: dict[str, Any] | None = None, tell_reporter: bool = True,
    now: datetime,
) -> tuple[Report, int]:
    """The check, the status change (only while the report is still with the agency) and the
    event of an officer's action; the reporter hears of it with ``note`` (the officer's words)
    unless not ``tell_reporter``. Returns the report and its agency."""
    report = await core.report_for(session, actor, action, report_id)
    target, kind = _MOVES[action]
    agency_id = report.agency_id
    assert agency_id is not None
    values = dict(values or {})
    if report.first_response_at is None:
        values["first_response_at"] = now
    report = await core.move(session, report, target, kind, role=ActorRole.OFFICER, actor_id=actor.citizen_id,
                             agency_id=agency_id, note=note, values=values, agency_ids=[agency_id],
                             calendar=cw.calendar, notifier=cw.notifier, now=now)
    if tell_reporter:
        await core.tell_reporter(session, cw, report, kind, agency_id=agency_id, note=note, now=now)
    return report, agency_id


async def take_report(session: AsyncSession, cw: Casework, actor: Actor, report_id: int, now: datetime) -> Report:
    report, agency_id = await _act(session, cw, actor, Action.TAKE, report_id, now=now)
    # Only the winner gets here: a simultaneous second press was refused (CONFLICT) above.
    # Officers of one agency may know each other: the colleague is named by first name.
    taker = await CitizenRepo(session).get(actor.citizen_id) if actor.citizen_id is not None else None
    name = (taker.first_name or "").strip() if taker is not None else ""
    await core.tell_officers(session, cw, agency_id, ColleagueTook(report, name), now=now, besides=actor.citizen_id)
    await session.commit()
    return report


async def request_info(
    session: AsyncSession, cw: Casework, actor: Actor, report_id: int, question: str, now: datetime
) -> Report:
    report, _agency_id = await _act(session, cw, actor, Action.ASK, report_id, note=validate_reason(question),
                                    now=now)
    await session.commit()
    return report


async def answer_report(
    session: AsyncSession, cw: Casework, actor: Actor, report_id: int, answer: str, now: datetime
) -> Report:
    report, _agency_id = await _act(
        session, cw, actor, Action.ANSWER, report_id, note=validate_reason(answer),
        values={"answered_at": now, "reply_due": deadlines.reply_due(now, cw.calendar)}, now=now,
    )
    await session.commit()
    return report


async def return_report(
    session: AsyncSession, cw: Casework, actor: Actor, report_id: int, reason: str, now: datetime
) -> Report:
    """Bukan wewenang: back to the admin's queue with the reason; the agency lets go of it."""
    reason = validate_reason(reason)
    report, agency_id = await _act(session, cw, actor, Action.RETURN, report_id, note=reason,
                                   values={"agency_id": None}, tell_reporter=False, now=now)
    name = await core.agency_name(session, agency_id) or ""
    await core.tell_admins(session, cw, Returned(report, name, reason), now=now)
    # The citizen hears that it moves on, not the agency's internal reason.
    await core.tell_reporter(session, cw, report, EventKind.RETURNED, agency_id=agency_id, now=now)
    await session.commit()
    return report
