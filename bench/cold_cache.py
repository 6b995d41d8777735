"""A database's pages out of the operating system's page cache, for a cold-cache run (issue 15).

On a host whose memory does not hold the reports table, an export reads it from the disk;
here (24 GB of memory) the table stays cached after the first run. Dropping every cache needs
``echo 3 > /proc/sys/vm/drop_caches`` (not ours to do on a shared machine); this drops only the
files of ONE database: ``posix_fadvise(POSIX_FADV_DONTNEED)`` on each file under
``<data_directory>/base/<the database's oid>/``. Needs read access to those files (root, or
the postgres user) and the server on this host. PostgreSQL's own shared_buffers (128 MB here)
keep what they hold: a small part of a 2.6 GB database.

    python bench/cold_cache.py lapor_x_mine        # before a run; never a database others measure on
    python bench/cold_cache.py lapor_x_mine report report_event   # those tables only

Used by ``data_scale.py --cold`` and ``admin_load.py --cold``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402
from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402

PG = os.environ.get("LAPOR_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
# Shared by every engineer's benches: never made cold by one of them.
SHARED = frozenset({"lapor_bench_1m"})


# The tables the admin's export and /statistik read in bulk (with their indexes and TOAST): made
# cold before each of the admin's operations, while the citizens' own tables stay as they are.
REPORTS = ("report", "report_event")
_FILES = text(
    "SELECT pg_relation_filepath(c.oid) FROM pg_class c WHERE c.oid = ANY(CAST(:rels AS regclass[])) "
    "OR c.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid = ANY(CAST(:rels AS regclass[]))) "
    "OR c.oid IN (SELECT reltoastrelid FROM pg_class WHERE oid = ANY(CAST(:rels AS regclass[])))")


async def database_files(name: str, tables: tuple[str, ...] = ()) -> list[Path]:
    """The files of database ``name``, or of its ``tables`` only (and their indexes and TOAST)."""
    url = PG.rsplit("/", 1)[0] + "/" + name
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            data = Path(await conn.scalar(text("SHOW data_directory")))
            if not tables:
                oid = await conn.scalar(text("SELECT oid FROM pg_database WHERE datname = current_database()"))
                return [p for p in (data / "base" / str(oid)).iterdir() if p.is_file()]
            paths = (await conn.execute(_FILES, {"rels": list(tables)})).scalars().all()
    finally:
        await engine.dispose()
    # Every segment (.1, .2 …) and fork (_fsm, _vm) of each relation.
    return [f for p in paths for f in (data / p).parent.glob((data / p).name + "*") if f.is_file()]


def drop_files(paths: list[Path]) -> int:
    """Every file of ``paths`` out of the page cache; the bytes they hold."""
    total = 0
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            total += os.fstat(fd).st_size
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)
    return total


async def make_cold(name: str, tables: tuple[str, ...] = ()) -> int:
    """``name``'s files (or its ``tables``') out of the page cache (refused for the shared
    databases); their bytes."""
    if name in SHARED:
        raise SystemExit(f"{name} is shared: copy it (CREATE DATABASE … TEMPLATE {name}) and make the copy cold")
    # In a thread: a bench calls it while its event loop times citizens.
    return await asyncio.to_thread(drop_files, await database_files(name, tables))


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("db_name")
    ap.add_argument("tables", nargs="*", help="these tables only (their indexes and TOAST too)")
    args = ap.parse_args()
    n = asyncio.run(make_cold(args.db_name, tuple(args.tables)))
    print(f"dropped {n / 1e6:,.0f} MB from the page cache")
