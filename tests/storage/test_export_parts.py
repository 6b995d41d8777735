"""The export at scale: rows streamed in batches, CSV zipped when it would not fit a bot's
upload, the year split by month into files that each fit, nothing lost or repeated."""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from datetime import UTC, date, datetime

import openpyxl
import pytest

from bot.domain.workdays import WorkCalendar
from bot.i18n import build_i18n
from bot.services import export as export_service
from bot.services import export_files
from bot.services.export import ExportFormat, export_year
from bot.services.export_files import BYTES_PER_ROW, PartWriter, plan_parts
from storage.models import Agency, Citizen, Report
from storage.repositories.stats import StatsRepo
from tests.actors import COMMAND_LINE

CAL = WorkCalendar("Asia/Makassar")


@pytest.fixture
def i18n():
    i = build_i18n("id")
    with i.context(), i.use_locale("en"):
        yield i


async def seed(session, per_month: dict[int, int], noise: bool = False) -> list[str]:
    """Reports of 2024, ``per_month[m]`` in month m (the first at local midnight of the 1st);
    their tracking ids, oldest first. ``noise``: each with an SP4N-LAPOR! number that does not
    compress (a zip of a few such rows is bigger than its fixed overhead)."""
    citizen = Citizen(telegram_id=7100, first_name="Budi")
    agency = Agency(name="Dinas PUPR", kind="opd")
    session.add_all([citizen, agency])
    await session.flush()
    ids = []
    for month, n in sorted(per_month.items()):
        for i in range(n):
            # 1 January 00:00 WITA is 31 December 16:00 UTC: it still belongs to January.
            at = datetime.combine(date(2024, month, 1 + i % 28), datetime.min.time(), CAL.tz)
            tid = f"LPR-{month:02d}{i:03d}"
            ids.append(tid)
            session.add(Report(tracking_id=tid, citizen_id=citizen.id, classification="complaint",
                               title="t", body="b" * 50, privacy="public", status="closed",
                               agency_id=agency.id, submitted_at=at.astimezone(UTC),
                               assigned_at=at, closed_at=at.replace(day=28),
                               lapor_id=hashlib.sha256(tid.encode()).hexdigest()[:32] if noise else None))
    # Another year's report never leaks in.
    session.add(Report(tracking_id="LPR-2023", citizen_id=citizen.id, classification="complaint",
                       title="t", body="b", privacy="public", status="submitted",
                       submitted_at=datetime(2023, 12, 31, 15, 59, tzinfo=UTC)))
    await session.commit()
    return ids


def csv_rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def unzip(path) -> tuple[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        (name,) = zf.namelist()
        return name, zf.read(name)


def test_plan_keeps_a_year_whole_when_it_fits_and_splits_at_months_otherwise():
    months = [10] * 12
    assert plan_parts(months, 10, None) == [(1, 12)]
    assert plan_parts(months, 10, 1200) == [(1, 12)]
    assert plan_parts(months, 10, 400) == [(1, 4), (5, 8), (9, 12)]
    # A month bigger than the limit still gets a part of its own.
    assert plan_parts([1, 50, 1] + [0] * 9, 10, 100) == [(1, 1), (2, 2), (3, 12)]


async def test_a_year_over_the_limit_comes_in_monthly_zip_parts_that_add_up(session, i18n):
    per_month = {1: 9, 2: 3, 3: 12, 7: 5, 12: 8}
    ids = await seed(session, per_month, noise=True)
    # Planned at BYTES_PER_ROW["zip"] a row: at most ~12 rows per part.
    limit = 12 * BYTES_PER_ROW["zip"]
    exported = await export_year(session, 2024, ExportFormat.CSV, CAL, actor=COMMAND_LINE,
                                 today=date(2024, 12, 31), limit=limit)
    try:
        names = [p.filename for p in exported.parts]
        assert names == ["lapor-2024-01-02.zip", "lapor-2024-03-06.zip", "lapor-2024-07-11.zip",
                         "lapor-2024-12-12.zip"]
        seen = []
        for part in exported.parts:
            member, data = unzip(part.path)
            assert member == part.filename.replace(".zip", ".csv")
            rows = csv_rows(data)  # each part has its header
            assert len(rows) == part.rows
            first, last = part.months
            assert all(first <= int(r["Submitted"][5:7]) <= last for r in rows)
            seen += [r["Tracking ID"] for r in rows]
        assert seen == ids and exported.rows == len(ids)
        assert not exported.too_large
    finally:
        exported.cleanup()
    assert not exported.directory.exists()


async def test_one_part_stays_zipped_when_the_plain_csv_would_not_fit(session, i18n):
    ids = await seed(session, {5: 20})
    exported = await export_year(session, 2024, ExportFormat.CSV, CAL, actor=COMMAND_LINE,
                                 today=date(2024, 12, 31), limit=25 * BYTES_PER_ROW["zip"])
    try:
        (part,) = exported.parts
        assert part.filename == "lapor-2024.zip" and part.months == (1, 12)
        member, data = unzip(part.path)
        assert member == "lapor-2024.csv" and len(data) > 25 * BYTES_PER_ROW["zip"]
        assert [r["Tracking ID"] for r in csv_rows(data)] == ids
    finally:
        exported.cleanup()


async def test_a_csv_zipped_as_it_streams_is_plain_again_when_it_fits(session, i18n, monkeypatch):
    """On PostgreSQL a CSV expected over the limit (``BYTES_PER_ROW["csv"]`` a row) is compressed
    while the server streams it; when the estimate was too high, the file is a plain CSV all the
    same, as if it had been written plain first."""
    ids = await seed(session, {5: 20})
    streamed = []

    class Recording(export_files._Deflated):
        def __init__(self, *args):
            streamed.append(args)
            super().__init__(*args)

    monkeypatch.setattr(export_files, "_Deflated", Recording)
    exported = await export_year(session, 2024, ExportFormat.CSV, CAL, actor=COMMAND_LINE,
                                 today=date(2024, 12, 31), limit=20 * BYTES_PER_ROW["csv"] - 1)
    try:
        (part,) = exported.parts
        assert part.filename == "lapor-2024.csv" and part.rows == 20
        assert [r["Tracking ID"] for r in csv_rows(part.path.read_bytes())] == ids
        assert [p.name for p in exported.directory.iterdir()] == ["lapor-2024.csv"]  # no zip left
    finally:
        exported.cleanup()
    assert len(streamed) == (session.bind.dialect.name == "postgresql")


async def test_a_small_year_is_a_plain_csv_and_rows_are_streamed_in_batches(session, i18n, monkeypatch):
    ids = await seed(session, {1: 7, 4: 10})
    batches: list[int] = []
    write = PartWriter.write

    def recording(self, rows):
        batches.append(len(rows))
        write(self, rows)

    monkeypatch.setattr(PartWriter, "write", recording)
    monkeypatch.setattr(export_service, "BATCH", 5)
    exported = await export_year(session, 2024, ExportFormat.CSV, CAL, actor=COMMAND_LINE,
                                 today=date(2024, 12, 31))
    try:
        (part,) = exported.parts
        assert part.filename == "lapor-2024.csv"
        assert [r["Tracking ID"] for r in csv_rows(part.path.read_bytes())] == ids
    finally:
        exported.cleanup()
    if session.bind.dialect.name == "postgresql":
        # The server writes the CSV itself (COPY): no row passes through Python.
        assert batches == []
    else:
        # Never more than a batch at a time from the cursor to the file.
        assert batches == [5, 5, 5, 2]


async def test_xlsx_splits_by_month_too(session, i18n):
    ids = await seed(session, {2: 6, 9: 6})
    exported = await export_year(session, 2024, ExportFormat.XLSX, CAL, actor=COMMAND_LINE,
                                 today=date(2024, 12, 31), limit=8 * BYTES_PER_ROW["xlsx"])
    try:
        assert [p.filename for p in exported.parts] == ["lapor-2024-01-08.xlsx", "lapor-2024-09-12.xlsx"]
        seen = []
        for part in exported.parts:
            values = list(openpyxl.load_workbook(part.path).active.values)
            assert values[0][0] == "Tracking ID"
            seen += [row[0] for row in values[1:]]
        assert seen == ids
    finally:
        exported.cleanup()


async def test_the_lapor_form_is_streamed_and_zipped_as_well(session, i18n):
    await seed(session, {3: 10})
    exported = await export_year(session, 2024, ExportFormat.LAPOR, CAL, actor=COMMAND_LINE,
                                 limit=10 * BYTES_PER_ROW["zip"])
    try:
        (part,) = exported.parts
        assert part.filename == "lapor-2024-formulir.zip"
        _member, data = unzip(part.path)
        rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
        assert rows[0][0] == "Nomor pelacakan kanal" and len(rows) == 11
    finally:
        exported.cleanup()


@pytest.mark.parametrize("engine", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
async def test_the_servers_csv_is_split_by_its_real_size_and_months_are_counted_only_then(session, i18n,
                                                                                          monkeypatch):
    """PostgreSQL's COPY counts the rows it writes: the year is one part unless its zip came out
    over the limit, and only then are its months counted (on a cold table the counts were most of
    the export's reads from the disk, issue 15)."""
    ids = await seed(session, {1: 9, 2: 3, 3: 12, 7: 5, 12: 8}, noise=True)
    counted = []
    by_month = StatsRepo.by_month

    async def recording(self, *args, **kwargs):
        counted.append(args)
        return await by_month(self, *args, **kwargs)

    monkeypatch.setattr(StatsRepo, "by_month", recording)

    async def export(limit: int):
        exported = await export_year(session, 2024, ExportFormat.CSV, CAL, actor=COMMAND_LINE,
                                     today=date(2024, 12, 31), limit=limit)
        seen = []
        for part in exported.parts:
            rows = csv_rows(unzip(part.path)[1])
            assert len(rows) == part.rows
            seen += [r["Tracking ID"] for r in rows]
        sizes = [(p.filename, p.path.stat().st_size) for p in exported.parts]
        exported.cleanup()
        assert seen == ids
        return sizes

    # The estimate (BYTES_PER_ROW["zip"] a row) is over this limit, the zip itself is not.
    limit = len(ids) * BYTES_PER_ROW["zip"] - 1
    ((name, size),) = await export(limit)
    assert name == "lapor-2024.zip" and size <= limit
    assert counted == []
    # Over the limit even zipped: counted then (once), and split at months.
    assert [name for name, _size in await export(12 * BYTES_PER_ROW["zip"])] == [
        "lapor-2024-01-02.zip", "lapor-2024-03-06.zip", "lapor-2024-07-11.zip", "lapor-2024-12-12.zip"]
    assert len(counted) == 1
