"""The export's queries (``bot.services.export``): the year's reports oldest first, either as
rows for Python to turn into cells (SQLite, XLSX) or, on PostgreSQL, as the finished CSV
written by the server itself (``COPY (SELECT …) TO STDOUT``).

Why the server writes the CSV: formatting 20 cells per row in Python cost 2.2 s of CPU per
100k rows in the bot's process, and an export slowed every citizen's reply meanwhile (issue
15). In ``copy_csv`` the cells are computed in SQL: local times, deadline outcomes, the
privacy rule, the cleaning of typed text (the SQL twin of ``export_files.clean_text``); the
working days are the stored facts and the agency and category names come cleaned by the
caller. tests/storage/test_export_equivalence.py holds both paths equal to the row-by-row
oracle.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import date, datetime

from sqlalchemy import (
    Date,
    Integer,
    Row,
    String,
    and_,
    case,
    column,
    func,
    literal,
    literal_column,
    not_,
    null,
    select,
    values,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from storage import readahead
from storage.localdays import LocalDays
from storage.models import Citizen, Report
from storage.parallelism import limit_parallel_workers
from storage.repositories.stats import ended_events

# What ``export_files.clean_text`` removes (XML 1.0 cannot hold it; NUL cannot be in PostgreSQL
# text anyway) and the first characters it neutralises with a quote (they start a formula).
_CONTROL = "".join(chr(c) for c in [*range(1, 9), 11, 12, *range(14, 32)])
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Text that ``clean_text_sql`` would change: a control character anywhere, or a formula
# character first ("-" first in the bracket: a literal, not a range).
_NEEDS_CLEANING = "^[-=+@\t\r]|[" + _CONTROL + "]"


def _decided(ended, ended_statuses: Iterable[str]) -> ColumnElement[datetime]:
    """When the verification was decided: the assignment, or for a report set aside without
    one (``ended_statuses``) its ending event, else its last update."""
    return func.coalesce(Report.assigned_at, case(
        (Report.status.in_(list(ended_statuses)), func.coalesce(ended.c.at, Report.updated_at))))


def _only_if(shown: list[str], value) -> ColumnElement:
    """``value`` for reports whose privacy is in ``shown`` (the caller's privacy rule), else NULL."""
    return case((Report.privacy.in_(shown), value), else_=null()) if shown else null()


def clean_text_sql(text: ColumnElement[str]) -> ColumnElement[str]:
    """``export_files.clean_text`` in SQL (PostgreSQL), NULL for an empty result: control
    characters dropped, a leading formula character quoted (but a lone "-" left alone).

    Most text needs nothing, and one regular-expression test says so: ``translate`` walks the
    29 control characters for every character of the text, and the rule needs its result three
    times (PostgreSQL does not share them). Unguarded, the five cleaned columns were the
    export's largest cost in the server (~1 µs per translate of an agency's name; issue 15)."""
    kept = func.translate(text, literal(_CONTROL, String), literal("", String))
    quoted = case(
        (and_(func.left(kept, 1).in_(_FORMULA_START), kept != "-"), literal("'", String) + kept),
        else_=kept,
    )
    return case((text.regexp_match(_NEEDS_CLEANING), func.nullif(quoted, "")), else_=func.nullif(text, ""))


class ExportRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def stream_rows(
        self, *, submitted_from: datetime, submitted_before: datetime, days: LocalDays,
        ended_kinds: Iterable[str], ended_statuses: Iterable[str], name_shown: Iterable[str],
        username_shown: Iterable[str], batch: int = 2000,
    ) -> AsyncIterator[Sequence[Row]]:
        """The export's rows of the reports submitted in the period, oldest first, in batches
        from a server-side cursor (``yield_per``): a year of a million reports never sits in
        memory. A Core select on the connection, no ORM objects, and local day numbers
        computed in SQL. Each row, in this order:

        tracking_id, submitted_at, classification, agency_id, category_id, status, verify_due,
        decided_day (assigned, or the ``ended_statuses`` report's ending), followup_due,
        answered_day, closed_day, rating, privacy, first_name, last_name, username, lapor_id,
        channel, completion_due.

        The reporter's name only where ``privacy`` is in ``name_shown``, the username only in
        ``username_shown`` (the caller's privacy rule): otherwise NULL, never fetched."""
        ended = ended_events(ended_kinds)
        name_shown, username_shown = list(name_shown), list(username_shown)
        query = (
            select(
                Report.tracking_id, Report.submitted_at, Report.classification, Report.agency_id,
                Report.category_id, Report.status, Report.verify_due,
                days.day(_decided(ended, ended_statuses)),
                Report.followup_due, days.day(Report.answered_at), days.day(Report.closed_at),
                Report.rating, Report.privacy, _only_if(name_shown, Citizen.first_name),
                _only_if(name_shown, Citizen.last_name), _only_if(username_shown, Citizen.username),
                Report.lapor_id, Report.channel, Report.completion_due,
            )
            # Outer: a report filed through the Open311 API has no citizen row.
            .outerjoin(Citizen, Citizen.id == Report.citizen_id)
            .outerjoin(ended, ended.c.report_id == Report.id)
            .where(Report.submitted_at >= submitted_from, Report.submitted_at < submitted_before)
            .order_by(Report.submitted_at, Report.id)
            .execution_options(yield_per=batch)
        )
        conn = await self.session.connection()
        result = await conn.stream(query)
        async for rows in result.partitions():
            yield rows

    async def copy_csv(
        self, *, submitted_from: datetime, submitted_before: datetime, days: LocalDays, today: date,
        ended_kinds: Iterable[str], ended_statuses: Iterable[str], open_statuses: Iterable[str],
        closed_status: str, confidential: str, name_shown: Iterable[str], username_shown: Iterable[str],
        words: Mapping[str, str], agencies: Mapping[int, str], categories: Mapping[int, str],
        write: Callable[[bytes], Awaitable[None]], read_mb_s: float | None = None,
    ) -> int:
        """PostgreSQL only: the CSV rows (no header) of the reports submitted in the period,
        oldest first, written by the server and handed to ``write`` chunk by chunk as they
        arrive; returns the number of rows. The columns of ``bot.services.export.headers()``;
        ``today``: the local date; ``words``: the cells' words (met, missed, pending, "-",
        yes, no) by those keys, ``agencies`` and ``categories``: their names by id, all already
        cleaned. Empty cells are NULL, so written as nothing. ``read_mb_s``: the reports table
        is first read from the disk at most this fast (``storage.readahead``); None: no cap."""
        conn = await self.session.connection()
        # Building and compiling the statement costs 20-45 ms of CPU: in a thread, the event
        # loop keeps answering citizens meanwhile (it takes the GIL back every few
        # milliseconds; issue 15's loop probe saw one 90 ms step).
        sql = await asyncio.to_thread(
            _csv_sql, conn.dialect, submitted_from=submitted_from, submitted_before=submitted_before,
            days=days, today=today, ended_kinds=ended_kinds, ended_statuses=ended_statuses,
            open_statuses=open_statuses, closed_status=closed_status, confidential=confidential,
            name_shown=name_shown, username_shown=username_shown, words=words, agencies=agencies,
            categories=categories)
        await limit_parallel_workers(conn)
        raw = (await conn.get_raw_connection()).driver_connection
        if read_mb_s:
            await readahead.read_ahead(raw, "report", max_mb_s=read_mb_s, memory_mb_s=readahead.MEMORY_MB_S)
        status = await raw.copy_from_query(sql, output=write, format="csv")
        return int(status.split()[-1])


def _labels(name: str, labels: Mapping[int, str]):
    """``(id, label)`` rows of ``labels`` (NULL for an empty one) as a VALUES list in the
    statement, or None when there are none (an empty VALUES is not SQL)."""
    if not labels:
        return None
    return values(column("id", Integer), column("label", String), name=name, literal_binds=True).data(
        [(k, v or None) for k, v in labels.items()])


def _csv_sql(
    dialect: Dialect, *, submitted_from: datetime, submitted_before: datetime, days: LocalDays, today: date,
    ended_kinds: Iterable[str], ended_statuses: Iterable[str], open_statuses: Iterable[str],
    closed_status: str, confidential: str, name_shown: Iterable[str], username_shown: Iterable[str],
    words: Mapping[str, str], agencies: Mapping[int, str], categories: Mapping[int, str],
) -> str:
    """``ExportRepo.copy_csv``'s statement, compiled with its values inline.

    Each cell costs PostgreSQL for every row of the year (issue 15: ~1.2 s of CPU per 100k
    rows, the floor of a COPY of 20 plain columns ~0.45 s), so what can be computed once is:
    the agency and category names cleaned by the caller, joined from VALUES lists; working days
    to completion read from the fact stored when the report closed (``completion_days``,
    ``bot.domain.timing``, what /statistik averages); deadline outcomes compare a timestamp's
    local date with the due date, each timestamp converted once."""
    ended = ended_events(ended_kinds)
    still_open = Report.status.in_(list(open_statuses))
    today_sql = literal_column(f"DATE '{today.isoformat()}'", Date)
    word = {k: literal(v, String) for k, v in words.items()}

    def iso(due) -> ColumnElement[str]:
        return func.to_char(due, "YYYY-MM-DD")

    def outcome(done: ColumnElement[datetime], due) -> ColumnElement[str]:
        """``bot.services.export.deadline_outcome`` of the timestamp ``done`` and a due date."""
        return case(
            (due.is_(None), word["-"]),
            (done.is_not(None), case((days.local_date(done) <= due, word["met"]), else_=word["missed"])),
            (not_(still_open), word["-"]),
            (today_sql > due, word["missed"]),
            else_=word["pending"],
        )

    is_closed = Report.status == closed_status
    # The reporter's name: first and last name, either alone when the other is empty.
    name = func.concat_ws(" ", func.nullif(Citizen.first_name, ""), func.nullif(Citizen.last_name, ""))
    agency, category = _labels("agency_label", agencies), _labels("category_label", categories)
    query = (
        select(
            Report.tracking_id,
            func.to_char(days.local_time(Report.submitted_at), "YYYY-MM-DD HH24:MI"),
            Report.classification,
            agency.c.label if agency is not None else null(),
            category.c.label if category is not None else null(),
            Report.status,
            iso(Report.verify_due),
            outcome(_decided(ended, ended_statuses), Report.verify_due),
            iso(Report.followup_due),
            outcome(Report.answered_at, Report.followup_due),
            case((is_closed, Report.completion_days)),
            Report.rating,
            Report.privacy,
            case((Report.privacy == confidential, word["yes"]), else_=word["no"]),
            _only_if(list(name_shown), clean_text_sql(name)),
            # Without "@": a leading "@" starts a formula in some spreadsheets.
            _only_if(list(username_shown), clean_text_sql(Citizen.username)),
            clean_text_sql(Report.lapor_id),
            Report.channel,
            iso(Report.completion_due),
            # Met by the (last) answer, as the reminders count it: once answered, the reporter's turn.
            outcome(func.coalesce(Report.answered_at, case((is_closed, Report.closed_at))), Report.completion_due),
        )
        .outerjoin(Citizen, Citizen.id == Report.citizen_id)
        .outerjoin(ended, ended.c.report_id == Report.id)
        .where(Report.submitted_at >= submitted_from, Report.submitted_at < submitted_before)
        .order_by(Report.submitted_at, Report.id)
    )
    if agency is not None:
        query = query.outerjoin(agency, agency.c.id == Report.agency_id)
    if category is not None:
        query = query.outerjoin(category, category.c.id == Report.category_id)
    return str(query.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
