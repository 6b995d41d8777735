"""Exports for the annual evaluation: one row per report received in a year, CSV or XLSX.

Identity rule (``bot.domain.privacy``, Viewer.EXPORT): the reporter's name and username appear
only for reports that are not anonymous, and exports go to admins only (the chat command and the
server's command line). Confidential reports are marked; no report's title or body is exported.
"""

from __future__ import annotations

import csv
import io
from dataclasses import astuple, dataclass
from datetime import date, datetime
from enum import StrEnum

from aiogram.utils.i18n import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import access
from bot.domain.access import Action, Actor
from bot.domain.enums import Privacy, ReportStatus
from bot.domain.lifecycle import TERMINAL
from bot.domain.privacy import IdentityPart, Viewer, reporter_identity
from bot.domain.workdays import WorkCalendar
from bot.services import audit
from bot.services.statistics import ENDED_KINDS, ended_at, local_bounds
from storage.repositories.stats import Reporter, ReportFact, StatsRepo


class ExportFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


class Outcome(StrEnum):
    MET = "met"
    MISSED = "missed"
    PENDING = "pending"
    NONE = "-"


@dataclass(frozen=True)
class ExportRow:
    tracking_id: str
    submitted: str  # local "YYYY-MM-DD HH:MM"
    classification: str
    agency: str
    status: str
    verify_due: str
    verify: str
    followup_due: str
    followup: str
    working_days: int | None  # submission to completion; None while not completed
    rating: int | None
    privacy: str
    confidential: str
    reporter_name: str
    reporter_username: str


def headers() -> list[str]:
    return [
        _("Tracking ID"), _("Submitted"), _("Classification"), _("Agency"), _("Status"),
        _("Verification due"), _("Verification deadline"), _("Follow-up due"),
        _("Follow-up deadline"), _("Working days to completion"), _("Rating"), _("Privacy"),
        _("Confidential"), _("Reporter name"), _("Reporter username"),
    ]


def _outcome_label(outcome: Outcome) -> str:
    return {
        Outcome.MET: _("met"),
        Outcome.MISSED: _("missed"),
        Outcome.PENDING: _("pending"),
        Outcome.NONE: "-",
    }[outcome]


def deadline_outcome(done_at: date | None, due: date | None, still_open: bool, today: date) -> Outcome:
    if due is None:
        return Outcome.NONE
    if done_at is not None:
        return Outcome.MET if done_at <= due else Outcome.MISSED
    if not still_open:
        return Outcome.NONE
    return Outcome.MISSED if today > due else Outcome.PENDING


def build_row(fact: ReportFact, reporter: Reporter, agency_names: dict[int, str],
              cal: WorkCalendar, today: date) -> ExportRow:
    def local(dt: datetime | None) -> date | None:
        return cal.local_date(dt) if dt is not None else None

    still_open = fact.status not in TERMINAL
    decided = fact.assigned_at
    if decided is None and fact.status in (ReportStatus.REJECTED, ReportStatus.ARCHIVED):
        decided = ended_at(fact)
    submitted = cal.local_date(fact.submitted_at)
    shown = reporter_identity(Viewer.EXPORT, fact.privacy)
    name = " ".join(p for p in (reporter.first_name, reporter.last_name) if p)
    return ExportRow(
        tracking_id=fact.tracking_id,
        submitted=fact.submitted_at.astimezone(cal.tz).strftime("%Y-%m-%d %H:%M"),
        classification=fact.classification,
        agency=agency_names.get(fact.agency_id, "") if fact.agency_id is not None else "",
        status=fact.status,
        verify_due=fact.verify_due.isoformat() if fact.verify_due else "",
        verify=_outcome_label(deadline_outcome(local(decided), fact.verify_due, still_open, today)),
        followup_due=fact.followup_due.isoformat() if fact.followup_due else "",
        followup=_outcome_label(
            deadline_outcome(local(fact.answered_at), fact.followup_due, still_open, today)),
        working_days=(cal.working_days_between(submitted, cal.local_date(fact.closed_at))
                      if fact.status == ReportStatus.CLOSED and fact.closed_at else None),
        rating=fact.rating,
        privacy=fact.privacy,
        confidential=_("yes") if fact.privacy == Privacy.CONFIDENTIAL else _("no"),
        # The most sensitive data in the system: never for anonymous reports.
        reporter_name=name if IdentityPart.NAME in shown else "",
        # Without "@": a leading "@" starts a formula in some spreadsheets.
        reporter_username=(reporter.username or "") if IdentityPart.USERNAME in shown else "",
    )


async def export_rows(session: AsyncSession, year: int, cal: WorkCalendar, *, actor: Actor,
                      today: date | None = None) -> list[ExportRow]:
    access.ensure(actor, Action.ADMINISTER)
    today = today or cal.today()
    start, end = local_bounds(year, cal)
    repo = StatsRepo(session)
    names = await repo.agency_names()
    rows = await repo.facts_with_reporters(submitted_from=start, submitted_before=end,
                                           ended_kinds=ENDED_KINDS)
    return [build_row(f, r, names, cal, today) for f, r in rows]


def _cell(value: object) -> object:
    # A name like "=HYPERLINK(...)" would run as a formula in Excel (CSV/formula injection).
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r") and value != "-":
        return "'" + value
    return "" if value is None else value


def to_csv(rows: list[ExportRow]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(headers())
    for row in rows:
        writer.writerow([_cell(v) for v in astuple(row)])
    # The BOM makes Excel read UTF-8 instead of the system code page.
    return out.getvalue().encode("utf-8-sig")


def to_xlsx(rows: list[ExportRow], title: str = "LAPOR") -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = title[:31]
    ws.append(headers())
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append([_cell(v) for v in astuple(row)])
    ws.freeze_panes = "A2"
    for column in ws.columns:
        width = max(len(str(c.value or "")) for c in column)
        ws.column_dimensions[column[0].column_letter].width = min(max(width + 2, 8), 40)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@dataclass(frozen=True)
class ExportFile:
    filename: str
    content: bytes
    rows: int


async def export_year(
    session: AsyncSession, year: int, fmt: ExportFormat, cal: WorkCalendar, *, actor: Actor,
    today: date | None = None,
) -> ExportFile:
    """The file, with the export recorded in the audit trail (committed here)."""
    rows = await export_rows(session, year, cal, actor=actor, today=today)
    content = to_csv(rows) if fmt is ExportFormat.CSV else to_xlsx(rows, f"LAPOR {year}")
    await audit.record(session, actor, audit.AuditAction.EXPORT, f"export:{year}",
                       {"format": fmt.value, "rows": len(rows)})
    await session.commit()
    return ExportFile(f"lapor-{year}.{fmt.value}", content, len(rows))
