"""Reports as the public may see them: the status page (/r/<tracking id>) and the Open311 API.

Everything public goes through ``public_view``, which applies ``bot.domain.publication``: no
confidential report at all (it is not found, exactly like an unknown id), never the reporter's
identity, content only once verified, never an anonymous report's place. Timelines carry what
happened, when and which agency, never notes (an answer or a reason can name people).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.enums import EventKind
from bot.domain.lifecycle import TERMINAL
from bot.domain.publication import disclosure
from bot.services.my_reports import DeadlineKind, next_deadline
from storage.models import Agency, Category, Report
from storage.repositories.categories import CategoryRepo
from storage.repositories.public import PublicRepo

# Events shown on the public timeline (a reporter's reply and internal notes are theirs).
PUBLIC_EVENTS = frozenset({
    EventKind.SUBMITTED, EventKind.ASSIGNED, EventKind.REROUTED, EventKind.REJECTED, EventKind.POSTPONED,
    EventKind.ARCHIVED, EventKind.TAKEN, EventKind.INFO_REQUESTED, EventKind.ANSWERED, EventKind.RETURNED,
    EventKind.ACCEPTED, EventKind.DISPUTED, EventKind.AUTO_CLOSED, EventKind.CHECKIN_REOPENED,
    EventKind.LAPOR_RECORDED, EventKind.WITHDRAWN,
})


@dataclass(frozen=True)
class PublicEvent:
    kind: str
    at: datetime
    agency: str | None
    lapor_id: str | None = None  # the number, on a LAPOR_RECORDED entry


@dataclass(frozen=True)
class PublicReport:
    tracking_id: str
    status: str
    classification: str
    category: Category | None
    agency: Agency | None
    submitted_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    completion_due: date | None
    next_deadline: tuple[DeadlineKind, date] | None
    lapor_id: str | None
    # Citizens who said "this is my problem too" (followers), never who they are.
    supporters: int = 0
    # None when not published (see bot.domain.publication).
    title: str | None = None
    description: str | None = None
    address: str | None = None
    lat: float | None = None
    long: float | None = None
    events: list[PublicEvent] = field(default_factory=list)

    @property
    def is_open(self) -> bool:
        return self.status not in TERMINAL


def public_view(report: Report, agencies: dict[int, Agency], *, with_events: bool = False) -> PublicReport | None:
    show = disclosure(report.privacy, report.assigned_at)
    if not show.listed:
        return None
    events = []
    if with_events:
        for e in report.events:
            if e.kind in PUBLIC_EVENTS:
                agency = agencies.get(e.agency_id) if e.agency_id else None
                events.append(PublicEvent(e.kind, e.created_at, agency.name if agency else None,
                                          e.note if e.kind == EventKind.LAPOR_RECORDED else None))
    return PublicReport(
        tracking_id=report.tracking_id,
        status=report.status,
        classification=report.classification,
        category=report.category,
        agency=agencies.get(report.agency_id) if report.agency_id else None,
        submitted_at=report.submitted_at,
        updated_at=report.updated_at,
        closed_at=report.closed_at if report.status in TERMINAL else None,
        completion_due=report.completion_due,
        next_deadline=next_deadline(report),
        lapor_id=report.lapor_id,
        supporters=report.supporters,
        title=report.title if show.content else None,
        description=report.body if show.content else None,
        address=report.location_text if show.place else None,
        lat=report.latitude if show.place else None,
        long=report.longitude if show.place else None,
        events=events,
    )


async def _views(session: AsyncSession, reports: Sequence[Report], *, with_events: bool) -> list[PublicReport]:
    ids = {r.agency_id for r in reports} | {e.agency_id for r in reports if with_events for e in r.events}
    agencies = await PublicRepo(session).agencies({i for i in ids if i is not None})
    return [v for r in reports if (v := public_view(r, agencies, with_events=with_events)) is not None]


async def find(session: AsyncSession, tracking_id: str) -> PublicReport | None:
    """One report with its public timeline; None when unknown or confidential, alike."""
    views = await _views(session, await PublicRepo(session).by_tracking_ids([tracking_id], with_events=True),
                         with_events=True)
    return views[0] if views else None


async def find_many(session: AsyncSession, tracking_ids: Collection[str]) -> list[PublicReport]:
    return await _views(session, await PublicRepo(session).by_tracking_ids(tracking_ids), with_events=False)


async def search(
    session: AsyncSession, *, submitted_from: datetime, submitted_before: datetime,
    statuses: Collection[str] | None, category_ids: Collection[int | None] | None, limit: int,
) -> list[PublicReport]:
    reports = await PublicRepo(session).search(
        submitted_from=submitted_from, submitted_before=submitted_before, statuses=statuses,
        category_ids=category_ids, limit=limit,
    )
    return await _views(session, reports, with_events=False)


async def services(session: AsyncSession) -> Sequence[Category]:
    """The active categories, parents first within the file's order (Open311 services)."""
    return await CategoryRepo(session).all_active()


async def service(session: AsyncSession, code: str) -> Category | None:
    category = await CategoryRepo(session).by_code(code)
    return category if category is not None and category.active else None
