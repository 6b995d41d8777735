"""Exports for the annual evaluation: one row per report received in a year, CSV or XLSX.

Identity rule (``bot.domain.privacy``, Viewer.EXPORT): the reporter's name and username appear
only for reports that are not anonymous, and exports go to admins only (the chat command and the
server's command line). Confidential reports are marked; no report's title or body is exported,
except in the LAPOR! format, whose purpose is entering them into SP4N-LAPOR! (never with identity).
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import astuple, dataclass
from datetime import date, datetime, time
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import access
from bot.domain.access import Action, Actor
from bot.domain.enums import Privacy, ReportStatus
from bot.domain.lifecycle import TERMINAL
from bot.domain.privacy import IdentityPart, Viewer, reporter_identity
from bot.domain.workdays import WorkCalendar
from bot.services import audit, lapor
from bot.services.export_files import (
    BYTES_PER_ROW,
    PART_LIMIT,
    UPLOAD_LIMIT,
    ExportPart,
    PartWriter,
    plan_parts,
)
from bot.services.statistics import ENDED_KINDS, ended_at, local_bounds
from storage.repositories.stats import Reporter, ReportFact, StatsRepo

# Rows fetched and written at a time: memory holds one batch, whatever the year's size.
BATCH = 2000
# The LAPOR! form carries titles and descriptions: more than a plain row (measured 1.6×).
LAPOR_ROW_FACTOR = 2


class ExportFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"
    # SP4N-LAPOR!'s form, field by field, for entering reports there (bot/services/lapor.py).
    LAPOR = "lapor"

    @property
    def extension(self) -> str:
        """The file's extension: the LAPOR! form is a CSV file."""
        return "csv" if self is ExportFormat.LAPOR else self.value


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
    category: str
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
    lapor_id: str
    channel: str = "telegram"  # where it came in: telegram, open311, counter, phone, letter, sms, other
    # The completion ceiling by kind of report, and whether the answer came by it.
    completion_due: str = ""
    completion: str = "-"


def headers() -> list[str]:
    return [
        _("Tracking ID"), _("Submitted"), _("Classification"), _("Agency"), _("Category"), _("Status"),
        _("Verification due"), _("Verification deadline"), _("Follow-up due"),
        _("Follow-up deadline"), _("Working days to completion"), _("Rating"), _("Privacy"),
        _("Confidential"), _("Reporter name"), _("Reporter username"), _("SP4N-LAPOR! number"), _("Channel"),
        _("Completion due"), _("Completion deadline"),
    ]


def _locale() -> str:
    i18n = I18n.get_current(no_error=True)
    return i18n.current_locale if i18n is not None else ""


def _outcome_label(outcome: Outcome) -> str:
    return _label(outcome.value, _locale())


@lru_cache(maxsize=64)
def _label(word: str, locale: str) -> str:
    """The cell words, translated once per locale (an export has hundreds of thousands of rows;
    ``locale`` is the cache key, the translation comes from the current context)."""
    return {
        Outcome.MET: _("met"),
        Outcome.MISSED: _("missed"),
        Outcome.PENDING: _("pending"),
        Outcome.NONE: "-",
        "yes": _("yes"),
        "no": _("no"),
    }[word]


def deadline_outcome(done_at: date | None, due: date | None, still_open: bool, today: date) -> Outcome:
    if due is None:
        return Outcome.NONE
    if done_at is not None:
        return Outcome.MET if done_at <= due else Outcome.MISSED
    if not still_open:
        return Outcome.NONE
    return Outcome.MISSED if today > due else Outcome.PENDING


def build_row(fact: ReportFact, reporter: Reporter, agency_names: dict[int, str],
              cal: WorkCalendar, today: date, category_names: dict[int, str] | None = None,
              working_days: Callable[[date, date], int] | None = None) -> ExportRow:
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
        category=(category_names or {}).get(fact.category_id, "") if fact.category_id is not None else "",
        status=fact.status,
        verify_due=fact.verify_due.isoformat() if fact.verify_due else "",
        verify=_outcome_label(deadline_outcome(local(decided), fact.verify_due, still_open, today)),
        followup_due=fact.followup_due.isoformat() if fact.followup_due else "",
        followup=_outcome_label(
            deadline_outcome(local(fact.answered_at), fact.followup_due, still_open, today)),
        working_days=((working_days or cal.working_days_between)(submitted, cal.local_date(fact.closed_at))
                      if fact.status == ReportStatus.CLOSED and fact.closed_at else None),
        rating=fact.rating,
        privacy=fact.privacy,
        confidential=_label("yes" if fact.privacy == Privacy.CONFIDENTIAL else "no", _locale()),
        # The most sensitive data in the system: never for anonymous reports.
        reporter_name=name if IdentityPart.NAME in shown else "",
        # Without "@": a leading "@" starts a formula in some spreadsheets.
        reporter_username=(reporter.username or "") if IdentityPart.USERNAME in shown else "",
        lapor_id=fact.lapor_id or "",
        channel=fact.channel,
        completion_due=fact.completion_due.isoformat() if fact.completion_due else "",
        # Met by the (last) answer, as the reminders count it: once answered, the reporter's turn.
        completion=_outcome_label(deadline_outcome(
            local(fact.answered_at or (fact.closed_at if fact.status == ReportStatus.CLOSED else None)),
            fact.completion_due, still_open, today)),
    )


@dataclass
class ExportFile:
    """The export's files in a temporary directory: send them, then ``cleanup()``."""

    parts: list[ExportPart]
    rows: int
    directory: Path

    @property
    def too_large(self) -> list[ExportPart]:
        """Parts a bot may not upload even so (a single month over 50 MB compressed)."""
        return [p for p in self.parts if p.path.stat().st_size > UPLOAD_LIMIT]

    def cleanup(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)


async def export_year(
    session: AsyncSession, year: int, fmt: ExportFormat, cal: WorkCalendar, *, actor: Actor,
    today: date | None = None, limit: int | None = PART_LIMIT,
) -> ExportFile:
    """The year's reports written to disk in batches from a server-side cursor, the CPU work
    (rows, CSV, compression, XLSX) in a worker thread so the bot keeps answering meanwhile.
    ``limit``: bytes per file (the chat's upload limit; CSV is then zipped and the year split
    by month when needed); None for one plain file (the command line). The export is recorded
    in the audit trail (committed here)."""
    access.ensure(actor, Action.ADMINISTER)
    today = today or cal.today()
    start, end = local_bounds(year, cal)
    repo = StatsRepo(session)
    months = [datetime.combine(date(year, m, 1), time(), cal.tz) for m in range(2, 13)]
    per_month = [0] * 12
    for month, n, _done in await repo.by_month(start, end, months):
        per_month[month] += n
    if fmt is ExportFormat.XLSX:
        kind = "xlsx"
    else:
        kind = "csv" if limit is None else "zip"
    row_bytes = BYTES_PER_ROW[kind] * (LAPOR_ROW_FACTOR if fmt is ExportFormat.LAPOR else 1)
    plan = plan_parts(per_month, row_bytes, limit)
    base = f"lapor-{year}-formulir" if fmt is ExportFormat.LAPOR else f"lapor-{year}"
    head = lapor.HEADERS if fmt is ExportFormat.LAPOR else headers()
    directory = Path(tempfile.mkdtemp(prefix="lapor-export-"))
    writer = PartWriter(directory, base, kind, head, plan, f"LAPOR {year}", limit)
    agency_names = await repo.agency_names()
    rows = 0
    try:
        if fmt is ExportFormat.LAPOR:
            async for forms in lapor.stream_lapor_forms(session, start, end, agency_names, BATCH):
                batch = [(cal.local_date(at).month, form.cells()) for at, form in forms]
                await asyncio.to_thread(writer.write, batch)
                rows += len(batch)
        else:
            categories = await repo.category_names()
            # Completion times repeat (same days, different reports): count each pair once.
            working_days = lru_cache(maxsize=1 << 16)(cal.working_days_between)
            async for facts in repo.stream_facts_with_reporters(
                submitted_from=start, submitted_before=end, ended_kinds=ENDED_KINDS, batch=BATCH,
            ):
                # to_thread carries the context along: the headers' and cells' language.
                await asyncio.to_thread(_write_facts, writer, facts, agency_names, cal, today,
                                        categories, working_days)
                rows += len(facts)
        parts = await asyncio.to_thread(writer.finish)
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise
    await audit.record(session, actor, audit.AuditAction.EXPORT, f"export:{year}",
                       {"format": fmt.value, "rows": rows})
    await session.commit()
    return ExportFile(parts, rows, directory)


def _write_facts(writer: PartWriter, facts: list[tuple[ReportFact, Reporter]],
                 agency_names: dict[int, str], cal: WorkCalendar, today: date,
                 categories: dict[int, str], working_days: Callable[[date, date], int]) -> None:
    batch = []
    for fact, reporter in facts:
        row = build_row(fact, reporter, agency_names, cal, today, categories, working_days)
        batch.append((int(row.submitted[5:7]), astuple(row)))
    writer.write(batch)
