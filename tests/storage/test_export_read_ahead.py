"""The export's reads on PostgreSQL (issue 15): when a cap is set, the reports table is read
first from the disk at that rate at most (storage/readahead.py), then exported from memory."""

from __future__ import annotations

import random
import shutil
from datetime import date

import pytest

from bot.domain.workdays import WorkCalendar
from bot.i18n import build_i18n
from bot.services.export import ExportFormat, write_year
from bot.services.export_files import BYTES_PER_ROW
from storage import readahead
from tests.storage.test_stats_equivalence import seed_random

pytestmark = pytest.mark.parametrize("engine", [pytest.param("postgresql", marks=pytest.mark.postgres)],
                                     indirect=True)

CAL = WorkCalendar("Asia/Makassar")


class Clock:
    """Each read (two readings of the clock) takes ``took`` seconds, but the random sample's
    two (the first reads) ``sample``; sleeps are recorded."""

    def __init__(self, took: float, sample: tuple[float, float] = (0.05, 0.001)) -> None:
        self.now, self.took, self.calls, self.sleeps = 0.0, took, 0, []
        self.sample = sample

    def __call__(self) -> float:
        self.calls += 1
        if self.calls % 2 == 0:
            reads = self.calls // 2
            self.now += self.sample[reads - 1] if reads <= len(self.sample) else self.took
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


async def seeded(session, n: int = 200):
    await seed_random(session, CAL, random.Random(15), n=n)
    await session.commit()
    conn = await session.connection()
    await conn.exec_driver_sql("ANALYZE report")  # reltuples: the rows a chunk of bytes holds
    return (await conn.get_raw_connection()).driver_connection


async def test_reads_from_the_disk_are_paced_to_the_cap(session):
    raw = await seeded(session)
    size = await raw.fetchval("SELECT pg_relation_size('report')")
    clock = Clock(took=0.01)
    # Chunks of a tenth of the table; 0.01 s for each is slower than "memory" (1 GB/s): disk.
    done = await readahead.read_ahead(raw, "report", max_mb_s=size / 1e6, memory_mb_s=1000,
                                      chunk_bytes=size // 10, clock=clock, sleep=clock.sleep)
    assert abs(done.bytes - size) <= size // 100
    # A second for the table at its size a second: each full chunk paused to a tenth of it.
    assert len(clock.sleeps) >= 9 and all(abs(s - (0.1 - 0.01)) < 0.02 for s in clock.sleeps)
    assert abs(clock.now - 1.0) < 0.15
    assert done.from_disk >= size * 0.85


async def test_a_table_whose_sample_comes_from_memory_is_not_read_ahead(session):
    raw = await seeded(session)
    size = await raw.fetchval("SELECT pg_relation_size('report')")
    # The random sample as fast the first time as the second (from memory), the chunks slow as
    # a busy CPU makes them: the table is in memory, nothing to pace.
    clock = Clock(took=0.01, sample=(0.002, 0.002))
    done = await readahead.read_ahead(raw, "report", max_mb_s=size / 1e6, memory_mb_s=1000,
                                      chunk_bytes=size // 10, clock=clock, sleep=clock.sleep)
    assert clock.sleeps == [] and done.bytes == 0 and done.sampled < readahead.CACHED_PAGE_S


async def test_chunks_from_memory_are_not_paced(session):
    raw = await seeded(session)
    size = await raw.fetchval("SELECT pg_relation_size('report')")
    # The sample slow the first time (the table on the disk), the chunks far faster than any
    # disk: read meanwhile by someone else, they are the page cache's.
    clock = Clock(took=1e-6)
    done = await readahead.read_ahead(raw, "report", max_mb_s=size / 1e6, memory_mb_s=1000,
                                      chunk_bytes=size // 10, clock=clock, sleep=clock.sleep)
    assert clock.sleeps == [] and done.from_disk == 0 and done.bytes > 0


async def test_the_copy_runs_after_the_capped_read_ahead(session, monkeypatch):
    await seeded(session, n=20)
    calls = []

    async def recording(conn, table, **kw):
        calls.append((table, kw["max_mb_s"]))
        return readahead.ReadAhead()

    monkeypatch.setattr(readahead, "read_ahead", recording)
    i18n = build_i18n("id")
    with i18n.context(), i18n.use_locale("en"):
        # write_year: export_year commits (its audit record), which would end the SET LOCAL.
        # A limit of a few rows: a part per month, each its own COPY.
        parts, directory = await write_year(session, 2024, ExportFormat.CSV, CAL, date(2024, 7, 1),
                                            3 * BYTES_PER_ROW["zip"], read_mb_s=25)
    shutil.rmtree(directory)
    assert sum(p.rows for p in parts) and len(parts) > 1  # the COPYs ran
    assert calls == [("report", 25)]  # once, before the first: the next find the table in memory


async def test_no_read_ahead_without_a_cap(session, monkeypatch):
    await seeded(session, n=20)
    calls = []

    async def recording(conn, table, **kw):
        calls.append(table)
        return readahead.ReadAhead()

    monkeypatch.setattr(readahead, "read_ahead", recording)
    i18n = build_i18n("id")
    with i18n.context(), i18n.use_locale("en"):
        parts, directory = await write_year(session, 2024, ExportFormat.CSV, CAL, date(2024, 7, 1), None,
                                            read_mb_s=None)
    shutil.rmtree(directory)
    assert sum(p.rows for p in parts) and calls == []
