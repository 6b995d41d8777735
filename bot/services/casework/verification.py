"""The coordinating admins: the verification queue, assigning (and re-routing a returned
report), rejecting, archiving, postponing, the supervisory flag; and the hook that runs when a
report is filed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import access, deadlines
from bot.domain.access import Action, Actor, Reason, Refused
from bot.domain.enums import ActorRole, Classification, EventKind, ReportStatus
from bot.domain.lifecycle import VERIFICATION_QUEUE
from bot.domain.paging import clamp_page
from bot.domain.text_rules import validate_reason
from bot.services import audit, recipients
from bot.services.casework import core
from bot.services.casework.core import PAGE_SIZE, CaseView, Casework, Page
from bot.services.notices import MarkedDuplicate, NewCase, NewReport, NobodyToTell
from storage.models import Agency, Report
from storage.repositories.agencies import AgencyRepo
from storage.repositories.case_cards import CaseCardRepo
from storage.repositories.cases import CaseRepo
from storage.repositories.citizens import CitizenRepo
from storage.repositories.followers import FollowerRepo
from storage.repositories.reports import ReportRepo

S = ReportStatus


async def verification_queue(
    session: AsyncSession, actor: Actor, page: int, today: date, *, page_size: int = PAGE_SIZE
) -> Page:
    access.ensure(actor, Action.ADMINISTER)
    repo = CaseRepo(session)
    total = await repo.count_status(VERIFICATION_QUEUE)
    page, pages = clamp_page(page, total, page_size)
    reports = await repo.verification_queue(VERIFICATION_QUEUE, offset=page * page_size, limit=page_size)
    overdue = await repo.overdue_verification(VERIFICATION_QUEUE, today)
    return Page(list(reports), page, pages, total, overdue)


async def admin_case(session: AsyncSession, actor: Actor, report_id: int) -> CaseView:
    return await core.view(session, await core.report_for(session, actor, Action.VIEW_AS_ADMIN, report_id))


async def card_shown(session: AsyncSession, actor: Actor, chat_id: int, message_id: int, report_id: int) -> None:
    """Remember a verification card sent with its action buttons (see ``settled_cards``)."""
    access.ensure(actor, Action.ADMINISTER)
    await CaseCardRepo(session).add(chat_id, message_id, report_id)
    await session.commit()


async def settled_cards(session: AsyncSession, report_id: int) -> list[tuple[int, int]]:
    """The cards (chat id, message id) of a report that has left verification, to be edited
    down to what can still be done; forgotten from now on. None while it is still waiting."""
    repo = CaseCardRepo(session)
    if await CaseRepo(session).status_of(report_id) in VERIFICATION_QUEUE:
        return []
    cards = await repo.of_report(report_id)
    if cards:
        await repo.forget_report(report_id)
        await session.commit()
    return cards


async def ensure_may(session: AsyncSession, actor: Actor, action: Action, report_id: int) -> Report:
    """Before a prompt for ``action`` (search an agency, pick a reason) opens a dialog: the
    report exists and ``action`` is still possible on it. The action itself checks again."""
    return await core.report_for(session, actor, action, report_id)


async def find_by_tracking_id(session: AsyncSession, actor: Actor, tracking_id: str) -> Report | None:
    access.ensure(actor, Action.ADMINISTER)
    return await ReportRepo(session).by_tracking_id(tracking_id)


# -- picking the agency --------------------------------------------------------------------------
@dataclass(frozen=True)
class AgencyPage:
    agencies: Sequence[Agency]
    page: int
    pages: int


async def agencies_of_kind(
    session: AsyncSession, actor: Actor, kind: str, page: int, *, page_size: int = PAGE_SIZE
) -> AgencyPage:
    access.ensure(actor, Action.ADMINISTER)
    repo = AgencyRepo(session)
    page, pages = clamp_page(page, await repo.count_by_kind(kind), page_size)
    return AgencyPage(await repo.list_by_kind(kind, offset=page * page_size, limit=page_size), page, pages)


async def search_agencies(session: AsyncSession, actor: Actor, query: str) -> Sequence[Agency]:
    access.ensure(actor, Action.ADMINISTER)
    return await AgencyRepo(session).search(query)


# -- deciding ------------------------------------------------------------------------------------
async def _assign(
    session: AsyncSession, cw: Casework, report: Report, agency: Agency, *, role: ActorRole,
    actor_id: int | None, now: datetime,
) -> Report:
    """Assign (or re-route, pelimpahan, a report an agency returned); the agency's officers get
    the full card, the reporter hears where it went. The caller checked who may."""
    kind = EventKind.REROUTED if report.status == S.RETURNED else EventKind.ASSIGNED
    report = await core.move(
        session, report, S.ASSIGNED, kind, role=role, actor_id=actor_id, agency_id=agency.id,
        values={"agency_id": agency.id, "assigned_at": now,
                "followup_due": deadlines.followup_due(now, cw.calendar)},
        calendar=cw.calendar, notifier=cw.notifier, now=now,
    )
    reporter = await CitizenRepo(session).get(report.citizen_id)
    card = NewCase(report, agency.name, reporter, list(report.attachments))
    if not await core.tell_officers(session, cw, agency.id, card, now=now):
        # Nobody to tell: the admins hear of it, so the report does not wait silently.
        await core.tell_admins(session, cw, NobodyToTell(report, agency.name), now=now)
    await core.tell_reporter(session, cw, report, kind, agency_id=agency.id, now=now)
    return report


async def assign_report(
    session: AsyncSession, cw: Casework, actor: Actor, report_id: int, agency_id: int, now: datetime
) -> tuple[Report, Agency]:
    report = await core.report_for(session, actor, Action.ASSIGN, report_id)
    agency = await AgencyRepo(session).get_active(agency_id)
    if agency is None:
        raise Refused(Reason.INVALID)
    previous = report.status
    report = await _assign(session, cw, report, agency, role=ActorRole.ADMIN, actor_id=actor.citizen_id, now=now)
    await audit.record(session, actor, audit.AuditAction.ASSIGN, report.tracking_id,
                       {"report_id": report.id, "agency_id": agency.id, "agency": agency.name,
                        "from_status": previous})
    await session.commit()
    return report, agency


async def reject_report(
    session: AsyncSession, cw: Casework, actor: Actor, report_id: int, reason: str, now: datetime
) -> Report:
    """``reason`` is what the citizen reads (the template's words plus the admin's text)."""
    return await _end_with_reason(session, cw, actor, report_id, reason, now, Action.REJECT, S.REJECTED,
                                  EventKind.REJECTED, audit.AuditAction.REJECT)


async def _end_with_reason(
    session: AsyncSession, cw: Casework, actor: Actor, report_id: int, reason: str, now: datetime,
    action: Action, status: ReportStatus, kind: EventKind, audited: audit.AuditAction,
) -> Report:
    """End a report at verification without an agency (rejected, archived): the reporter reads
    ``reason``."""
    reason = validate_reason(reason)
    report = await core.report_for(session, actor, action, report_id)
    previous = report.status
    report = await core.move(session, report, status, kind, role=ActorRole.ADMIN,
                             actor_id=actor.citizen_id, agency_id=None, note=reason,
                             values={"closed_at": now}, calendar=cw.calendar, notifier=cw.notifier, now=now)
    await core.tell_reporter(session, cw, report, kind, note=reason, now=now)
    await audit.record(session, actor, audited, report.tracking_id,
                       {"report_id": report.id, "from_status": previous})
    await session.commit()
    return report


async def mark_duplicate(
    session: AsyncSession, cw: Casework, actor: Actor, report_id: int, original_id: int, reason: str,
    now: datetime,
) -> tuple[Report, Report]:
    """Reject the report as the same problem as ``original_id`` (or the report that one was
    merged into): its reporter follows the original from now on and is told so. ``reason`` is
    the rejection text in the reporter's language."""
    reason = validate_reason(reason)
    report = await core.report_for(session, actor, Action.MARK_DUPLICATE, report_id)
    original = await core.report_for(session, actor, Action.VIEW_AS_ADMIN, original_id)
    seen = {report.id}
    while original.duplicate_of_id is not None and original.duplicate_of_id not in seen:
        seen.add(original.id)
        original = await core.report_for(session, actor, Action.VIEW_AS_ADMIN, original.duplicate_of_id)
    if original.id == report.id:
        raise Refused(Reason.INVALID)
    original_id, reporter_id, previous = original.id, report.citizen_id, report.status
    report = await core.move(session, report, S.REJECTED, EventKind.REJECTED, role=ActorRole.ADMIN,
                             actor_id=actor.citizen_id, agency_id=None, note=reason,
                             values={"closed_at": now, "duplicate_of_id": original_id},
                             calendar=cw.calendar, notifier=cw.notifier, now=now)
    original = await core.load(session, original_id)
    assert original is not None
    if reporter_id is not None and reporter_id != original.citizen_id:
        await FollowerRepo(session).add(original_id, reporter_id, "duplicate", now)
        await session.refresh(original)
        if (to := await recipients.reporter_of(session, report)) is not None:
            await cw.notifier.send(session, to, MarkedDuplicate(report, original), now=now)
    else:
        await core.tell_reporter(session, cw, report, EventKind.REJECTED, note=reason, now=now)
    # Whoever followed the duplicate follows the original now: it is the same problem. They find it
    # in /laporan and hear of its updates from here on.
    followers = FollowerRepo(session)
    for person in await followers.citizens_of(report.id):
        if person.id != original.citizen_id:
            await followers.add(original_id, person.id, "duplicate", now)
    await audit.record(session, actor, audit.AuditAction.REJECT, report.tracking_id,
                       {"report_id": report.id, "from_status": previous, "duplicate_of": original.tracking_id})
    await session.commit()
    return report, original


async def archive_report(
    session: AsyncSession, cw: Casework, actor: Actor, report_id: int, reason: str, now: datetime
) -> Report:
    """Arsipkan: the report needs no follow-up (already solved, a greeting, a question answered
    elsewhere) and ends without an agency. ``reason`` is what the citizen reads."""
    return await _end_with_reason(session, cw, actor, report_id, reason, now, Action.ARCHIVE, S.ARCHIVED,
                                  EventKind.ARCHIVED, audit.AuditAction.ARCHIVE)


async def set_supervisory(
    session: AsyncSession, cw: Casework, actor: Actor, report_id: int, supervisory: bool
) -> Report:
    """Berkadar pengawasan: only a complaint can be; its completion deadline is counted again
    from the day it was filed (60 working days instead of 14)."""
    report = await core.report_for(session, actor, Action.MARK_SUPERVISORY, report_id)
    if report.classification != Classification.COMPLAINT:
        raise Refused(Reason.INVALID)
    if report.supervisory != supervisory:
        report.supervisory = supervisory
        report.completion_due = deadlines.completion_due(report.submitted_at, report.classification,
                                                         supervisory, cw.calendar)
        await audit.record(session, actor, audit.AuditAction.SUPERVISORY, report.tracking_id,
                           {"report_id": report.id, "supervisory": supervisory,
                            "completion_due": report.completion_due.isoformat()})
        await session.commit()
    return report


async def postpone_report(
    session: AsyncSession, cw: Casework, actor: Actor, report_id: int, now: datetime
) -> Report:
    report = await core.report_for(session, actor, Action.POSTPONE, report_id)
    report = await core.move(session, report, S.POSTPONED, EventKind.POSTPONED, role=ActorRole.ADMIN,
                             actor_id=actor.citizen_id, agency_id=None,
                             calendar=cw.calendar, notifier=cw.notifier, now=now)
    await core.tell_reporter(session, cw, report, EventKind.POSTPONED, now=now)
    await session.commit()
    return report


# -- a new report --------------------------------------------------------------------------------
@dataclass(frozen=True)
class SubmissionHook:
    """Runs inside the intake's transaction (``submit_report(..., on_submitted=hook)``): with
    ``[workflow] auto_assign`` a report whose citizen chose an agency is assigned at once;
    otherwise the admins hear about the new report."""

    cw: Casework

    async def __call__(self, session: AsyncSession, report: Report) -> None:
        now = report.submitted_at
        if self.cw.auto_assign and report.requested_agency_id is not None:
            agency = await AgencyRepo(session).get_active(report.requested_agency_id)
            if agency is not None:
                await _assign(session, self.cw, report, agency, role=ActorRole.SYSTEM, actor_id=None, now=now)
                return
        reporter = await CitizenRepo(session).get(report.citizen_id)
        await core.tell_admins(session, self.cw, NewReport(report, reporter), now=now)
