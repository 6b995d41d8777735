"""/statistik at a million reports: before and after the month cache, in one run on one database.

    python bench/stats_speed.py --db-name lapor_1m_mine [--rounds 3] [--before 4be7aed] [--changes 500]

On a copy of the 1M-report database (bench/data_scale.py --keep; it WRITES: a day's changes to
recent reports, and the reports the generator stamped as just written are stamped as written
when they last changed, at the latest a day ago). Times, alternating within each round:

- the statistics service as it was at commit ``--before``, loaded from git into a module of its
  own, and the service now: without a cache, and each with its process cache: empty (what the
  first /statistik after a start costs), nothing changed since the last count, after
  ``--changes`` reports of the last two months were written (a busy day's casework), and again
  with nothing changed since those;
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

# The generator writes three years of reports in minutes, so every row carries a stamp of the
# last half hour (``report.changed_at``): as if all had just been written, which no live system
# sees. Stamped as written when they last changed (at the latest a day ago), as they would be.
RESTAMP = ("UPDATE report SET changed_at = least(updated_at, now() - interval '1 day') "
           "WHERE changed_at > now() - interval '1 day'")


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
    return importlib.import_module("_before_statistics")


async def main(args: argparse.Namespace) -> None:
    url = PG.rsplit("/", 1)[0] + "/" + args.db_name
    before = load_before(args.before)
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
            restamped = (await conn.execute(text(RESTAMP))).rowcount
            await conn.execute(text("DELETE FROM received_update"))  # the harness counts from 1 again
        if restamped:  # and the visibility map, so that the counts read the indexes alone
            async with h.app.engine.connect() as conn:
                conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.execute(text("VACUUM ANALYZE report"))
            print(f"{restamped:,} reports stamped as written a day ago or earlier", flush=True)
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
                await timed(f"before ({args.before}): service {y}, no cache",
                            lambda y=y: service(before.year_statistics, y))
                await timed(f"now: service {y}, no cache", lambda y=y: service(year_statistics, y))
                caches = {"before": (before.year_statistics, before.StatsCache()),
                          "now": (year_statistics, StatsCache())}

                async def both(what: str, y: int = y, caches: dict = caches) -> None:
                    for name, (fn, cache) in caches.items():
                        label = f"before ({args.before})" if name == "before" else name
                        await timed(f"{label}: service {y}, {what}", lambda fn=fn, c=cache: service(fn, y, cache=c))

                await both("cache empty")
                await both("cached, nothing changed")
                await a_busy_day()
                await both(f"cached, after {args.changes} changes")
                await both(f"cached, nothing changed since those {args.changes}")
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
    ap.add_argument("--before", default="4be7aed", help="the commit whose statistics service to compare with")
    ap.add_argument("--changes", type=int, default=500)
    asyncio.run(main(ap.parse_args()))
