"""What PostgreSQL's backends wait on while a bench phase runs (issue 15): sampled from
``pg_stat_activity`` every 20 ms, the citizens' backends apart from the admin's bulk reads (told
apart by their text, ``_SAMPLE``). A citizen's statement waiting on ``IO:DataFileRead`` missed
the cache; on ``IO:WALSync`` / ``IO:WALWrite`` / ``LWLock:WALWrite`` its commit waited for the
WAL to reach the disk. With ``/proc/pressure/io``: the share of the phase in which some / all
tasks of the machine stalled on I/O.
"""

from __future__ import annotations

import asyncio
import collections
import time
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

EVERY = 0.02
# The admin's bulk statements: the export's COPY, its read ahead (a cursor) and its month counts.
_SAMPLE = text(
    "SELECT query ILIKE ANY(ARRAY['COPY%%', 'MOVE%%', 'DECLARE%%', 'SELECT 0 AS period%%']) AS bulk, "
    "coalesce(wait_event_type || ':' || wait_event, 'CPU') "
    "FROM pg_stat_activity WHERE datname = current_database() AND state = 'active' "
    "AND pid <> pg_backend_pid() AND backend_type = 'client backend'")


def io_pressure() -> tuple[float, float]:
    """``/proc/pressure/io``'s "some" and "full" totals, in seconds (0, 0 without PSI)."""
    try:
        lines = Path("/proc/pressure/io").read_text().split("\n")
    except OSError:
        return 0.0, 0.0
    totals = [float(line.rsplit("total=", 1)[1]) / 1e6 for line in lines if "total=" in line]
    return (totals + [0.0, 0.0])[0], (totals + [0.0, 0.0])[1]


class Waits:
    """Samples while running (``start``/``stop``); ``report()`` the counts."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.citizens: collections.Counter[str] = collections.Counter()
        self.bulk: collections.Counter[str] = collections.Counter()
        self.samples = 0
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._t, self._psi = time.monotonic(), io_pressure()
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        async with self.engine.connect() as conn:
            while True:
                for bulk, wait in (await conn.execute(_SAMPLE)).all():
                    (self.bulk if bulk else self.citizens)[wait] += 1
                await conn.commit()
                self.samples += 1
                await asyncio.sleep(EVERY)

    async def stop(self) -> None:
        self._took = time.monotonic() - self._t
        some, full = io_pressure()
        self._pressure = (some - self._psi[0]) / self._took, (full - self._psi[1]) / self._took
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def report(self) -> str:
        def top(c: collections.Counter[str]) -> str:
            n = sum(c.values()) or 1
            return ", ".join(f"{w} {k / n:.0%}" for w, k in c.most_common(6)) or "-"
        some, full = self._pressure
        return (f"I/O pressure some {some:.0%}, full {full:.0%}; {self.samples} samples; citizens' active "
                f"backends ({sum(self.citizens.values())} seen): {top(self.citizens)}; "
                f"the admin's bulk reads ({sum(self.bulk.values())}): {top(self.bulk)}")
