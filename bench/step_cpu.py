"""CPU of the bot's own work per form step, in process, on PostgreSQL + Redis or SQLite: steadier than the
real process's figure on a loaded machine (no Bot API server, no start-up, no echo bot).

The handler harness (``tests/handlers/harness.py``: the production wiring, a fake Telegram) walks
``--citizens`` citizens at once through onboarding and a whole complaint (the 13 updates of
``tests/handlers/test_statements_per_step.WALK``, each fed as polling feeds it), after ``--warm``
walks that fill the process caches; it prints the process's CPU per step for each round. The
harness's own work is in the figure, so compare trees in the same run, alternated:

    python bench/step_cpu.py --db postgresql+asyncpg://postgres@127.0.0.1:5432/NEW_NAME --redis redis://127.0.0.1:6379/12
    python bench/step_cpu.py   # SQLite (a fresh file), FSM in the database

The PostgreSQL database is created (it must not exist) and dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402

from tests.handlers.harness import Harness  # noqa: E402
from tests.handlers.test_statements_per_step import WALK, as_polling  # noqa: E402


async def walk(h: Harness, user) -> None:
    for _name, step in WALK:
        await step(h, user)


async def rounds(a: argparse.Namespace) -> list[float]:
    overrides = {"database": {"url": a.db}, "redis": {"url": a.redis}} if a.db else {}
    async with Harness.create(Path(tempfile.mkdtemp()), **overrides) as h:
        as_polling(h)
        for _ in range(a.warm):
            await walk(h, h.user(random.randrange(10**8, 10**9), "Warm"))
        per_step = []
        for r in range(a.rounds):
            # Citizens of this run alone: FSM keys of an earlier run would put them mid-form.
            users = [h.user(random.randrange(10**8, 10**9), f"W{i}") for i in range(a.citizens)]
            gc.collect()
            cpu, wall = time.process_time(), time.perf_counter()
            await asyncio.gather(*(walk(h, u) for u in users))
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            steps = a.citizens * len(WALK)
            per_step.append(cpu / steps * 1000)
            print(f"round {r}: {steps} steps, {per_step[-1]:.2f} ms of CPU per step, {wall:.1f} s", flush=True)
        return per_step


async def main(a: argparse.Namespace) -> None:
    if a.db is None:
        per_step = await rounds(a)
        print(f"median {statistics.median(per_step):.2f} ms of CPU per step ({ROOT}, SQLite)")
        return
    server, name = a.db.replace("postgresql+asyncpg", "postgresql").rsplit("/", 1)
    admin = await asyncpg.connect(f"{server}/postgres")
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')  # fails if it exists: never someone else's
        try:
            per_step = await rounds(a)
            print(f"median {statistics.median(per_step):.2f} ms of CPU per step ({ROOT})")
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--citizens", type=int, default=20)
    ap.add_argument("--warm", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--db", help="a PostgreSQL URL naming a database to create (default: SQLite)")
    ap.add_argument("--redis", default="redis://127.0.0.1:6379/12")
    asyncio.run(main(ap.parse_args()))
