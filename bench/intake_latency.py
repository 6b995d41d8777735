"""Time per form step of /lapor through the real dispatcher, on SQLite or PostgreSQL.

Drives the production wiring (``build_app``) with a Bot whose HTTP session is the test
harness's recording session, so the figure is our own work per update: middlewares, FSM storage
reads and writes, validation, rendering and (at the end) the submission transaction.

    python bench/intake_latency.py --forms 30
    python bench/intake_latency.py --forms 30 --db postgresql+asyncpg://postgres@127.0.0.1/lapor_bench

Target: a form step well under 100 ms at the median on one core, so a citizen on a slow phone
never waits on us, and one process keeps up with a district's traffic (thousands of citizens,
a few steps a second at peak).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.handlers.harness import Harness  # noqa: E402
from tests.handlers.intake_helpers import consenting_citizen, seed_agencies, tap  # noqa: E402


async def one_form(h: Harness, user, timings: dict[str, list[float]]) -> None:
    async def step(name: str, coro) -> None:
        t = time.perf_counter()
        await coro
        timings.setdefault(name, []).append((time.perf_counter() - t) * 1000)

    await step("/lapor", h.send(user, "/lapor"))
    await step("kind", tap(h, user, "Pengaduan"))
    await step("agency search", h.send(user, "PDAM"))
    await step("agency pick", tap(h, user, "Danum Taka"))
    await step("title", h.send(user, "Air mati di RT 05"))
    await step("body", h.send(user, "Sudah tiga hari air mati di RT 05, mohon segera ditangani. " * 5))
    await step("date", h.send(user, "kemarin"))
    await step("privacy", tap(h, user, "Biasa"))
    await step("location", h.send_location(user))
    await step("photo", h.send_photo(user))
    await step("files done", tap(h, user, "Selesai"))
    await step("submit", tap(h, user, "Kirim"))


async def main(forms: int, db: str | None) -> None:
    tmp = Path(tempfile.mkdtemp())
    overrides = {"database": {"url": db}} if db else {}
    async with Harness.create(tmp, **overrides) as h:
        await seed_agencies(h)
        timings: dict[str, list[float]] = {}
        for i in range(forms):
            user = h.user(50_000 + i, f"Warga {i}")
            await consenting_citizen(h, user)
            await one_form(h, user, timings)
    everything = [t for ts in timings.values() for t in ts]
    print(f"db={(db or 'sqlite').split(':')[0]} forms={forms} steps={len(everything)}")
    print(f"all steps: median {statistics.median(everything):.1f} ms, p95 "
          f"{statistics.quantiles(everything, n=20)[-1]:.1f} ms")
    for name, ts in timings.items():
        print(f"  {name:14s} median {statistics.median(ts):6.1f} ms  max {max(ts):6.1f} ms")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--forms", type=int, default=30)
    ap.add_argument("--db", default=None, help="database URL (default: a temporary SQLite file)")
    a = ap.parse_args()
    asyncio.run(main(a.forms, a.db))
