"""Casework use cases: verification and assignment (admins), the follow-up (officers), the
reporter's side of the dialogue.

Every function re-checks who may act on the server (callback data can be forged): admins
verify, assign, reject, postpone; an officer acts only on a report assigned to one of their
agencies and in a status that allows the action; a reporter only on their own report. Each status
change is a conditional UPDATE (``CaseRepo.change_status``), so of two simultaneous presses one
wins and the other gets ``Refusal.CONFLICT``. Messages are written to the outbox in the same
transaction; the functions commit (except ``SubmissionHook``, which runs inside the intake's).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from aiogram.utils.i18n import I18n
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import deadlines
from bot.domain.enums import ActorRole, EventKind, ReportStatus
from bot.domain.lifecycle import VERIFICATION_QUEUE, WITH_AGENCY, can_transition
from bot.domain.paging import clamp_page
from bot.domain.text_rules import validate_reason
from bot.domain.workdays import WorkCalendar
from bot.services import audit, notify, webhooks
from bot.services.notify import Notifier
from bot.services.roles import Roles
from storage.models import Agency, Attachment, Citizen, Report, ReportEvent, ResponseTemplate
from storage.repositories.agencies import AgencyRepo
from storage.repositories.cases import CaseRepo
from storage.repositories.citizens import CitizenRepo
from storage.repositories.reports import ReportRepo

S = ReportStatus
PAGE_SIZE = 8
RATINGS = range(1, 6)
TEMPLATE_TITLE_MAX = 64


class Refusal(StrEnum):
    FORBIDDEN = "forbidden"  # wrong role, someone else's report, or no such report
    NOT_NOW = "not_now"  # the status does not allow this action
    CONFLICT = "conflict"  # someone else changed it first
    TOO_LATE = "too_late"  # the reply window has passed
    INVALID = "invalid"  # bad input (an unknown agency, a rating outside 1–5)


class CaseRefused(Exception):
    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.value)
        self.refusal = refusal


@dataclass(frozen=True)
class FileRef:
    """A file the reporter sent with an answer (kept on Telegram's servers by file_id)."""

    file_id: str
    file_unique_id: str
    kind: str  # photo | document | video
    file_size: int | None = None
    mime_type: str | None = None
    file_name: str | None = None


def notifier(settings: Any, i18n: I18n, calendar: WorkCalendar) -> Notifier:
    """The Notifier handlers build from their injected ``settings``, ``i18n`` and ``calendar``."""
    return Notifier(
        i18n=i18n,
        calendar=calendar,
        admin_ids=tuple(settings.roles.admin_ids),
        notifications=settings.notifications,
    )


# -- shared steps ----------------------------------------------------------------------------
async def _names(session: AsyncSession, ids: set[int | None]) -> dict[int, str]:
    repo = AgencyRepo(session)
    out: dict[int, str] = {}
    for agency_id in sorted(i for i in ids if i is not None):
        if (agency := await repo.get(agency_id)) is not None:
            out[agency_id] = agency.name
    return out


async def _change(
    session: AsyncSession,
    report: Report,
    target: S,
    *,
    agency_ids: Sequence[int] | None = None,
    values: dict[str, Any] | None = None,
    now: datetime,
) -> Report:
    """Move ``report`` from the status it was read in to ``target``, or refuse if someone got
    there first. Returns the report re-read with its details."""
    repo = CaseRepo(session)
    report_id, previous = report.id, report.status
    ok = await repo.change_status(
        report_id,
        expected_status=report.status,
        agency_ids=agency_ids,
        values={"status": target.value, "updated_at": now, **(values or {})},
    )
    if not ok:
        await session.rollback()
        raise CaseRefused(Refusal.CONFLICT)
    fresh = await repo.get_with_details(report_id)
    assert fresh is not None
    await webhooks.status_changed(session, fresh, previous, now)
    return fresh


async def _event(
    session: AsyncSession,
    report: Report,
    kind: EventKind,
    *,
    role: ActorRole,
    actor_id: int | None,
    agency_id: int | None,
    from_status: str | None,
    to_status: str | None,
    note: str | None,
    now: datetime,
) -> ReportEvent:
    return await ReportRepo(session).add_event(
        ReportEvent(
            report_id=report.id,
            created_at=now,
            actor_role=role,
            actor_citizen_id=actor_id,
            agency_id=agency_id,
            kind=kind,
            from_status=from_status,
            to_status=to_status,
            note=note,
        )
    )


async def _reporter(session: AsyncSession, report: Report) -> Citizen | None:
    # None for a report filed through the Open311 API: nobody to message in Telegram.
    return await CitizenRepo(session).get(report.citizen_id) if report.citizen_id else None


async def _report_attachments(session: AsyncSession, report_id: int) -> Sequence[Attachment]:
    stmt = select(Attachment).where(Attachment.report_id == report_id).order_by(Attachment.id)
    return (await session.scalars(stmt)).all()


def _require_admin(roles: Roles) -> None:
    if not roles.is_admin:
        raise CaseRefused(Refusal.FORBIDDEN)


# -- admin: verification -----------------------------------------------------------------------
async def _admin_report(session: AsyncSession, roles: Roles, report_id: int) -> Report:
    _require_admin(roles)
    report = await CaseRepo(session).get_with_details(report_id)
    if report is None:
        raise CaseRefused(Refusal.FORBIDDEN)
    return report


async def _assign(
    session: AsyncSession,
    n: Notifier,
    report: Report,
    agency: Agency,
    *,
    role: ActorRole,
    actor_id: int | None,
    now: datetime,
) -> Report:
    if report.status not in VERIFICATION_QUEUE or not can_transition(report.status, S.ASSIGNED):
        raise CaseRefused(Refusal.NOT_NOW)
    previous = report.status
    # A report that was with another agency before is re-routed (pelimpahan), not assigned anew.
    rerouted = previous == S.RETURNED
    report = await _change(
        session,
        report,
        S.ASSIGNED,
        values={
            "agency_id": agency.id,
            "assigned_at": now,
            "followup_due": deadlines.followup_due(now, n.calendar),
        },
        now=now,
    )
    kind = EventKind.REROUTED if rerouted else EventKind.ASSIGNED
    await _event(session, report, kind, role=role, actor_id=actor_id, agency_id=agency.id,
                 from_status=previous, to_status=S.ASSIGNED, note=None, now=now)
    reporter = await _reporter(session, report)
    attachments = await _report_attachments(session, report.id)
    await notify.notify_officers_assigned(session, n, report, agency, reporter, attachments)
    if reporter is not None:
        await notify.tell_citizen(session, n, report, reporter, kind, agency_name=agency.name)
    return report


async def assign_report(
    session: AsyncSession, n: Notifier, roles: Roles, actor_id: int, report_id: int,
    agency_id: int, now: datetime,
) -> Report:
    report = await _admin_report(session, roles, report_id)
    agency = await AgencyRepo(session).get_active(agency_id)
    if agency is None:
        raise CaseRefused(Refusal.INVALID)
    previous = report.status
    report = await _assign(session, n, report, agency, role=ActorRole.ADMIN, actor_id=actor_id, now=now)
    await audit.record(session, await session.get(Citizen, actor_id), audit.AuditAction.ASSIGN,
                       report.tracking_id, {"report_id": report.id, "agency_id": agency.id,
                                            "agency": agency.name, "from_status": previous})
    await session.commit()
    return report


async def reject_report(
    session: AsyncSession, n: Notifier, roles: Roles, actor_id: int, report_id: int,
    reason: str, now: datetime,
) -> Report:
    """``reason`` is what the citizen reads (the template's words plus the admin's text)."""
    reason = validate_reason(reason)
    report = await _admin_report(session, roles, report_id)
    if report.status not in VERIFICATION_QUEUE:
        raise CaseRefused(Refusal.NOT_NOW)
    previous = report.status
    report = await _change(session, report, S.REJECTED, values={"closed_at": now}, now=now)
    await _event(session, report, EventKind.REJECTED, role=ActorRole.ADMIN, actor_id=actor_id,
                 agency_id=None, from_status=previous, to_status=S.REJECTED, note=reason, now=now)
    if (reporter := await _reporter(session, report)) is not None:
        await notify.tell_citizen(session, n, report, reporter, EventKind.REJECTED, note=reason)
    await audit.record(session, await session.get(Citizen, actor_id), audit.AuditAction.REJECT,
                       report.tracking_id, {"report_id": report.id, "from_status": previous})
    await session.commit()
    return report


async def postpone_report(
    session: AsyncSession, n: Notifier, roles: Roles, actor_id: int, report_id: int, now: datetime
) -> Report:
    report = await _admin_report(session, roles, report_id)
    if not can_transition(report.status, S.POSTPONED):
        raise CaseRefused(Refusal.NOT_NOW)
    previous = report.status
    report = await _change(session, report, S.POSTPONED, now=now)
    await _event(session, report, EventKind.POSTPONED, role=ActorRole.ADMIN, actor_id=actor_id,
                 agency_id=None, from_status=previous, to_status=S.POSTPONED, note=None, now=now)
    if (reporter := await _reporter(session, report)) is not None:
        await notify.tell_citizen(session, n, report, reporter, EventKind.POSTPONED)
    await session.commit()
    return report


async def find_by_tracking_id(session: AsyncSession, tracking_id: str) -> Report | None:
    return await ReportRepo(session).by_tracking_id(tracking_id)


@dataclass(frozen=True)
class QueuePage:
    reports: list[Report]
    page: int
    pages: int
    total: int
    overdue: int


async def verification_queue(
    session: AsyncSession, roles: Roles, page: int, today: date, *, page_size: int = PAGE_SIZE
) -> QueuePage:
    _require_admin(roles)
    repo = CaseRepo(session)
    total = await repo.count_status(VERIFICATION_QUEUE)
    page, pages = clamp_page(page, total, page_size)
    reports = await repo.verification_queue(VERIFICATION_QUEUE, offset=page * page_size, limit=page_size)
    overdue = await repo.overdue_verification(VERIFICATION_QUEUE, today)
    return QueuePage(list(reports), page, pages, total, overdue)


@dataclass(frozen=True)
class CaseView:
    report: Report
    reporter: Citizen | None
    agency_names: dict[int, str]
    # The officer's reason when the report came back as "not our authority".
    returned_reason: str | None = None
    returned_by: str | None = None
    # The agency to offer first when assigning: the citizen's choice or the category's default,
    # unless that agency returned it.
    suggested: tuple[int, str] | None = None
    events: list[ReportEvent] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)


async def _view(session: AsyncSession, report: Report) -> CaseView:
    names = await _names(session, {report.agency_id, report.requested_agency_id} | {e.agency_id for e in report.events})
    returned = next((e for e in reversed(report.events) if e.kind == EventKind.RETURNED), None)
    suggested = None
    refused = {e.agency_id for e in report.events if e.kind == EventKind.RETURNED}
    # The citizen's choice first, else the category's default agency.
    default = report.category.default_agency_id if report.category else None
    for choice in (report.requested_agency_id, default):
        if choice and choice not in refused and (agency := await AgencyRepo(session).get_active(choice)):
            suggested = (agency.id, agency.name)
            break
    return CaseView(
        report=report,
        reporter=await _reporter(session, report),
        agency_names=names,
        returned_reason=returned.note if returned and report.status == S.RETURNED else None,
        returned_by=names.get(returned.agency_id) if returned and returned.agency_id else None,
        suggested=suggested,
        events=list(report.events),
        attachments=list(report.attachments),
    )


async def admin_case(session: AsyncSession, roles: Roles, report_id: int) -> CaseView:
    return await _view(session, await _admin_report(session, roles, report_id))


# -- officers ------------------------------------------------------------------------------------
async def _officer_report(session: AsyncSession, roles: Roles, report_id: int) -> Report:
    report = await CaseRepo(session).get_with_details(report_id)
    # A missing report and another agency's report look the same: no existence leak.
    if report is None or report.agency_id is None or report.agency_id not in roles.agency_ids:
        raise CaseRefused(Refusal.FORBIDDEN)
    return report


async def officer_case(session: AsyncSession, roles: Roles, report_id: int) -> CaseView:
    return await _view(session, await _officer_report(session, roles, report_id))


async def _officer_act(
    session: AsyncSession,
    n: Notifier,
    roles: Roles,
    actor_id: int,
    report_id: int,
    target: S,
    kind: EventKind,
    *,
    allowed_from: frozenset[str],
    note: str | None,
    values: dict[str, Any],
    now: datetime,
    tell_reporter: bool = False,
) -> tuple[Report, int]:
    """The checks, the status change and the event of an officer's action; with
    ``tell_reporter`` the reporter hears of it too, with ``note`` (the officer's words)."""
    report = await _officer_report(session, roles, report_id)
    if report.status not in allowed_from or not can_transition(report.status, target):
        raise CaseRefused(Refusal.NOT_NOW)
    agency_id = report.agency_id
    assert agency_id is not None
    previous = report.status
    if report.first_response_at is None:
        values = {"first_response_at": now, **values}
    report = await _change(session, report, target, agency_ids=[agency_id], values=values, now=now)
    await _event(session, report, kind, role=ActorRole.OFFICER, actor_id=actor_id, agency_id=agency_id,
                 from_status=previous, to_status=target, note=note, now=now)
    if tell_reporter:
        await _tell_reporter(session, n, report, kind, agency_id, note)
    return report, agency_id


async def _tell_reporter(
    session: AsyncSession, n: Notifier, report: Report, kind: EventKind, agency_id: int, note: str | None
) -> None:
    reporter = await _reporter(session, report)
    if reporter is None:
        return
    agency = await AgencyRepo(session).get(agency_id)
    await notify.tell_citizen(session, n, report, reporter, kind,
                              agency_name=agency.name if agency else None, note=note)


async def take_report(
    session: AsyncSession, n: Notifier, roles: Roles, actor_id: int, report_id: int, now: datetime
) -> Report:
    report, agency_id = await _officer_act(
        session, n, roles, actor_id, report_id, S.IN_PROGRESS, EventKind.TAKEN,
        allowed_from=frozenset({S.ASSIGNED}), note=None, values={}, now=now, tell_reporter=True,
    )
    # Only the winner gets here: a simultaneous second press was refused (CONFLICT) above.
    await notify.notify_officers_taken(session, n, report, agency_id, await session.get(Citizen, actor_id))
    await session.commit()
    return report


async def request_info(
    session: AsyncSession, n: Notifier, roles: Roles, actor_id: int, report_id: int,
    question: str, now: datetime,
) -> Report:
    report, _agency_id = await _officer_act(
        session, n, roles, actor_id, report_id, S.AWAITING_REPORTER, EventKind.INFO_REQUESTED,
        allowed_from=frozenset({S.ASSIGNED, S.IN_PROGRESS}), note=validate_reason(question),
        values={}, now=now, tell_reporter=True,
    )
    await session.commit()
    return report


async def answer_report(
    session: AsyncSession, n: Notifier, roles: Roles, actor_id: int, report_id: int,
    answer: str, now: datetime,
) -> Report:
    report, _agency_id = await _officer_act(
        session, n, roles, actor_id, report_id, S.ANSWERED, EventKind.ANSWERED,
        allowed_from=WITH_AGENCY, note=validate_reason(answer),
        values={"answered_at": now, "reply_due": deadlines.reply_due(now, n.calendar)}, now=now,
        tell_reporter=True,
    )
    await session.commit()
    return report


async def return_report(
    session: AsyncSession, n: Notifier, roles: Roles, actor_id: int, report_id: int,
    reason: str, now: datetime,
) -> Report:
    """Bukan wewenang: back to the admin's queue with the reason; the agency lets go of it."""
    reason = validate_reason(reason)
    report, agency_id = await _officer_act(
        session, n, roles, actor_id, report_id, S.RETURNED, EventKind.RETURNED,
        allowed_from=WITH_AGENCY, note=reason, values={"agency_id": None}, now=now,
    )
    agency = await AgencyRepo(session).get(agency_id)
    name = agency.name if agency else ""
    await notify.notify_admins_returned(session, n, report, name, reason)
    # The citizen hears that it moves on, not the agency's internal reason.
    await _tell_reporter(session, n, report, EventKind.RETURNED, agency_id, None)
    await session.commit()
    return report


@dataclass(frozen=True)
class InboxPage:
    reports: list[Report]
    page: int
    pages: int
    total: int


async def agency_inbox(
    session: AsyncSession, roles: Roles, page: int, *, page_size: int = PAGE_SIZE
) -> InboxPage:
    if not roles.is_officer:
        raise CaseRefused(Refusal.FORBIDDEN)
    repo = CaseRepo(session)
    total = await repo.count_agency_open(roles.agency_ids, WITH_AGENCY)
    page, pages = clamp_page(page, total, page_size)
    reports = await repo.agency_open(roles.agency_ids, WITH_AGENCY, offset=page * page_size, limit=page_size)
    return InboxPage(list(reports), page, pages, total)


# -- templates -----------------------------------------------------------------------------------
async def add_template(
    session: AsyncSession, roles: Roles, actor_id: int, title: str, body: str
) -> ResponseTemplate:
    """An admin's template is global; an officer's belongs to their agency (the first one, by
    id, when they serve several)."""
    if not (roles.is_admin or roles.is_officer):
        raise CaseRefused(Refusal.FORBIDDEN)
    title = " ".join(title.split())[:TEMPLATE_TITLE_MAX]
    body = validate_reason(body)
    if not title:
        raise CaseRefused(Refusal.INVALID)
    agency_id = None if roles.is_admin else min(roles.agency_ids)
    template = await CaseRepo(session).add_template(
        ResponseTemplate(agency_id=agency_id, title=title, body=body, created_by_id=actor_id)
    )
    await session.commit()
    return template


async def templates_for(session: AsyncSession, roles: Roles) -> Sequence[ResponseTemplate]:
    return await CaseRepo(session).templates_for(roles.agency_ids)


async def template_text(session: AsyncSession, roles: Roles, template_id: int) -> str:
    """A template's body, if this user may use it (global, or one of their agencies')."""
    template = await CaseRepo(session).get_template(template_id)
    if (
        template is None
        or not template.active
        or (template.agency_id is not None and template.agency_id not in roles.agency_ids)
    ):
        raise CaseRefused(Refusal.FORBIDDEN)
    return template.body


# -- the reporter --------------------------------------------------------------------------------
async def _own_report(session: AsyncSession, citizen: Citizen, report_id: int) -> Report:
    report = await CaseRepo(session).get_with_details(report_id)
    if report is None or report.citizen_id != citizen.id:
        raise CaseRefused(Refusal.FORBIDDEN)
    return report


async def pending_questions(session: AsyncSession, citizen: Citizen) -> Sequence[Report]:
    """The citizen's reports waiting for their answer to an officer's question."""
    return await CaseRepo(session).citizen_reports_in(citizen.id, S.AWAITING_REPORTER)


async def accepts_more_reply(session: AsyncSession, citizen: Citizen, report_id: int) -> bool:
    """Whether a file sent right after an answer (an album arrives one message per photo) still
    belongs to that answer: nothing has changed the status since."""
    report = await CaseRepo(session).get_with_details(report_id)
    if report is None or report.citizen_id != citizen.id or report.status != S.IN_PROGRESS:
        return False
    last = await CaseRepo(session).last_status_event(report_id)
    return last is not None and last.kind == EventKind.REPORTER_REPLIED


async def reporter_reply(
    session: AsyncSession, n: Notifier, citizen: Citizen, report_id: int, text: str | None,
    files: Sequence[FileRef], now: datetime, *, continuing: bool = False,
) -> Report:
    """The reporter's answer to a question: onto the timeline and to every officer of the
    agency (re-sent as text and file_ids, never forwarded). ``continuing``: more files of an
    answer already sent, allowed while nothing else has happened since."""
    note = validate_reason(text) if text and text.strip() else None
    if note is None and not files:
        raise CaseRefused(Refusal.INVALID)
    report = await _own_report(session, citizen, report_id)
    agency_id = report.agency_id
    if agency_id is None:
        raise CaseRefused(Refusal.NOT_NOW)
    if continuing:
        if not await accepts_more_reply(session, citizen, report_id):
            raise CaseRefused(Refusal.NOT_NOW)
        from_status = to_status = None
    else:
        if report.status != S.AWAITING_REPORTER:
            raise CaseRefused(Refusal.NOT_NOW)
        from_status, to_status = report.status, S.IN_PROGRESS
        report = await _change(session, report, S.IN_PROGRESS, values={}, now=now)
    event = await _event(session, report, EventKind.REPORTER_REPLIED, role=ActorRole.CITIZEN,
                         actor_id=citizen.id, agency_id=agency_id, from_status=from_status,
                         to_status=to_status, note=note, now=now)
    repo = ReportRepo(session)
    stored = [
        await repo.add_attachment(
            Attachment(report_id=report.id, event_id=event.id, file_id=f.file_id,
                       file_unique_id=f.file_unique_id, kind=f.kind, file_size=f.file_size,
                       mime_type=f.mime_type, file_name=f.file_name, created_at=now)
        )
        for f in files
    ]
    await notify.notify_officers_event(session, n, report, agency_id, EventKind.REPORTER_REPLIED,
                                       note=note, attachments=stored)
    await session.commit()
    return report


async def accept_answer(
    session: AsyncSession, n: Notifier, citizen: Citizen, report_id: int, rating: int, now: datetime
) -> Report:
    if rating not in RATINGS:
        raise CaseRefused(Refusal.INVALID)
    report = await _own_report(session, citizen, report_id)
    if report.status != S.ANSWERED:
        raise CaseRefused(Refusal.NOT_NOW)
    agency_id = report.agency_id
    report = await _change(session, report, S.CLOSED, values={"closed_at": now, "rating": rating}, now=now)
    await _event(session, report, EventKind.ACCEPTED, role=ActorRole.CITIZEN, actor_id=citizen.id,
                 agency_id=agency_id, from_status=S.ANSWERED, to_status=S.CLOSED,
                 note=f"{rating}/5", now=now)
    if agency_id is not None:
        await notify.notify_officers_event(session, n, report, agency_id, EventKind.ACCEPTED)
    await session.commit()
    return report


async def add_rating_comment(
    session: AsyncSession, n: Notifier, citizen: Citizen, report_id: int, comment: str, now: datetime
) -> Report:
    comment = validate_reason(comment)
    report = await _own_report(session, citizen, report_id)
    if report.status != S.CLOSED or report.rating is None or report.rating_comment is not None:
        raise CaseRefused(Refusal.NOT_NOW)
    agency_id = report.agency_id
    report = await _change(session, report, S.CLOSED, values={"rating_comment": comment}, now=now)
    if agency_id is not None:
        await notify.notify_officers_event(session, n, report, agency_id, EventKind.NOTE, note=comment)
    await session.commit()
    return report


REOPEN_KINDS = (EventKind.DISPUTED, EventKind.CHECKIN_REOPENED)


async def reopen_report(
    session: AsyncSession,
    n: Notifier,
    report: Report,
    *,
    reason_kind: EventKind,
    actor_id: int,
    note: str | None = None,
    now: datetime,
) -> Report:
    """Send a report back to its agency on the reporter's word: a dispute of the answer
    (``DISPUTED``, from "answered") or "not solved" at the check-in (``CHECKIN_REOPENED``, from
    "completed"). Counts the reopening, restarts the follow-up deadline, adds the event and
    tells the agency's officers; the caller checks ownership and commits. Raises
    ``CaseRefused(CONFLICT)`` when someone changed the report first."""
    if reason_kind not in REOPEN_KINDS:
        raise ValueError(f"not a reopening: {reason_kind}")
    agency_id = report.agency_id
    previous = report.status
    report = await _change(
        session, report, S.IN_PROGRESS,
        values={
            # An SQL expression, not the value read earlier: two reopenings both count.
            "reopened_count": Report.reopened_count + 1,
            "followup_due": deadlines.followup_due(now, n.calendar),
            "reply_due": None,
            "closed_at": None,
        },
        now=now,
    )
    await _event(session, report, reason_kind, role=ActorRole.CITIZEN, actor_id=actor_id,
                 agency_id=agency_id, from_status=previous, to_status=S.IN_PROGRESS, note=note, now=now)
    if agency_id is not None:
        await notify.notify_officers_event(session, n, report, agency_id, reason_kind, note=note)
    return report


async def dispute_answer(
    session: AsyncSession, n: Notifier, citizen: Citizen, report_id: int, reason: str, now: datetime
) -> Report:
    """Belum selesai: back to the agency, within the 10-working-day reply window only."""
    reason = validate_reason(reason)
    report = await _own_report(session, citizen, report_id)
    if report.status != S.ANSWERED or report.agency_id is None:
        raise CaseRefused(Refusal.NOT_NOW)
    if report.reply_due is not None and deadlines.is_overdue(report.reply_due, n.calendar.local_date(now)):
        raise CaseRefused(Refusal.TOO_LATE)
    agency_id = report.agency_id
    report = await reopen_report(session, n, report, reason_kind=EventKind.DISPUTED,
                                 actor_id=citizen.id, note=reason, now=now)
    await _tell_reporter(session, n, report, EventKind.DISPUTED, agency_id, None)
    await session.commit()
    return report


# -- intake hook ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class SubmissionHook:
    """Runs inside the intake's transaction (``submit_report(..., on_submitted=hook)``): with
    ``[workflow] auto_assign`` a report whose citizen chose an agency is assigned at once;
    otherwise the admins hear about the new report."""

    notifier: Notifier
    auto_assign: bool

    async def __call__(self, session: AsyncSession, report: Report) -> None:
        now = report.submitted_at
        if self.auto_assign and report.requested_agency_id is not None:
            agency = await AgencyRepo(session).get_active(report.requested_agency_id)
            if agency is not None:
                await _assign(session, self.notifier, report, agency, role=ActorRole.SYSTEM,
                              actor_id=None, now=now)
                return
        await notify.notify_admins_new_report(session, self.notifier, report, await _reporter(session, report))


def submission_hook(settings: Any, i18n: I18n, calendar: WorkCalendar) -> SubmissionHook:
    return SubmissionHook(notifier(settings, i18n, calendar), settings.workflow.auto_assign)
