"""What every casework use case shares: its dependencies, loading a report and asking the
access rules, the guarded status change, timeline events, telling people, the case view."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import access, timing
from bot.domain.access import Action, Actor, Reason, Refused
from bot.domain.enums import ActorRole, EventKind, ReportStatus
from bot.domain.workdays import WorkCalendar
from bot.logs import bind_report
from bot.services import group_chats, recipients, related, webhooks
from bot.services.notices import Notice, ReportUpdate
from bot.services.ports import Notifier
from storage.models import Attachment, Citizen, Report, ReportEvent
from storage.repositories.agencies import AgencyRepo
from storage.repositories.cases import CaseRepo
from storage.repositories.citizens import CitizenRepo
from storage.repositories.reports import ReportRepo

PAGE_SIZE = 8


@dataclass(frozen=True)
class Casework:
    """What the casework use cases need besides the session; built once in ``build_app``."""

    notifier: Notifier
    calendar: WorkCalendar  # working-day deadlines
    admin_ids: tuple[int, ...] = ()
    # [workflow] auto_assign: a report whose citizen chose an agency goes there at once.
    auto_assign: bool = False
    # [limits] relays_per_report_per_hour: the reporter's additions to one report in an hour.
    relays_per_hour: int = 10

    def today(self, now: datetime) -> date:
        return self.calendar.local_date(now)


async def load(session: AsyncSession, report_id: int) -> Report | None:
    """The report with attachments and events, read fresh."""
    report = await CaseRepo(session).get_with_details(report_id)
    # Log lines from here on name the report (by tracking id, never by reporter).
    bind_report(report.tracking_id if report is not None else None)
    return report


async def report_for(
    session: AsyncSession, actor: Actor, action: Action, report_id: int, *, today: date | None = None
) -> Report:
    """The report, if ``actor`` may do ``action`` on it now; else ``Refused`` (a missing report
    is refused like someone else's)."""
    report = await load(session, report_id)
    access.ensure(actor, action, report, today=today)
    assert report is not None
    return report


async def change_status(
    session: AsyncSession,
    report: Report,
    target: ReportStatus,
    *,
    agency_ids: Collection[int] | None = None,
    values: dict[str, Any] | None = None,
    calendar: WorkCalendar,
    notifier: Notifier,
    now: datetime,
) -> Report:
    """Move ``report`` from the status it was read in to ``target``, or refuse with CONFLICT if
    someone got there first. Returns the report re-read with its details. Integrators hear of
    the change (``bot.services.webhooks``) in the same transaction, and the report's forum topics
    close when it ends and reopen with it (``group_chats.follow_report_status``). The facts
    statistics sum (``bot.domain.timing``) are stored in the same UPDATE."""
    repo = CaseRepo(session)
    report_id, previous = report.id, report.status
    values = values or {}
    facts = timing.facts_of_change(report.submitted_at, previous, target, values, now, calendar,
                                   answered_at=report.answered_at, completion_due=report.completion_due)
    ok = await repo.change_status(
        report_id,
        expected_status=report.status,
        agency_ids=agency_ids,
        values={"status": target.value, "updated_at": now, **values, **facts},
    )
    if not ok:
        await session.rollback()
        raise Refused(Reason.CONFLICT, await repo.status_of(report_id))
    fresh = await repo.get_with_details(report_id)
    assert fresh is not None
    await webhooks.status_changed(session, fresh, previous, now)
    await group_chats.follow_report_status(session, notifier, fresh, previous, now)
    return fresh


async def add_event(
    session: AsyncSession,
    report: Report,
    kind: EventKind,
    *,
    role: ActorRole,
    actor_id: int | None,
    agency_id: int | None,
    from_status: str | None,
    to_status: str | None,
    note: str | None = None,
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


async def move(
    session: AsyncSession,
    report: Report,
    target: ReportStatus,
    kind: EventKind,
    *,
    role: ActorRole,
    actor_id: int | None,
    agency_id: int | None,
    note: str | None = None,
    values: dict[str, Any] | None = None,
    agency_ids: Collection[int] | None = None,
    calendar: WorkCalendar,
    notifier: Notifier,
    now: datetime,
) -> Report:
    """``change_status`` and the timeline event that records it, from the status the report
    was read in."""
    previous = report.status
    report = await change_status(session, report, target, agency_ids=agency_ids, values=values,
                                 calendar=calendar, notifier=notifier, now=now)
    await add_event(session, report, kind, role=role, actor_id=actor_id, agency_id=agency_id,
                    from_status=previous, to_status=target, note=note, now=now)
    return report


async def agency_name(session: AsyncSession, agency_id: int | None) -> str | None:
    agency = await AgencyRepo(session).get(agency_id) if agency_id is not None else None
    return agency.name if agency is not None else None


# -- telling people ------------------------------------------------------------------------------
async def tell_reporter(
    session: AsyncSession, cw: Casework, report: Report, kind: EventKind, *, now: datetime,
    agency_id: int | None = None, note: str | None = None,
) -> None:
    """What changed, which agency (never an officer), what happens next and by when; the
    report's followers hear it too, without the note."""
    name = await agency_name(session, agency_id)
    if (to := await recipients.reporter_of(session, report)) is not None:
        await cw.notifier.send(session, to, ReportUpdate(report, kind, name, note), now=now)
    await related.tell_followers(session, cw.notifier, report, kind, agency_name=name, now=now)


async def tell_officers(
    session: AsyncSession, cw: Casework, agency_id: int, notice: Notice, *, now: datetime,
    besides: int | None = None,
) -> int:
    """``notice`` to the agency: its group chat and every reachable officer (but ``besides``),
    as the agency chose (``recipients.agency``); how many chats."""
    people = await recipients.agency(session, agency_id, besides=besides)
    for to in people:
        await cw.notifier.send(session, to, notice, now=now)
    return len(people)


async def tell_admins(session: AsyncSession, cw: Casework, notice: Notice, *, now: datetime) -> None:
    for to in await recipients.admins(session, cw.admin_ids):
        await cw.notifier.send(session, to, notice, now=now)


# -- what staff see of a report ------------------------------------------------------------------
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


async def view(session: AsyncSession, report: Report) -> CaseView:
    repo = AgencyRepo(session)
    names: dict[int, str] = {}
    ids = {report.agency_id, report.requested_agency_id} | {e.agency_id for e in report.events}
    for agency_id in sorted(i for i in ids if i is not None):
        if (agency := await repo.get(agency_id)) is not None:
            names[agency_id] = agency.name
    returned = next((e for e in reversed(report.events) if e.kind == EventKind.RETURNED), None)
    suggested = None
    refused = {e.agency_id for e in report.events if e.kind == EventKind.RETURNED}
    # The citizen's choice first, else the category's default agency.
    default = report.category.default_agency_id if report.category else None
    for choice in (report.requested_agency_id, default):
        if choice and choice not in refused and (agency := await repo.get_active(choice)):
            suggested = (agency.id, agency.name)
            break
    return CaseView(
        report=report,
        reporter=await CitizenRepo(session).get(report.citizen_id),
        agency_names=names,
        returned_reason=returned.note if returned and report.status == ReportStatus.RETURNED else None,
        returned_by=names.get(returned.agency_id) if returned and returned.agency_id else None,
        suggested=suggested,
        events=list(report.events),
        attachments=list(report.attachments),
    )


@dataclass(frozen=True)
class Page:
    reports: Sequence[Report]
    page: int
    pages: int
    total: int
    overdue: int = 0
