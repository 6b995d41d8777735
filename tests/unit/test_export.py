"""Export files opened and checked: rows, deadlines, and the anonymity rule."""

from __future__ import annotations

import asyncio
import csv
import io
import tempfile
import threading
import zipfile
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime

import openpyxl
import pytest
from sqlalchemy import select

from bot.domain.access import Actor, Refused
from bot.domain.workdays import WorkCalendar
from bot.i18n import build_i18n
from bot.services import export, export_worker
from bot.services.export import ExportFormat, export_year
from bot.services.export_files import PART_LIMIT, PartWriter
from bot.services.worker_process import WorkerProcess
from storage.models import Agency, AuditLog, Category, Citizen, Report
from tests.actors import COMMAND_LINE, as_admin
from tests.stats_oracle import store_facts

CAL = WorkCalendar("Asia/Makassar")


def content(exported) -> bytes:
    """The one file's bytes, unzipped when it is a zip."""
    (part,) = exported.parts
    data = part.path.read_bytes()
    if part.filename.endswith(".zip"):
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            (name,) = zf.namelist()
            return zf.read(name)
    return data


def at(y, m, d, h=2):
    return datetime(y, m, d, h, tzinfo=UTC)


@pytest.fixture
def i18n():
    i = build_i18n("id")
    with i.context(), i.use_locale("en"):
        yield i


async def seed(session):
    budi = Citizen(telegram_id=7001, first_name="Budi", last_name="Santoso", username="budis")
    sari = Citizen(telegram_id=7002, first_name="Sari", username="sari_x")
    evil = Citizen(telegram_id=7003, first_name="=HYPERLINK(\"x\")")
    agency = Agency(name="Dinas PUPR", kind="opd")
    session.add_all([budi, sari, evil, agency])
    await session.flush()

    def rep(tid, citizen, privacy, status, submitted, **kw):
        report = Report(tracking_id=tid, citizen_id=citizen.id, classification="complaint", title="t",
                        body="rahasia isi", privacy=privacy, status=status, submitted_at=submitted,
                        agency_id=agency.id, verify_due=CAL.add_working_days(CAL.local_date(submitted), 3),
                        **kw)
        store_facts(report, CAL)  # as the status changes store them (working days to completion)
        return report

    session.add_all([
        # Public, verified in time, answered late, closed after 6 working days, rated.
        rep("LPR-A", budi, "public", "closed", at(2024, 4, 1), assigned_at=at(2024, 4, 2),
            followup_due=date(2024, 4, 9), answered_at=at(2024, 4, 10), closed_at=at(2024, 4, 9),
            rating=5, completion_due=date(2024, 4, 19)),
        rep("LPR-B", sari, "anonymous", "in_progress", at(2024, 4, 1), assigned_at=at(2024, 4, 8),
            followup_due=date(2024, 4, 15), completion_due=date(2024, 4, 19)),
        rep("LPR-C", sari, "confidential", "submitted", at(2024, 4, 1)),
        rep("LPR-D", evil, "public", "submitted", at(2024, 6, 3)),
        rep("LPR-OLD", budi, "public", "submitted", at(2023, 6, 3)),
    ])
    await session.commit()


async def test_csv_rows_and_anonymity(session, i18n):
    await seed(session)
    actor = Citizen(telegram_id=9000, first_name="Admin")
    session.add(actor)
    await session.flush()
    with await export_year(session, 2024, ExportFormat.CSV, CAL, actor=as_admin(actor),
                           today=date(2024, 4, 20)) as exported:
        assert content(exported).startswith(b"\xef\xbb\xbf")  # BOM for Excel
        rows = list(csv.DictReader(io.StringIO(content(exported).decode("utf-8-sig"))))
        assert [r["Tracking ID"] for r in rows] == ["LPR-A", "LPR-B", "LPR-C", "LPR-D"]
        a, b, c, d = rows
        assert a["Reporter name"] == "Budi Santoso" and a["Reporter username"] == "budis"
        assert a["Verification deadline"] == "met" and a["Follow-up deadline"] == "missed"
        assert a["Working days to completion"] == "6" and a["Rating"] == "5"
        # The completion ceiling: met by the answer (10 April); still open past it (today 20 April); none set.
        assert (a["Completion due"], a["Completion deadline"]) == ("2024-04-19", "met")
        assert (b["Completion due"], b["Completion deadline"]) == ("2024-04-19", "missed")
        assert (c["Completion due"], c["Completion deadline"]) == ("", "-")
        # Anonymous: no trace of the reporter.
        assert b["Reporter name"] == "" and b["Reporter username"] == ""
        assert "Sari" not in content(exported).decode("utf-8-sig").split("LPR-B")[1].split("\n")[0]
        assert b["Verification deadline"] == "missed" and b["Follow-up deadline"] == "missed"
        assert c["Confidential"] == "yes" and a["Confidential"] == "no"
        assert c["Reporter name"] == "Sari" and c["Verification deadline"] == "missed"
        assert "rahasia isi" not in content(exported).decode("utf-8-sig")
        # A formula in a name is neutralised.
        assert d["Reporter name"].startswith("'=")
        entry = await session.scalar(select(AuditLog).where(AuditLog.action == "export"))
        assert entry.actor_telegram_id == 9000 and entry.detail == {"format": "csv", "rows": 4}


async def test_xlsx_opens_with_the_same_rows(session, i18n):
    await seed(session)
    with await export_year(session, 2024, ExportFormat.XLSX, CAL, actor=COMMAND_LINE,
                           today=date(2024, 4, 20)) as exported:
        ws = openpyxl.load_workbook(exported.parts[0].path).active
        values = list(ws.values)
        header, body = values[0], values[1:]
        assert header[0] == "Tracking ID" and len(body) == 4
        by_id = {row[0]: dict(zip(header, row, strict=True)) for row in body}
        assert by_id["LPR-B"]["Reporter name"] in (None, "")
        assert by_id["LPR-A"]["Reporter username"] == "budis"
        assert by_id["LPR-A"]["Working days to completion"] == 6
        assert [p.filename for p in exported.parts] == ["lapor-2024.xlsx"]


async def test_control_characters_in_a_name_do_not_break_the_xlsx(session, i18n):
    """Issue 10: one control character in a Telegram name made openpyxl refuse the whole
    workbook. They are dropped, and a formula hidden behind one is still neutralised."""
    agency = Agency(name="Dinas\x07 PUPR", kind="opd")
    category = Category(code="k1", name="+Jalan\x02 rusak")
    bell = Citizen(telegram_id=7010, first_name="\x01=HYPERLINK(\"x\")", last_name="Siti\x1b[31m\x0c")
    session.add_all([agency, category, bell])
    await session.flush()
    session.add(Report(tracking_id="LPR-CTRL", citizen_id=bell.id, classification="complaint",
                       title="Jalan\x08 rusak", body="b", privacy="public", status="submitted",
                       submitted_at=at(2024, 6, 3), agency_id=agency.id, category_id=category.id))
    await session.commit()
    for fmt in (ExportFormat.XLSX, ExportFormat.CSV):
        with await export_year(session, 2024, fmt, CAL, actor=COMMAND_LINE, today=date(2024, 6, 20)) as exported:
            if fmt is ExportFormat.XLSX:
                ws = openpyxl.load_workbook(exported.parts[0].path).active
                header, row = list(ws.values)
                text = " ".join(str(v) for v in row if v is not None)
                cells = dict(zip(header, row, strict=True))
            else:
                text = content(exported).decode("utf-8-sig")
                (cells,) = csv.DictReader(io.StringIO(text))
            assert not any(ord(ch) < 32 and ch not in "\r\n" for ch in text)
            assert cells["Reporter name"] == "'=HYPERLINK(\"x\") Siti[31m"
            # The agency's and the category's names too (on PostgreSQL cleaned before the COPY).
            assert (cells["Agency"], cells["Category"]) == ("Dinas PUPR", "'+Jalan rusak")


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)  # refused before any query: one database is enough
async def test_only_admins_export(session, i18n):
    await seed(session)
    with pytest.raises(Refused):
        await export_year(session, 2024, ExportFormat.CSV, CAL, actor=Actor(citizen_id=1))


def test_cli_export_writes_a_file(tmp_path, monkeypatch):
    # The schema is made by create_all below; the migration of the new tables is the lead's.
    async def no_migrations(settings):
        return None

    monkeypatch.setattr("bot.cli._prepare_database", no_migrations)
    import asyncio

    from sqlalchemy.ext.asyncio import create_async_engine

    from bot.cli import main

    db = tmp_path / "cli.db"
    url = f"sqlite+aiosqlite:///{db}"
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[telegram]\ntoken = "123456789:AAHarnessTokenForTestsOnly_abcdefghij"\n'
                   f'[database]\nurl = "{url}"\n')

    async def prepare():
        from storage.base import Base

        engine = create_async_engine(url)
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
        from sqlalchemy.ext.asyncio import async_sessionmaker

        async with async_sessionmaker(engine, expire_on_commit=False)() as s:
            await seed(s)
        await engine.dispose()

    asyncio.run(prepare())
    out = tmp_path / "out.xlsx"
    assert main(["--config", str(cfg), "export", "--year", "2024", "--format", "xlsx",
                 "--out", str(out)]) == 0
    ws = openpyxl.load_workbook(out).active
    assert ws.max_row == 5  # header + 4 reports of 2024


async def test_category_and_lapor_number_columns_and_reports_without_a_citizen(session, i18n):
    await seed(session)
    cat = Category(code="jalan-rusak", name="Jalan rusak")
    session.add(cat)
    await session.flush()
    a = await session.scalar(select(Report).where(Report.tracking_id == "LPR-A"))
    a.category_id, a.lapor_id = cat.id, "1916449"
    # Filed through the Open311 API: no citizen row, and it must still be counted.
    session.add(Report(tracking_id="LPR-API", citizen_id=None, channel="open311", classification="complaint",
                       title="t", body="b", privacy="public", status="submitted", submitted_at=at(2024, 5, 2)))
    await session.commit()
    with await export_year(session, 2024, ExportFormat.CSV, CAL, actor=COMMAND_LINE,
                           today=date(2024, 6, 20)) as exported:
        rows = {r["Tracking ID"]: r for r in csv.DictReader(io.StringIO(content(exported).decode("utf-8-sig")))}
        assert rows["LPR-A"]["Category"] == "Jalan rusak" and rows["LPR-A"]["SP4N-LAPOR! number"] == "1916449"
        assert rows["LPR-B"]["Category"] == "" and rows["LPR-B"]["SP4N-LAPOR! number"] == ""
        assert rows["LPR-API"]["Reporter name"] == ""


async def test_lapor_format_follows_the_form_and_never_names_the_reporter(session, i18n):
    await seed(session)
    cat = Category(code="jalan-rusak", name="Jalan rusak")
    session.add(cat)
    await session.flush()
    for report in (await session.scalars(select(Report))).all():
        report.category_id = cat.id
        report.incident_date = date(2024, 3, 30)
        report.location_text = "Jl. Propinsi km 3"
    await session.commit()
    with await export_year(session, 2024, ExportFormat.LAPOR, CAL, actor=COMMAND_LINE) as exported:
        assert [p.filename for p in exported.parts] == ["lapor-2024-formulir.csv"]
        text = content(exported).decode("utf-8-sig")
        header, *rows = list(csv.reader(io.StringIO(text)))
        # LAPOR!'s own form, in its order and wording, framed by our id and its number.
        assert header == ["Nomor pelacakan kanal", "Klasifikasi", "Judul", "Isi Laporan", "Tanggal Kejadian",
                          "Lokasi", "Instansi Tujuan", "Kategori", "Anonim", "Rahasia", "Nomor LAPOR!"]
        # Verified reports only (A and B were assigned); C (confidential) waits for verification.
        by_id = {r[0]: dict(zip(header, r, strict=True)) for r in rows}
        assert set(by_id) == {"LPR-A", "LPR-B"}
        a, b = by_id["LPR-A"], by_id["LPR-B"]
        assert (a["Klasifikasi"], a["Isi Laporan"], a["Tanggal Kejadian"], a["Instansi Tujuan"], a["Kategori"]) == (
            "Pengaduan", "rahasia isi", "30/03/2024", "Dinas PUPR", "Jalan rusak")
        assert (a["Anonim"], b["Anonim"], b["Rahasia"]) == ("Tidak", "Ya", "Tidak")
        for name in ("Budi", "Santoso", "budis", "Sari", "sari_x"):
            assert name not in text
        with pytest.raises(Refused):
            await export_year(session, 2024, ExportFormat.LAPOR, CAL, actor=Actor(citizen_id=1))


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)  # the same on both: one is enough
async def test_a_cancelled_worker_export_stops_and_leaves_no_folder(session, i18n, tmp_path, monkeypatch):
    """The admin's export cancelled (the bot stopping, the update's task cancelled) while the
    worker writes: the worker stops at its next batch and the folder is removed when it ends.
    The worker is a thread here (same code path, no process to spawn)."""
    await seed(session)
    worker = WorkerProcess()
    worker._pool = ThreadPoolExecutor(max_workers=1)
    monkeypatch.setattr(export_worker, "_worker", worker)
    monkeypatch.setattr(export, "BATCH", 1)  # a batch per report
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    writing, release, batches = threading.Event(), threading.Event(), []
    write = PartWriter.write

    def held_write(self, rows):
        batches.append(rows)
        writing.set()
        release.wait(10)
        write(self, rows)

    monkeypatch.setattr(PartWriter, "write", held_write)
    task = asyncio.create_task(export_worker.write_year(session, 2024, ExportFormat.XLSX, CAL, date(2024, 7, 1),
                                                        PART_LIMIT))
    assert await asyncio.to_thread(writing.wait, 10)
    assert list(tmp_path.glob("lapor-export-*"))
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    release.set()
    for _ in range(200):
        if not list(tmp_path.glob("lapor-export-*")):
            break
        await asyncio.sleep(0.05)
    worker._pool.shutdown(wait=True)
    assert not list(tmp_path.glob("lapor-export-*"))
    assert len(batches) == 1  # of four: it stopped
