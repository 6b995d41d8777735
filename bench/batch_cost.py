"""CPU of what the bot pays per getUpdates batch and per wake-up of its delivery loop, in process
(issue 15): at a steady rate each getUpdates answer carries one update, so these are paid per
update; bench/steady.py measures the whole process, where a shared machine's load blurs them.

- ``record``: ``UpdateJournal.record_claimed_batch`` of one update (the journal's record of a
  polled batch, before any of it is handled), inside ``UpdateJournal.polling`` where the tree has it;
- ``claim``: ``OutboxRepo.claim_due`` on an empty outbox, in its own session (what the delivery
  loop does after a wake-up and every idle second).

Each is run ``--n`` times per round, rounds alternating between the trees, and timed in the
process's CPU time (``time.process_time``), which a busy machine moves less than the wall time.

    python bench/batch_cost.py --db postgresql+asyncpg://postgres@127.0.0.1/lapor_bench_batch
    python bench/batch_cost.py --db … --tree before=/tmp/lapor-before   # also another checkout

The database is emptied of received updates and outbox rows; use one of its own (migrated here).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

UPDATE = {"update_id": 0, "message": {"message_id": 1, "date": 1764640000, "text": "Jalan rusak di depan pasar",
                                      "chat": {"id": 5, "type": "private", "first_name": "Sari"},
                                      "from": {"id": 5, "is_bot": False, "first_name": "Sari", "language_code": "id"}}}


async def measure(db: str, n: int) -> dict[str, float]:
    """Milliseconds of CPU per call, in this interpreter (the tree on its path)."""
    from sqlalchemy import text

    from bot.services.update_journal import UpdateJournal
    from storage.base import utcnow
    from storage.db import create_engine, create_session_factory
    from storage.repositories.outbox import OutboxRepo

    engine = create_engine(db, pool_size=5)
    factory = create_session_factory(engine)
    async with engine.begin() as connection:
        await connection.execute(text("DELETE FROM received_update"))
        await connection.execute(text("DELETE FROM outbox"))
    journal = UpdateJournal(factory)
    next_id = 1

    async def record() -> None:
        nonlocal next_id
        won = await journal.record_claimed_batch([(next_id, {**UPDATE, "update_id": next_id})])
        assert won == {next_id}
        next_id += 1

    async def claim() -> None:
        async with factory() as session:
            assert await OutboxRepo(session).claim_due(utcnow(), 20, timedelta(seconds=60)) == []
            await session.commit()

    costs = {}
    for name, call in (("record", record), ("claim", claim)):
        # As the bot records while it polls (a tree without ``polling``: as it did then).
        around = journal.polling() if name == "record" and hasattr(journal, "polling") else contextlib.nullcontext()
        async with around:
            for _ in range(50):  # the pool, the compiled cache, the prepared statements
                await call()
            gc.collect()
            started = time.process_time()
            for _ in range(n):
                await call()
            costs[name] = 1000 * (time.process_time() - started) / n
    await engine.dispose()
    return costs


def run_tree(tree: Path, db: str, n: int) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--db", db, "--n", str(n), "--child"],
                         env=env, cwd=tree, check=True, capture_output=True, text=True).stdout
    return json.loads(out.splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", required=True, help="a PostgreSQL (or SQLite) URL, a database of the bench's own")
    parser.add_argument("--n", type=int, default=300, help="calls per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tree", action="append", default=[], help="LABEL=DIR: another checkout, same run")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(asyncio.run(measure(args.db, args.n))))
        return
    trees = {"this": ROOT, **{label: Path(d) for label, d in (t.split("=", 1) for t in args.tree)}}
    for tree in trees.values():
        subprocess.run([sys.executable, "-m", "bot", "migrate"], cwd=tree, check=True, capture_output=True,
                       env={**os.environ, "PYTHONPATH": str(tree), "LAPOR_DATABASE__URL": args.db})
    print(f"load average {os.getloadavg()[0]:.1f}; ms of CPU per call, {args.n} calls x {args.rounds} rounds")
    seen: dict[str, list[dict[str, float]]] = {label: [] for label in trees}
    for _ in range(args.rounds):
        for label, tree in trees.items():
            seen[label].append(run_tree(tree, args.db, args.n))
    for label, rounds in seen.items():
        cells = ", ".join(f"{name} {min(r[name] for r in rounds):.2f}-{max(r[name] for r in rounds):.2f}"
                          for name in rounds[0])
        print(f"{label:>8}: {cells}")
    print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
