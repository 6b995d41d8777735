"""The fast export (bot/services/export.py: values computed in SQL, the privacy rule in the
query, constants hoisted out of the loop) writes exactly the rows of the row-by-row oracle
(tests/export_oracle.py) on random data: every status and privacy, reports near local midnight
and on holidays, rejections dated by their events, reporters without a citizen row, names with
control characters and formulas, in several time zones (one with daylight saving time)."""

from __future__ import annotations

import csv
import io
import random
from datetime import date, timedelta

import openpyxl
import pytest
from sqlalchemy import select

from bot.domain.enums import Privacy
from bot.domain.workdays import WorkCalendar
from bot.i18n import build_i18n
from bot.services.export import ExportFormat, export_year, headers
from bot.services.export_files import cell
from storage.models import Citizen, Report
from tests import export_oracle
from tests.actors import COMMAND_LINE
from tests.storage.test_stats_equivalence import CASES, seed_random

NAMES = [("Budi", "Santoso", "budis"), ("Sari", None, "sari_x"), (None, "Nomor 7", None), ("", "", ""),
         ('=HYPERLINK("x")', "Siti\x1b[31m", "@evil"), ("\x01-1", None, "+62"), ("Ani\nBaru", "a,b", 'q"q'),
         (" Tono ", "<b>&amp;</b>", "a>b"), ("-", None, "-"), ("\t-", "\r", "\x02@x")]


async def diversify(session, cal: WorkCalendar, rng: random.Random) -> None:
    """Reporters of every kind on ``seed_random``'s reports, and every privacy. Some rejected and
    archived ones never assigned, with a verification deadline between their ending event
    (within 60 days) and their last update (100 days): decided in time by the event only."""
    citizens = [Citizen(telegram_id=8100 + i, first_name=f, last_name=la, username=u)
                for i, (f, la, u) in enumerate(NAMES)]
    session.add_all(citizens)
    await session.flush()
    for report in (await session.scalars(select(Report))).all():
        report.privacy = rng.choice(list(Privacy)).value
        report.citizen_id = rng.choice([None, *(c.id for c in citizens)])
        if rng.random() < 0.7:
            report.completion_due = cal.local_date(report.submitted_at) + timedelta(days=rng.randrange(40))
        if report.status in ("rejected", "archived") and rng.random() < 0.6:
            report.assigned_at = None
            report.updated_at = report.submitted_at + timedelta(days=100)
            report.verify_due = cal.local_date(report.submitted_at) + timedelta(days=65)
    await session.commit()


@pytest.fixture
def i18n():
    i = build_i18n("id")
    with i.context(), i.use_locale("en"):
        yield i


@pytest.mark.parametrize(("tz", "extra", "seed"), CASES)
async def test_the_export_equals_the_oracle(session, i18n, tz, extra, seed):
    cal = WorkCalendar(tz, extra)
    rng = random.Random(seed)
    await seed_random(session, cal, rng)
    await diversify(session, cal, rng)
    for year, today in [(2024, date(2024, 6, 14)), (2024, date(2025, 2, 3)), (2025, date(2025, 3, 31))]:
        exported = await export_year(session, year, ExportFormat.CSV, cal, actor=COMMAND_LINE, today=today,
                                     limit=None)
        try:
            (part,) = exported.parts
            got = list(csv.reader(io.StringIO(part.path.read_bytes().decode("utf-8-sig"))))[1:]
        finally:
            exported.cleanup()
        want = [[str(cell(v)) for v in row] for row in await export_oracle.rows(session, year, cal, today)]
        assert len(want) > 20
        assert got == want
        # The data has what the rule is about: anonymous reports of named reporters.
        assert any(r[12] == Privacy.ANONYMOUS and r[14] == "" for r in got)
        assert any(r[12] != Privacy.ANONYMOUS and r[14] for r in got)

    # The workbook (its own writer, bot/services/xlsx_stream.py) holds the same cells: numbers
    # as numbers, empty cells empty.
    year, today = 2024, date(2024, 6, 14)
    exported = await export_year(session, year, ExportFormat.XLSX, cal, actor=COMMAND_LINE, today=today)
    try:
        (part,) = exported.parts
        header, *got = list(openpyxl.load_workbook(part.path).active.values)
    finally:
        exported.cleanup()
    want = [tuple(None if cell(v) == "" else cell(v) for v in row)
            for row in await export_oracle.rows(session, year, cal, today)]
    assert header == tuple(headers()) and got == want
