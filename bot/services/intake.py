"""The complaint form as data (the draft kept in FSM storage) and the use case that files it.

The draft travels through aiogram's FSM storage between updates, so it is plain JSON: dates are
ISO strings, attachments are dicts. Handlers ask this module which step comes next and whether
a file may be attached; ``submit_report`` turns a finished draft into a report.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.deadlines import completion_due, verify_due
from bot.domain.enums import ActorRole, AgencyKind, Channel, Classification, EventKind, Privacy, ReportStatus
from bot.domain.privacy import Cleaning, cleaning_for, coarsen
from bot.domain.tracking import new_tracking_id
from bot.domain.workdays import WorkCalendar
from bot.services import webhooks
from storage.models import Agency, Attachment, Citizen, Report, ReportEvent
from storage.repositories.agencies import AgencyRepo
from storage.repositories.reports import ReportRepo

TRACKING_ID_ATTEMPTS = 8
# Called with the session and the new report before the commit.
SubmittedHook = Callable[[AsyncSession, Report], Awaitable[None]]


class Step(StrEnum):
    """Form steps in order; the values are short because they ride in callback_data."""

    CLASSIFICATION = "cl"
    CATEGORY = "ct"
    AGENCY = "ag"
    TITLE = "ti"
    BODY = "bo"
    DATE = "dt"
    # Privacy before the location and the files: an anonymous reporter is told what a map point
    # or a file may reveal before sending one (bot.domain.privacy).
    PRIVACY = "pr"
    LOCATION = "lo"
    ATTACHMENTS = "at"
    CONFIRM = "cf"


ORDER: tuple[Step, ...] = tuple(Step)


@dataclass
class DraftAttachment:
    file_id: str
    file_unique_id: str
    kind: str  # photo | document | video | voice
    file_size: int | None = None
    mime_type: str | None = None
    file_name: str | None = None


@dataclass
class Draft:
    classification: str | None = None
    # Asked only when the district imported a category tree; chosen with id None: "Lainnya".
    category_offered: bool = False
    category_chosen: bool = False
    category_id: int | None = None
    category_name: str | None = None
    # agency_chosen with agency_id None means "Tidak tahu": the admin routes it.
    agency_chosen: bool = False
    agency_id: int | None = None
    agency_name: str | None = None
    title: str | None = None
    body: str | None = None
    incident_date: str | None = None  # ISO date
    date_skipped: bool = False
    location_text: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    location_skipped: bool = False
    attachments: list[DraftAttachment] = field(default_factory=list)
    # Anonymous reports: files no cleaner can strip, waiting for the citizen to send them anyway.
    held: list[DraftAttachment] = field(default_factory=list)
    attachments_done: bool = False
    privacy: str | None = None
    language: str = "id"

    # -- FSM round trip --------------------------------------------------------------------
    def to_data(self) -> dict[str, Any]:
        # What ``asdict`` gives, without its deep copy of every value (twice per form step; the
        # values are strings, numbers and the attachments' flat records).
        data = {name: getattr(self, name) for name in _DRAFT_FIELDS}
        data["attachments"] = [dict(vars(a)) for a in self.attachments]
        data["held"] = [dict(vars(a)) for a in self.held]
        return data

    @classmethod
    def from_data(cls, data: dict[str, Any] | None) -> Draft:
        data = dict(data or {})
        data = {k: v for k, v in data.items() if k in _DRAFT_KNOWN}
        data["attachments"] = [DraftAttachment(**a) for a in data.get("attachments", [])]
        data["held"] = [DraftAttachment(**a) for a in data.get("held", [])]
        return cls(**data)

    # -- rules -----------------------------------------------------------------------------
    @property
    def is_complaint(self) -> bool:
        return self.classification == Classification.COMPLAINT

    @property
    def incident(self) -> date | None:
        return date.fromisoformat(self.incident_date) if self.incident_date else None

    @property
    def has_location(self) -> bool:
        return bool(self.location_text) or self.latitude is not None

    def is_filled(self, step: Step) -> bool:
        """Whether a step has an acceptable answer (a skip counts where skipping is allowed)."""
        match step:
            case Step.CLASSIFICATION:
                return self.classification in set(Classification)
            case Step.CATEGORY:
                return self.category_chosen or not self.category_offered
            case Step.AGENCY:
                return self.agency_chosen
            case Step.TITLE:
                return bool(self.title)
            case Step.BODY:
                return bool(self.body)
            case Step.DATE:
                return self.incident_date is not None or (self.date_skipped and not self.is_complaint)
            case Step.LOCATION:
                return self.has_location or (self.location_skipped and not self.is_complaint)
            case Step.ATTACHMENTS:
                return self.attachments_done
            case Step.PRIVACY:
                return self.privacy in set(Privacy)
            case Step.CONFIRM:
                return False

    def asks(self, step: Step) -> bool:
        """Whether the form shows this step at all (no category tree: no category step)."""
        return step != Step.CATEGORY or self.category_offered

    @property
    def is_anonymous(self) -> bool:
        return self.privacy == Privacy.ANONYMOUS

    def protect_anonymity(self) -> bool:
        """For an anonymous report, keep only a coarse map point; True when the point changed."""
        if not self.is_anonymous or self.latitude is None or self.longitude is None:
            return False
        coarse = coarsen(self.latitude, self.longitude)
        changed = coarse != (self.latitude, self.longitude)
        self.latitude, self.longitude = coarse
        return changed

    def uncleanable(self) -> list[DraftAttachment]:
        """Attached files that would reach the agency as they are, if the report is anonymous."""
        return [a for a in self.attachments if cleaning_for(a.kind, a.mime_type, a.file_name) is Cleaning.NONE]

    def may_skip(self, step: Step) -> bool:
        return step in (Step.DATE, Step.LOCATION) and not self.is_complaint

    def first_missing(self) -> Step | None:
        for step in ORDER[:-1]:
            if not self.is_filled(step):
                return step
        return None

    def is_complete(self) -> bool:
        return self.first_missing() is None


_DRAFT_FIELDS = tuple(f.name for f in fields(Draft))
_DRAFT_KNOWN = frozenset(_DRAFT_FIELDS)


def new_form_id() -> str:
    """A short random id that ties every button to one run of the form (6 url-safe chars)."""
    return secrets.token_urlsafe(4)[:6]


def next_step(draft: Draft, done: Step, *, editing: bool) -> Step:
    """Where to go after ``done`` was answered.

    While editing from the summary, go back to it unless the change made another step
    required (an aspiration turned into a complaint needs a date and a location).
    """
    if editing:
        return draft.first_missing() or Step.CONFIRM
    later = [s for s in ORDER[ORDER.index(done) + 1:] if draft.asks(s)]
    return later[0] if later else Step.CONFIRM


def previous_step(step: Step, draft: Draft | None = None) -> Step | None:
    earlier = [s for s in ORDER[:ORDER.index(step)] if draft is None or draft.asks(s)]
    return earlier[-1] if earlier else None


class AttachmentRefusal(StrEnum):
    TOO_MANY = "too_many"
    TOO_BIG = "too_big"
    DUPLICATE = "duplicate"


def check_attachment(
    draft: Draft, item: DraftAttachment, *, max_count: int, max_mb: int
) -> AttachmentRefusal | None:
    if any(a.file_unique_id == item.file_unique_id for a in draft.attachments):
        return AttachmentRefusal.DUPLICATE
    if len(draft.attachments) >= max_count:
        return AttachmentRefusal.TOO_MANY
    if item.file_size is not None and item.file_size > max_mb * 1024 * 1024:
        return AttachmentRefusal.TOO_BIG
    return None


class TooManyReports(Exception):
    """The citizen filed ``limit`` reports in the last 24 hours ([limits] reports_per_day)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"{limit} reports in 24 hours")
        self.limit = limit


REPORTS_WINDOW = timedelta(hours=24)


async def may_file_report(session: AsyncSession, citizen: Citizen, now: datetime, limit: int) -> bool:
    """Under the daily limit: every report notifies every admin, so a flood of reports must
    stop at the citizen, not in the admins' chats."""
    return await ReportRepo(session).count_by_citizen_since(citizen.id, now - REPORTS_WINDOW) < limit


class DraftIncomplete(ValueError):
    def __init__(self, step: Step) -> None:
        super().__init__(f"draft is missing step {step}")
        self.step = step


async def submit_report(
    session: AsyncSession,
    citizen: Citizen | None,
    draft: Draft,
    calendar: WorkCalendar,
    now: datetime,
    *,
    on_submitted: SubmittedHook | None = None,
    channel: Channel = Channel.TELEGRAM,
    reports_per_day: int | None = None,
) -> Report:
    """File the draft: a report in status submitted, its attachments and a ``submitted`` event.

    Commits. Raises ``DraftIncomplete`` (nothing written) if a required step has no answer.
    ``on_submitted`` runs in the same transaction (casework: ``bot.services.casework
    .submission_hook`` notifies the admins or auto-assigns).
    """
    if (missing := draft.first_missing()) is not None:
        raise DraftIncomplete(missing)
    if citizen is not None and reports_per_day is not None and not await may_file_report(
        session, citizen, now, reports_per_day
    ):
        raise TooManyReports(reports_per_day)
    # Whatever path filled the draft, an anonymous report never stores an exact point.
    draft.protect_anonymity()
    repo = ReportRepo(session)
    # Read before any rollback expires the instance. No citizen: filed through the Open311 API.
    citizen_id = citizen.id if citizen is not None else None
    language = (citizen.language if citizen is not None else None) or draft.language
    for attempt in range(TRACKING_ID_ATTEMPTS):
        tracking_id = new_tracking_id()
        if await repo.tracking_id_taken(tracking_id):
            continue
        report = _build_report(draft, citizen_id, language, tracking_id, calendar, now)
        report.channel = channel.value
        try:
            await repo.add(report)
        except IntegrityError:
            # A parallel submission took the same id between the check and the insert.
            await session.rollback()
            if attempt == TRACKING_ID_ATTEMPTS - 1:
                raise
            continue
        for item in draft.attachments:
            await repo.add_attachment(
                Attachment(
                    report_id=report.id,
                    file_id=item.file_id,
                    file_unique_id=item.file_unique_id,
                    kind=item.kind,
                    file_size=item.file_size,
                    mime_type=item.mime_type,
                    file_name=item.file_name,
                )
            )
        await repo.add_event(
            ReportEvent(
                report_id=report.id,
                created_at=now,
                actor_role=ActorRole.CITIZEN,
                actor_citizen_id=citizen_id,
                kind=EventKind.SUBMITTED,
                to_status=ReportStatus.SUBMITTED,
            )
        )
        await webhooks.status_changed(session, report, None, now)
        await after_report_submitted(session, report, on_submitted)
        await session.commit()
        return report
    raise RuntimeError("could not find a free tracking id")


async def after_report_submitted(
    session: AsyncSession, report: Report, on_submitted: SubmittedHook | None = None
) -> None:
    """Hook point, inside the submission transaction: casework adds "notify the admins" (via
    the outbox) and auto-assignment here, so they commit or fail together with the report.
    Passed in rather than imported: it needs the app's settings, translations and calendar."""
    if on_submitted is not None:
        await on_submitted(session, report)


def _build_report(
    draft: Draft,
    citizen_id: int | None,
    language: str,
    tracking_id: str,
    calendar: WorkCalendar,
    now: datetime,
) -> Report:
    classification = Classification(draft.classification)
    supervisory = False  # decided by the admin at verification, never by the citizen
    return Report(
        tracking_id=tracking_id,
        citizen_id=citizen_id,
        classification=classification.value,
        title=draft.title,
        body=draft.body,
        incident_date=draft.incident,
        location_text=draft.location_text,
        latitude=draft.latitude,
        longitude=draft.longitude,
        requested_agency_id=draft.agency_id,
        agency_id=None,
        category_id=draft.category_id,
        privacy=Privacy(draft.privacy).value,
        supervisory=supervisory,
        status=ReportStatus.SUBMITTED.value,
        language=language,
        submitted_at=now,
        created_at=now,
        updated_at=now,
        verify_due=verify_due(now, calendar),
        completion_due=completion_due(now, classification, supervisory, calendar),
    )


# -- the agency directory, as the form browses it -------------------------------------------
@dataclass(frozen=True)
class AgencyPage:
    agencies: Sequence[Agency]
    total: int


async def kecamatan(session: AsyncSession, agency_id: int) -> Agency | None:
    """An active kecamatan, whose kelurahan and desa the form lists."""
    agency = await AgencyRepo(session).get_active(agency_id)
    return agency if agency is not None and agency.kind == AgencyKind.KECAMATAN else None


async def villages_of(session: AsyncSession, kecamatan_id: int, page: int, page_size: int) -> AgencyPage:
    repo = AgencyRepo(session)
    rows = await repo.children(kecamatan_id, offset=page * page_size, limit=page_size)
    return AgencyPage(rows, await repo.count_children(kecamatan_id))


async def agencies_of_kind(session: AsyncSession, kind: str, page: int, page_size: int) -> AgencyPage:
    repo = AgencyRepo(session)
    rows = await repo.list_by_kind(kind, offset=page * page_size, limit=page_size)
    return AgencyPage(rows, await repo.count_by_kind(kind))


async def choosable_agency(session: AsyncSession, agency_id: int) -> Agency | None:
    """The agency a citizen picked, if it is active (any kind of the directory will do)."""
    agency = await AgencyRepo(session).get_active(agency_id)
    return agency if agency is not None and agency.kind in set(AgencyKind) else None


async def search_agencies(session: AsyncSession, query: str, limit: int) -> list[Agency]:
    return await AgencyRepo(session).search(query, limit=limit)
