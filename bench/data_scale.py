"""The admin's and the scheduler's work at a million reports, on PostgreSQL.

Generates a district's years of reports (bench/scale_data.py) into a database of its own, then
times through the real dispatcher (the handler harness's recording Bot session, no network):
/statistik for the running and the past year, its per-agency button, /ekspor, /kotak,
/verifikasi, /instansi, the escalation's overdue list, and every scheduled job once; the export
service alone (CSV, XLSX, LAPOR! form) with its CPU time and peak memory. Prints the figures,
and EXPLAIN ANALYZE of the slowest statement of the slowest operation. The database is dropped
afterwards (~2 GB) unless --keep.

    python bench/data_scale.py                      # 1,000,000 reports, ~10 minutes
    python bench/data_scale.py --reports 100000 --keep
    python bench/data_scale.py --reuse              # a database kept by --keep
    python bench/data_scale.py --db-name lapor_bench_1m --exports-only   # the export alone
    python bench/data_scale.py --db-name lapor_bench_1m --exports-only --formats csv   # its CSV only
    python bench/data_scale.py --db-name lapor_1m_mine --exports-only --formats csv --cold   # from the disk
    python bench/data_scale.py --reuse --keep --db-name lapor_1m_mine --jobs-only 3   # the jobs, 3 rounds
    python bench/data_scale.py --reuse --keep --db-name lapor_1m_mine --jobs-only 2 --day-apart
                                                    # round 2 a day later: a day's new work (retention)

Goal (issue 15): each ≤ 1 s at 1M reports; the export ≤ 1 s per 100k rows, memory flat, every
file under the 50 MB a bot may upload.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import event, text  # noqa: E402
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine  # noqa: E402

from bench.cold_cache import make_cold  # noqa: E402
from bench.scale_data import ADMIN_TID, OFFICER_TID, generate  # noqa: E402
from bot.domain.access import COMMAND_LINE  # noqa: E402
from bot.domain.workdays import WorkCalendar  # noqa: E402
from bot.i18n import build_i18n  # noqa: E402
from bot.jobs.base import JobContext  # noqa: E402
from bot.scheduler import ALL_JOBS  # noqa: E402
from bot.services.export import ExportFormat, export_year  # noqa: E402
from bot.services.export_files import PART_LIMIT  # noqa: E402
from bot.services.statistics import year_statistics  # noqa: E402
from tests.handlers.harness import Harness  # noqa: E402

PG = os.environ.get("LAPOR_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")


def _url(name: str) -> str:
    return PG.rsplit("/", 1)[0] + "/" + name


async def _admin(sql: str) -> None:
    engine = create_async_engine(PG, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text(sql))
    await engine.dispose()


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Statements:
    """The statements of the operation being timed, with their durations."""

    def __init__(self, engine) -> None:
        self.log: list[tuple[float, str, object]] = []
        sync = engine.sync_engine

        @event.listens_for(sync, "before_cursor_execute")
        def _before(conn, cursor, statement, parameters, context, executemany):
            conn.info.setdefault("t0", []).append(time.perf_counter())

        @event.listens_for(sync, "after_cursor_execute")
        def _after(conn, cursor, statement, parameters, context, executemany):
            t0 = conn.info["t0"].pop()
            self.log.append((time.perf_counter() - t0, statement, parameters))


def _proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) of a local process: the PostgreSQL backend serving the
    export, which does the work the bot no longer does (COPY). NaN when it is not visible."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _workers_cpu() -> dict[int, float]:
    """CPU seconds so far of each export worker process (none before the first export, and
    none in versions of the bot without the worker)."""
    try:
        from bot.services.export_worker import worker_pids
    except ImportError:
        return {}
    return {pid: _proc_cpu(pid) for pid in worker_pids()}


def _disk_reads() -> tuple[int, float]:
    """Read requests completed and MB read so far by the machine's disks (``/proc/diskstats``,
    whole disks only: everyone's reads, not the export's alone)."""
    ops, sectors = 0, 0
    for line in Path("/proc/diskstats").read_text().splitlines():
        f = line.split()
        if Path(f"/sys/block/{f[2]}/device").exists():  # a disk, not a partition, zram or loop
            ops, sectors = ops + int(f[3]), sectors + int(f[5])
    return ops, sectors * 512 / 1e6


async def _ticker(lags: list[float], every: float = 0.01) -> None:
    """How late the event loop wakes a 10 ms sleep: what an update would wait meanwhile."""
    while True:
        t = time.perf_counter()
        await asyncio.sleep(every)
        lags.append(time.perf_counter() - t - every)


async def _parallel_workers_cpu(session_factory, leader: int, seen: dict[int, float]) -> None:
    """Every 50 ms, the CPU seconds so far of each PostgreSQL parallel worker serving
    ``leader`` (``seen``, by pid). A worker exits with its query: the CPU of its last 50 ms may
    be missed."""
    async with session_factory() as s:
        while True:
            pids = (await s.execute(text("SELECT pid FROM pg_stat_activity WHERE leader_pid = :leader"),
                                    {"leader": leader})).scalars().all()
            await s.commit()
            for pid in pids:
                cpu = _proc_cpu(pid)
                if cpu == cpu:  # not NaN: still there
                    seen[pid] = cpu
            await asyncio.sleep(0.05)


async def export_figures(session_factory, calendar: WorkCalendar, i18n, year: int, fmt: ExportFormat,
                         limit: int | None = PART_LIMIT, read_mb_s: float | None = None) -> str:
    """One export through the service as the chat makes it (``limit``: split and zipped to fit
    an upload; None: the command line's one plain file): rows, wall and CPU time per 100k rows
    (CPU of the whole process, its worker thread and worker process included: on a shared
    machine the wall time mostly measures the neighbours), the peak RSS it added, the files, how late the event loop
    answered meanwhile; the CPU time of the PostgreSQL backend that served it and of its
    parallel workers, if the plan has any (sampled: ``_parallel_workers_cpu``)."""
    before = _rss_mb()
    lags: list[float] = []
    ticking = asyncio.create_task(_ticker(lags))
    t, cpu, disk = time.perf_counter(), time.process_time(), _disk_reads()
    with i18n.context(), i18n.use_locale("id"):
        async with session_factory() as s:
            backend = 0
            if s.get_bind().dialect.name == "postgresql":
                backend = (await s.execute(text("SELECT pg_backend_pid()"))).scalar_one()
            server_cpu, worker_cpu = _proc_cpu(backend), _workers_cpu()
            parallel: dict[int, float] = {}
            sampling = asyncio.create_task(_parallel_workers_cpu(session_factory, backend, parallel)) if backend \
                else None
            # read_mb_s only when asked: older versions of the service have no such argument.
            paced = {"read_mb_s": read_mb_s} if read_mb_s else {}
            exported = await export_year(s, year, fmt, calendar, actor=COMMAND_LINE, limit=limit, **paced)
            server_cpu = _proc_cpu(backend) - server_cpu
            if sampling is not None:
                sampling.cancel()
            worker_cpu = {pid: cpu - worker_cpu.get(pid, 0.0) for pid, cpu in _workers_cpu().items()}
    took, cpu = time.perf_counter() - t, time.process_time() - cpu
    disk = [now - then for now, then in zip(_disk_reads(), disk, strict=True)]
    cpu += sum(worker_cpu.values())  # the export's worker process (bot/services/export_worker.py)
    ticking.cancel()
    lags.sort()
    try:
        rows = max(exported.rows, 1)
        sizes = ", ".join(f"{p.filename} {p.path.stat().st_size / 1e6:.1f} MB" for p in exported.parts)
        return (f"{exported.rows:,} rows; per 100k rows {took / rows * 1e5:.2f} s wall, "
                f"{cpu / rows * 1e5:.2f} s CPU (+ PostgreSQL backend {server_cpu / rows * 1e5:.2f} s, "
                f"its {len(parallel)} parallel workers {sum(parallel.values()) / rows * 1e5:.2f} s); "
                f"peak RSS +{_rss_mb() - before:.0f} MB; {sizes}; "
                f"disk reads {disk[1]:,.0f} MB in {disk[0]:,.0f} requests; "
                f"event loop late by p99 {lags[int(len(lags) * 0.99)] * 1000:.0f} ms, "
                f"max {lags[-1] * 1000:.0f} ms")
    finally:
        exported.cleanup()


async def exports_only(url: str, formats: list[ExportFormat] | None = None, cold: str | None = None,
                       read_mb_s: float | None = None) -> None:
    """``--exports-only``: the export service alone on a kept database (read only: nothing is
    deleted, so it can run on a database another bench keeps). ``formats``: those only (the
    CSV both as the chat and as the command line makes it); every format by default. ``cold``:
    that database's files out of the page cache before each export (``bench/cold_cache.py``)."""
    engine = create_async_engine(url)
    session_factory = async_sessionmaker(engine, expire_on_commit=False)
    calendar, i18n = WorkCalendar(), build_i18n("id")  # the default zone, as scale_data generates
    year = calendar.today().year - 1
    print("| export (service) | wall | note |\n|---|---|---|")
    try:
        runs = [(f, PART_LIMIT) for f in ExportFormat] + [(ExportFormat.CSV, None)]
        for fmt, limit in [(f, limit) for f, limit in runs if formats is None or f in formats]:
            if cold:
                await make_cold(cold)
            t = time.perf_counter()
            note = await export_figures(session_factory, calendar, i18n, year, fmt, limit, read_mb_s)
            where = ("chat" if limit else "command line") + (", cold" if cold else "") + (
                f", read at ≤ {read_mb_s:g} MB/s" if read_mb_s else "")
            print(f"| {year} {fmt.value} ({where}) | {time.perf_counter() - t:.2f} s | {note} |", flush=True)
    finally:
        await engine.dispose()


async def _time_jobs(h: Harness, timed, stmts: Statements, rounds: int, verbose: int = 0,
                     day_apart: bool = False) -> None:
    """Every job once per round, today's runs and effects forgotten before each (the jobs'
    own statements only: they are called directly, not through the dispatcher). With
    ``day_apart`` each round runs a day after the last: after a first round that works off a
    backlog, what one day brings (the steady state)."""
    now = datetime.now(h.app.calendar.tz).replace(hour=23, minute=30)
    for n in range(rounds):
        ctx = JobContext(h.app.session_factory, h.app.settings, h.app.calendar, h.app.notifier,
                         now + timedelta(days=n if day_apart else 0))
        async with h.app.engine.begin() as conn:  # a --reuse run: today's runs again
            await conn.execute(text("DELETE FROM job_effect"))
            await conn.execute(text("DELETE FROM job_run"))
        for job in ALL_JOBS:
            await timed(f"job {job.__name__}", lambda job=job, ctx=ctx: job(ctx),
                        note=lambda n: f"{n} effects, {len(stmts.log)} statements, "
                                       f"{sum(d for d, _s, _p in stmts.log):.2f} s in them")
            for duration, statement, _params in sorted(stmts.log, key=lambda r: -r[0])[:verbose]:
                print(f"      {duration:6.3f} s  {' '.join(statement.split())[:160]}")


async def main(args: argparse.Namespace) -> None:
    name = args.db_name
    url = _url(name)
    if args.exports_only:
        await exports_only(url, [ExportFormat(f) for f in args.formats.split(",")] if args.formats else None,
                           cold=name if args.cold else None, read_mb_s=args.read_mb_s)
        return
    if not args.reuse:
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await _admin(f'CREATE DATABASE "{name}"')
        engine = create_async_engine(url)
        t = time.perf_counter()
        await generate(engine, args.reports)
        await engine.dispose()
        print(f"generated {args.reports:,} reports in {time.perf_counter() - t:.0f} s")
    results: list[tuple[str, float, str]] = []
    slowest: tuple[float, str, list] = (0.0, "", [])
    if args.reuse:
        # The harness numbers its updates from 1 again: the received-update journal of the last
        # run would take them for duplicates and skip them.
        engine = create_async_engine(url)
        async with engine.begin() as conn:
            await conn.execute(text("DELETE FROM received_update"))
        await engine.dispose()
    try:
        async with Harness.create(Path(tempfile.mkdtemp()), database={"url": url}) as h:
            stmts = Statements(h.app.engine)
            async with h.app.engine.connect() as conn:
                counts = dict((await conn.execute(text(
                    "SELECT status, count(*) FROM report GROUP BY status ORDER BY 2 DESC"))).all())
                size = (await conn.execute(text(
                    "SELECT pg_size_pretty(pg_database_size(current_database()))"))).scalar()
            print(f"reports by status: {counts}; database {size}")
            admin = h.user(ADMIN_TID, "Admin")
            officer = h.user(OFFICER_TID + 1, "Petugas 1")  # the busiest agency
            year = h.app.calendar.today().year

            async def timed(label: str, op: Callable[[], Awaitable[object]], note: str = "") -> object:
                nonlocal slowest
                stmts.log.clear()
                t = time.perf_counter()
                out = await op()
                took = time.perf_counter() - t
                results.append((label, took, note if not callable(note) else note(out)))
                print(f"  {label:44s} {took:7.2f} s  {results[-1][2]}", flush=True)
                if took > slowest[0]:
                    slowest = (took, label, list(stmts.log))
                return out

            if args.jobs_only:
                await _time_jobs(h, timed, stmts, args.jobs_only, verbose=3, day_apart=args.day_apart)
            else:
                await timed(f"/statistik (running year {year})", lambda: h.send(admin, "/statistik"))
                # The first chart starts the chart worker process (spawn + matplotlib): once per process.
                await timed("  … again (chart worker running)", lambda: h.send(admin, "/statistik"))
                for y in (year, year - 1):
                    async def figures(y=y):
                        async with h.app.session_factory() as s:
                            return await year_statistics(s, y, h.app.calendar)
                    await timed(f"statistics service {y} (no chart)", figures)
                await timed(f"/statistik {year - 1} (past year)", lambda: h.send(admin, f"/statistik {year - 1}"))
                await timed("per-agency button", lambda: h.press(admin, 1, f"stag:{year}"))
                await timed("/kotak (officer of the busiest agency)", lambda: h.send(officer, "/kotak"))
                await timed("/verifikasi", lambda: h.send(admin, "/verifikasi"))
                await timed("/instansi (directory with load)", lambda: h.send(admin, "/instansi"))
                await timed("escalation's overdue list, page 1", lambda: h.press(admin, 1, "ovd:0:1"))
                await timed("  … page 100", lambda: h.press(admin, h.last(admin), "ovd:99:0"))

                await _time_jobs(h, timed, stmts, 1)

                exports = [] if args.skip_export else [(year - 1, fmt) for fmt in ExportFormat]
                for past, fmt in exports:
                    label = f"export {past} {fmt.value} (service)"
                    t = time.perf_counter()
                    note = await export_figures(h.app.session_factory, h.app.calendar, h.app.i18n, past, fmt)
                    results.append((label, time.perf_counter() - t, note))
                    print(f"  {label:44s} {results[-1][1]:7.2f} s  {note}", flush=True)
                if not args.skip_export:
                    await timed(f"/ekspor {year - 1} csv (chat, sent)",
                                lambda: h.send(admin, f"/ekspor {year - 1} csv"))

            took, label, log = slowest
            print(f"\nslowest: {label} ({took:.2f} s); its slowest statement:")
            if log:
                duration, statement, params = max(log, key=lambda r: r[0])
                print(f"  ({duration:.3f} s) {statement[:2000]}")
            # EXPLAIN ANALYZE carries the statement out: a job's UPDATE would run again.
            if log and statement.lstrip().upper().startswith(("SELECT", "WITH")):
                async with h.app.engine.connect() as conn:
                    plan = await conn.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) {statement}", params)
                    print("\n".join("  " + row[0] for row in plan.all()))
    finally:
        if not args.keep:
            await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print("\n| operation | time | note |\n|---|---|---|")
    for label, took, note in results:
        print(f"| {label.strip()} | {took:.2f} s | {note} |")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--reports", type=int, default=1_000_000)
    ap.add_argument("--db-name", default="lapor_bench_scale")
    ap.add_argument("--keep", action="store_true", help="keep the database for another run")
    ap.add_argument("--reuse", action="store_true", help="use the kept database as it is")
    ap.add_argument("--exports-only", action="store_true",
                    help="only the export service, on a kept database (--db-name), deleting nothing")
    ap.add_argument("--cold", action="store_true", help="with --exports-only: the database's files out of the "
                    "page cache before each export (bench/cold_cache.py; as root, on a copy of your own)")
    ap.add_argument("--read-mb-s", type=float, help="with --exports-only: the export's cap on reading the disk "
                    "(read_mb_s of export_year; default: none)")
    ap.add_argument("--formats", metavar="csv,xlsx,lapor", help="with --exports-only: these formats only")
    ap.add_argument("--jobs-only", type=int, metavar="ROUNDS", default=0,
                    help="only the scheduled jobs, ROUNDS times each (mutates: a copy of your own)")
    ap.add_argument("--day-apart", action="store_true", help="with --jobs-only: each round a day after the last")
    ap.add_argument("--skip-export", action="store_true", help="leave the exports out (minutes at 1M reports)")
    asyncio.run(main(ap.parse_args()))
