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
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from pathlib import Path

from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import access
from bot.domain.access import Action, Actor
from bot.domain.enums import Privacy, ReportStatus
from bot.domain.lifecycle import TERMINAL
from bot.domain.privacy import IdentityPart, Viewer, reporter_identity
from bot.domain.workdays import WorkCalendar
from bot.services import audit, export_worker, lapor
from bot.services.export_files import (
    BYTES_PER_ROW,
    PART_LIMIT,
    UPLOAD_LIMIT,
    CopyPart,
    ExportPart,
    PartWriter,
    clean_text,
    copied_parts,
    plan_parts,
)
from bot.services.statistics import ENDED_KINDS, local_bounds
from storage.localdays import EPOCH, LocalDays, day_number
from storage.repositories.export_rows import ExportRepo
from storage.repositories.stats import StatsRepo

# Rows fetched and written at a time: memory holds one batch, whatever the year's size. Small,
# because the event loop decodes each fetched batch and the writer holds the GIL for a whole
# batch's csv.writerows: at 2000 rows the loop answered 69 ms late at p99, at 500 52 ms (1M
# bench, shared machine), for the same CPU time.
BATCH = 500
_EPOCH_ORDINAL = EPOCH.toordinal()
# The LAPOR! form carries titles and descriptions: more than a plain row (measured 1.6×).
LAPOR_ROW_FACTOR = 2
# Statuses of reports set aside at verification: decided by their ending, not an assignment.
_SET_ASIDE = [ReportStatus.REJECTED.value, ReportStatus.ARCHIVED.value]


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


def headers() -> list[str]:
    return [
        _("Tracking ID"), _("Submitted"), _("Classification"), _("Agency"), _("Category"), _("Status"),
        _("Verification due"), _("Verification deadline"), _("Follow-up due"),
        _("Follow-up deadline"), _("Working days to completion"), _("Rating"), _("Privacy"),
        _("Confidential"), _("Reporter name"), _("Reporter username"), _("SP4N-LAPOR! number"), _("Channel"),
        _("Completion due"), _("Completion deadline"),
    ]


def deadline_outcome(done_at: date | None, due: date | None, still_open: bool, today: date) -> Outcome:
    if due is None:
        return Outcome.NONE
    if done_at is not None:
        return Outcome.MET if done_at <= due else Outcome.MISSED
    if not still_open:
        return Outcome.NONE
    return Outcome.MISSED if today > due else Outcome.PENDING


def _labels() -> dict[str, str]:
    """The cell words in the current language, cleaned, once per export."""
    words = {Outcome.MET: _("met"), Outcome.MISSED: _("missed"), Outcome.PENDING: _("pending"),
             Outcome.NONE: "-", "yes": _("yes"), "no": _("no")}
    return {str(k): clean_text(v) for k, v in words.items()}


def _cleaned(names: dict[int, str]) -> dict[int, str]:
    """Agency or category names by id, fit for a cell (``clean_text``), once per export."""
    return {k: clean_text(v) for k, v in names.items()}


class _Dates(dict):
    """A due date's cell text and day number, each date computed once (``dates[d]``, a lookup
    in C for every date seen before)."""

    def __missing__(self, d: date | None) -> tuple[str, int | None]:
        self[d] = known = ("", None) if d is None else (d.isoformat(), day_number(d))
        return known


class _Rows:
    """Turns the repository's export rows (``StatsRepo.stream_export_rows``) into cells.
    Everything that is the same for every row (names, words, the calendar, the dates seen
    before) is computed once here: the loop below is what a 100k-row export repeats."""

    def __init__(self, cal: WorkCalendar, year: int, today: date, agencies: dict[int, str],
                 categories: dict[int, str]) -> None:
        self.tz = cal.tz
        self.today = day_number(today)
        self.agencies, self.categories = _cleaned(agencies), _cleaned(categories)
        self.words = _labels()
        self.open_statuses = frozenset(s.value for s in ReportStatus if s not in TERMINAL)
        self.closed = ReportStatus.CLOSED.value
        self.confidential = Privacy.CONFIDENTIAL.value
        self._due = _Dates()

        # Working days after a submission day up to a completion day, for every pair: the
        # difference of two ordinals (working days up to a day) from one table of the days
        # from the year's start to today, computed once (counting day by day for each row
        # was the largest cost after the ORM). Days outside it are counted the slow way.
        first = day_number(date(min(year, today.year), 1, 1))
        self._first = first
        self._ordinals: list[int] = []
        n = 0
        for day in range(first, self.today + 2):
            n += cal.is_working_day(EPOCH + timedelta(day))
            self._ordinals.append(n)
        self._cal = cal

    def working_days(self, first: int, last: int) -> int:
        """``WorkCalendar.working_days_between`` of two day numbers."""
        if last <= first:
            return 0
        i, j = first - self._first, last - self._first
        if i >= 0 and j < len(self._ordinals):
            return self._ordinals[j] - self._ordinals[i]
        return self._cal.working_days_between(EPOCH + timedelta(first), EPOCH + timedelta(last))

    def cells(self, rows: Sequence[Sequence]) -> list[tuple[int, tuple]]:
        """``(local month, cells)`` per row, the columns of ``headers()``."""
        out = []
        tz, today, words, open_statuses = self.tz, self.today, self.words, self.open_statuses
        agencies, categories, due, outcome = self.agencies, self.categories, self._due, deadline_outcome
        closed_status = self.closed
        for (tracking_id, submitted_at, classification, agency_id, category_id, status, verify_due,
             decided, followup_due, answered, closed, rating, privacy, first_name, last_name,
             username, lapor_id, channel, completion_due) in rows:
            local = submitted_at.astimezone(tz)
            submitted = local.toordinal() - _EPOCH_ORDINAL
            still_open = status in open_statuses
            verify_text, verify_day = due[verify_due]
            followup_text, followup_day = due[followup_due]
            completion_text, completion_day = due[completion_due]
            # The repository leaves the name out where the privacy rule says so (anonymous).
            name = f"{first_name} {last_name}" if first_name and last_name else first_name or last_name
            out.append((local.month, (
                tracking_id,
                local.isoformat(" ", "minutes")[:16],  # "YYYY-MM-DD HH:MM", the offset cut off
                classification,
                agencies.get(agency_id, "") if agency_id is not None else "",
                categories.get(category_id, "") if category_id is not None else "",
                status,
                verify_text,
                words[outcome(decided, verify_day, still_open, today)],
                followup_text,
                words[outcome(answered, followup_day, still_open, today)],
                self.working_days(submitted, closed) if status == closed_status and closed is not None else "",
                "" if rating is None else rating,
                privacy,
                words["yes" if privacy == self.confidential else "no"],
                clean_text(name) if name else "",
                # Without "@": a leading "@" starts a formula in some spreadsheets.
                clean_text(username) if username else "",
                lapor_id or "",
                channel,
                completion_text,
                # Met by the (last) answer, as the reminders count it: once answered, the reporter's turn.
                words[outcome(answered if answered is not None else closed if status == closed_status else None,
                              completion_day, still_open, today)],
            )))
        return out


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

    def __enter__(self) -> ExportFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.cleanup()


async def export_year(
    session: AsyncSession, year: int, fmt: ExportFormat, cal: WorkCalendar, *, actor: Actor,
    today: date | None = None, limit: int | None = PART_LIMIT, read_mb_s: float | None = None,
) -> ExportFile:
    """The year's reports written to disk, the bot answering meanwhile: on PostgreSQL the CSV
    by the server itself (COPY, ``_server_csv``); otherwise in batches from a server-side
    cursor, the cells, CSV, compression and XLSX made in a worker process of its own
    (``export_worker``, PostgreSQL) or in a worker thread (SQLite).
    ``limit``: bytes per file (the chat's upload limit; CSV is then zipped and the year split
    by month when needed); None for one plain file (the command line). ``read_mb_s``: on
    PostgreSQL the CSV's table is first read from the disk at most this fast (``database.
    export_read_mb_s``: an export of a cold table must not starve the citizens' commits); None:
    no cap. The export is recorded in the audit trail (committed here)."""
    access.ensure(actor, Action.ADMINISTER)
    today = today or cal.today()
    if fmt is not ExportFormat.CSV and session.get_bind().dialect.name == "postgresql":
        # Cells, XML and compression are Python's work: a process of its own with its own
        # connection, off the bot's event loop and GIL (SQLite keeps it in a thread: an
        # embedded database is read best by the process that holds it).
        parts, directory = await export_worker.write_year(session, year, fmt, cal, today, limit)
    else:
        parts, directory = await write_year(session, year, fmt, cal, today, limit, read_mb_s=read_mb_s)
    rows = sum(p.rows for p in parts)
    await audit.record(session, actor, audit.AuditAction.EXPORT, f"export:{year}",
                       {"format": fmt.value, "rows": rows})
    await session.commit()
    return ExportFile(parts, rows, directory)


class ExportStopped(Exception):
    """The export was given up by whoever waited for it (``write_year``'s ``stopped``)."""


async def write_year(session: AsyncSession, year: int, fmt: ExportFormat, cal: WorkCalendar, today: date,
                     limit: int | None, *, directory: Path | None = None,
                     stopped: Callable[[], bool] = lambda: False,
                     read_mb_s: float | None = None) -> tuple[list[ExportPart], Path]:
    """The files of ``export_year`` and their temporary directory, in this process (also the
    worker's body, ``export_worker``: it gives the ``directory`` and ``stopped``, asked before
    each batch; when true, the files are removed and ``ExportStopped`` raised)."""
    start, end = local_bounds(year, cal)
    repo = StatsRepo(session)
    months = [datetime.combine(date(year, m, 1), time(), cal.tz) for m in range(2, 13)]

    async def per_month() -> list[int]:
        counts = [0] * 12
        for month, n, _done in await repo.by_month(start, end, months):
            counts[month] += n
        return counts

    if fmt is ExportFormat.XLSX:
        kind = "xlsx"
    else:
        kind = "csv" if limit is None else "zip"
    base = f"lapor-{year}-formulir" if fmt is ExportFormat.LAPOR else f"lapor-{year}"
    head = lapor.HEADERS if fmt is ExportFormat.LAPOR else headers()
    agency_names = await repo.agency_names()
    directory = directory or Path(tempfile.mkdtemp(prefix="lapor-export-"))
    try:
        if fmt is ExportFormat.CSV and session.get_bind().dialect.name == "postgresql":
            # The year's months are counted only if its file is over the limit (``copied_parts``).
            parts = await copied_parts(directory, base, head,
                                       _server_csv(session, year, cal, today, start, end, months,
                                                   agency_names, await repo.category_names(), read_mb_s),
                                       zipped=kind == "zip", limit=limit, months=per_month)
        else:
            row_bytes = BYTES_PER_ROW[kind] * (LAPOR_ROW_FACTOR if fmt is ExportFormat.LAPOR else 1)
            plan = plan_parts(await per_month(), row_bytes, limit)
            writer = PartWriter(directory, base, kind, head, plan, f"LAPOR {year}", limit)
            try:
                await _write_in_python(session, writer, fmt, cal, year, today, start, end, agency_names,
                                       await repo.category_names(), stopped)
            except BaseException:
                writer.discard()
                raise
            parts = await asyncio.to_thread(writer.finish)
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise
    return parts, directory


def _server_csv(session: AsyncSession, year: int, cal: WorkCalendar, today: date, start: datetime,
                end: datetime, month_starts: list[datetime], agencies: dict[int, str],
                categories: dict[int, str], read_mb_s: float | None) -> CopyPart:
    """PostgreSQL writes the CSV (``ExportRepo.copy_csv``): the bot's process only passes
    bytes to the file, and its event loop stays free for the citizens. The names of agencies
    and categories are cleaned here, once, not by the server for every row. ``read_mb_s``:
    the cap of the table's read ahead of the first part's COPY."""
    # Local dates only (working days are read from the stored facts): no holidays needed.
    days = LocalDays("postgresql", cal.tz.key, (), date(year, 1, 1), date(max(year, today.year) + 2, 12, 31))
    bounds = [start, *month_starts, end]  # bounds[m - 1]: where month m begins
    agencies, categories = _cleaned(agencies), _cleaned(categories)

    read_first = read_mb_s

    async def copy(first: int, last: int, write: Callable[[bytes], Awaitable[None]]) -> int:
        # The table read ahead once, before the first part: the next find it in memory.
        nonlocal read_first
        pace, read_first = read_first, None
        return await ExportRepo(session).copy_csv(
            submitted_from=bounds[first - 1], submitted_before=bounds[last], days=days, today=today,
            ended_kinds=ENDED_KINDS, ended_statuses=_SET_ASIDE,
            open_statuses=[s.value for s in ReportStatus if s not in TERMINAL],
            closed_status=ReportStatus.CLOSED.value, confidential=Privacy.CONFIDENTIAL.value,
            name_shown=_shown(IdentityPart.NAME), username_shown=_shown(IdentityPart.USERNAME),
            words=_labels(), agencies=agencies, categories=categories, write=write, read_mb_s=pace)

    return copy


async def _write_in_python(session: AsyncSession, writer: PartWriter, fmt: ExportFormat, cal: WorkCalendar,
                           year: int, today: date, start: datetime, end: datetime, agency_names: dict[int, str],
                           category_names: dict[int, str], stopped: Callable[[], bool]) -> None:
    """The rows fetched in batches, made into cells and written in a worker thread while the
    next batch is fetched (SQLite's CSV, the workbook, the LAPOR! form)."""
    # The worker thread writes one batch while the next is fetched; never two at once.
    writing: asyncio.Future[None] | None = None

    async def write(batch: Sequence, to_cells: Callable[[Sequence], list[tuple[int, tuple]]]) -> None:
        nonlocal writing
        if writing is not None:
            await writing
        if stopped():
            raise ExportStopped
        # to_thread carries the context along: the cells' language.
        writing = asyncio.ensure_future(asyncio.to_thread(lambda: writer.write(to_cells(batch))))

    try:
        if fmt is ExportFormat.LAPOR:
            async for batch in lapor.stream_lapor_rows(session, start, end, BATCH):
                await write(batch, lambda batch: [
                    (at.astimezone(cal.tz).month, tuple(map(clean_text, form.cells())))
                    for at, form in lapor.lapor_forms(batch, agency_names)])
        else:
            cells = _Rows(cal, year, today, agency_names, category_names)
            # Local day numbers of the timestamps, in SQL (no holidays needed for those).
            days = LocalDays(session.get_bind().dialect.name, cal.tz.key, (), date(year, 1, 1),
                             date(max(year, today.year) + 2, 12, 31))
            async for batch in ExportRepo(session).stream_rows(
                submitted_from=start, submitted_before=end, days=days, ended_kinds=ENDED_KINDS,
                ended_statuses=_SET_ASIDE, name_shown=_shown(IdentityPart.NAME),
                username_shown=_shown(IdentityPart.USERNAME), batch=BATCH,
            ):
                # Cells are made in the worker thread too: the event loop only fetches.
                await write(batch, cells.cells)
    finally:
        if writing is not None:
            await writing


def _shown(part: IdentityPart) -> list[str]:
    """The privacy values whose reports may carry ``part`` of the reporter's identity in an
    export (``bot.domain.privacy``: not anonymous ones); the query fetches it for those only."""
    return [p.value for p in Privacy if part in reporter_identity(Viewer.EXPORT, p)]
