"""The citizen's view of their own reports: paged list, one report with its timeline.

Every lookup is scoped to the asking citizen in the query itself, so a report of someone else
and a report that does not exist are indistinguishable to the caller (no existence leak).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.enums import ReportStatus
from bot.domain.paging import clamp_page
from storage.models import Attachment, Report, ReportEvent
from storage.repositories.agencies import AgencyRepo
from storage.repositories.reports import ReportRepo

PAGE_SIZE = 5

S = ReportStatus


class DeadlineKind(StrEnum):
    VERIFY = "verify"  # the admin verifies and assigns
    FOLLOWUP = "followup"  # the agency answers
    REPLY = "reply"  # the reporter may reply to the answer


@dataclass(frozen=True)
class MyReportsPage:
    reports: list[Report]
    page: int  # 0-based, clamped into range
    pages: int  # at least 1, also when there are no reports
    total: int
    citizen_id: int = 0  # whose list: the others' reports in it are followed ones


@dataclass(frozen=True)
class MyReportView:
    report: Report
    events: list[ReportEvent]
    attachments: list[Attachment]
    # Names of the report's agency and of every agency its timeline mentions.
    agency_names: dict[int, str] = field(default_factory=dict)
    # Someone else's report the citizen follows: shown as its public page shows it.
    following: bool = False
    # The tracking ID of the report this one was joined to as a duplicate (which they follow).
    duplicate_of: str | None = None


def next_deadline(report: Report) -> tuple[DeadlineKind, date] | None:
    """The deadline the citizen is waiting on now, given the status; None when finished."""
    match report.status:
        case S.SUBMITTED | S.POSTPONED | S.RETURNED:
            kind, due = DeadlineKind.VERIFY, report.verify_due
        case S.ASSIGNED | S.IN_PROGRESS | S.AWAITING_REPORTER:
            kind, due = DeadlineKind.FOLLOWUP, report.followup_due
        case S.ANSWERED:
            kind, due = DeadlineKind.REPLY, report.reply_due
        case _:
            return None
    return (kind, due) if due is not None else None


async def list_my_reports(
    session: AsyncSession, citizen_id: int, page: int = 0, *, page_size: int = PAGE_SIZE
) -> MyReportsPage:
    repo = ReportRepo(session)
    total = await repo.count_by_citizen(citizen_id)
    page, pages = clamp_page(page, total, page_size)
    reports = await repo.list_by_citizen(citizen_id, offset=page * page_size, limit=page_size)
    return MyReportsPage(reports=list(reports), page=page, pages=pages, total=total, citizen_id=citizen_id)


async def open_my_report(
    session: AsyncSession, citizen_id: int, report_id: int
) -> MyReportView | None:
    report = await ReportRepo(session).get_for_citizen(citizen_id, report_id=report_id)
    return await _view(session, report, citizen_id)


async def find_my_report(
    session: AsyncSession, citizen_id: int, tracking_id: str
) -> MyReportView | None:
    """``tracking_id`` in canonical form (``bot.domain.tracking.normalize_tracking_id``)."""
    report = await ReportRepo(session).get_for_citizen(citizen_id, tracking_id=tracking_id)
    return await _view(session, report, citizen_id)


async def _view(session: AsyncSession, report: Report | None, citizen_id: int) -> MyReportView | None:
    if report is None:
        return None
    original = await ReportRepo(session).get(report.duplicate_of_id) if report.duplicate_of_id else None
    ids = {report.agency_id} | {e.agency_id for e in report.events}
    agencies = AgencyRepo(session)
    names: dict[int, str] = {}
    # A handful of agencies at most; the session's identity map serves repeats.
    for agency_id in sorted(i for i in ids if i is not None):
        if (agency := await agencies.get(agency_id)) is not None:
            names[agency_id] = agency.name
    return MyReportView(
        report=report,
        events=list(report.events),
        attachments=list(report.attachments),
        agency_names=names,
        following=report.citizen_id != citizen_id,
        duplicate_of=original.tracking_id if original is not None else None,
    )
