"""/statistik at a million reports: before and after the month cache, in one run on one database.

    python bench/stats_speed.py --db-name lapor_1m_mine [--rounds 3] [--before 92e2f64] [--changes 500]

On a copy of the 1M-report database (bench/data_scale.py --keep; it WRITES: a day's changes to
recent reports, and brings an older database to the current schema: ``report.changed_at``,
stamped long ago for the existing rows, and its index). Times, alternating within each round:

- the statistics service as it was at commit ``--before`` (every month counted on every call),
  loaded from git into a module of its own;
- the service now without a cache (what the first /statistik after a start costs), and with the
  process's cache: nothing changed since the last count, and after ``--changes`` reports of the
  last two months were written (a busy day's casework);
- through the real dispatcher: /statistik until its figures are sent and until its chart is,
  the first time in the process (chart worker not started) and again; the per-agency button.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from bench.scale_data import ADMIN_TID  # noqa: E402
from bot.services.statistics import StatsCache, year_statistics  # noqa: E402
from storage.base import utcnow  # noqa: E402
from tests.handlers.harness import Harness  # noqa: E402

PG = os.environ.get("LAPOR_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")

SCHEMA = [
    # Existing rows stamped long ago: as if the column had been there since they were written.
    "ALTER TABLE report ADD COLUMN IF NOT EXISTS changed_at timestamptz NOT NULL DEFAULT '2000-01-01'",
    "ALTER TABLE report ALTER COLUMN changed_at SET DEFAULT now()",
    "CREATE INDEX IF NOT EXISTS ix_report_changed_at ON report (changed_at, submitted_at)",
    "ANALYZE report",
    # Landed after the 1M database was generated (the update journal).
    "ALTER TABLE received_update ADD COLUMN IF NOT EXISTS callback_answered_at timestamptz",
]


def load_before(commit: str):
    """``year_statistics`` as it was at ``commit``: its service and repository from git, as
    modules of their own next to today's."""
    where = Path(tempfile.mkdtemp())

    def show(path: str) -> str:
        return subprocess.run(["git", "show", f"{commit}:{path}"], cwd=ROOT, check=True,
                              capture_output=True, text=True).stdout

    (where / "_before_stats_repo.py").write_text(show("storage/repositories/stats.py"))
    (where / "_before_statistics.py").write_text(show("bot/services/statistics.py").replace(
        "from storage.repositories.stats import", "from _before_stats_repo import"))
    sys.path.insert(0, str(where))
    return importlib.import_module("_before_statistics").year_statistics


async def main(args: argparse.Namespace) -> None:
    url = PG.rsplit("/", 1)[0] + "/" + args.db_name
    before_stats = load_before(args.before)
    times: dict[str, list[float]] = {}

    def note(label: str, took: float) -> None:
        times.setdefault(label, []).append(took)
        print(f"  {label:58s} {took:6.2f} s", flush=True)

    async def timed(label: str, op: Callable[[], Awaitable[object]]) -> object:
        t = time.perf_counter()
        out = await op()
        note(label, time.perf_counter() - t)
        return out

    async with Harness.create(Path(tempfile.mkdtemp()), database={"url": url}) as h:
        async with h.app.engine.begin() as conn:
            for sql in SCHEMA:
                await conn.execute(text(sql))
            await conn.execute(text("DELETE FROM received_update"))  # the harness counts from 1 again
        cal, year = h.app.calendar, h.app.calendar.today().year
        admin = h.user(ADMIN_TID, "Admin")

        async def service(fn, y: int, **kw) -> object:
            async with h.app.session_factory() as s:
                return await fn(s, y, cal, **kw)

        async def statistik(label: str) -> None:
            """Until the figures are sent, and until the chart is."""
            mark = h.mark()
            t = time.perf_counter()
            task = asyncio.create_task(h.send(admin, "/statistik"))
            while not h.since(mark) and not task.done():
                await asyncio.sleep(0.002)
            note(f"{label}: the figures", time.perf_counter() - t)
            await task
            note(f"{label}: the chart", time.perf_counter() - t)

        async def a_busy_day() -> None:
            # Casework on reports of the last two months, through UPDATEs stamped now.
            async with h.app.engine.begin() as conn:
                await conn.execute(text(
                    "UPDATE report SET rating = coalesce(rating, 3), changed_at = now() WHERE id IN "
                    "(SELECT id FROM report WHERE submitted_at > now() - interval '60 days' "
                    " ORDER BY random() LIMIT :n)"), {"n": args.changes})

        await statistik("/statistik, first in the process (worker not started, cache empty)")
        for r in range(args.rounds):
            print(f"round {r + 1} (load {os.getloadavg()[0]:.1f})", flush=True)
            for y in (year, year - 1):
                await timed(f"before ({args.before}): service {y}", lambda y=y: service(before_stats, y))
                await timed(f"now, no cache: service {y}", lambda y=y: service(year_statistics, y))
                cache = StatsCache()
                await timed(f"now, cache empty: service {y}", lambda y=y, c=cache: service(year_statistics, y, cache=c))
                await timed(f"now, cache, nothing changed: service {y}",
                            lambda y=y, c=cache: service(year_statistics, y, cache=c))
                await a_busy_day()
                await timed(f"now, cache, after {args.changes} changes: service {y}",
                            lambda y=y, c=cache: service(year_statistics, y, cache=c))
            await statistik("/statistik again (worker running, cache kept)")
            await timed("per-agency button", lambda: h.press(admin, 1, f"stag:{year}"))
    print(f"\nload average at the end: {os.getloadavg()}; changes stamped {utcnow():%H:%M} UTC, "
          f"margin {timedelta(minutes=30)}")
    print("\n| operation (1M reports) | median | runs |\n|---|---|---|")
    for label, values in times.items():
        runs = ", ".join(f"{v:.2f}" for v in values)
        print(f"| {label} | {statistics.median(values):.2f} s | {runs} |")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--db-name", required=True, help="a copy of the 1M database; this bench writes to it")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--before", default="92e2f64", help="the commit whose statistics service to compare with")
    ap.add_argument("--changes", type=int, default=500)
    asyncio.run(main(ap.parse_args()))
