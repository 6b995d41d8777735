"""The chart/XLSX worker process yields the CPU to the bot's process (issue 15)."""

from __future__ import annotations

import os

from bot.services.worker_process import WORKER_NICENESS, WorkerProcess


async def test_the_worker_runs_at_a_lower_priority_than_the_bot():
    worker = WorkerProcess()
    try:
        # os.nice(0) reads the nice value; a real spawned worker, as the bot starts it.
        assert await worker.run(os.nice, 0) == min(19, os.nice(0) + WORKER_NICENESS)
    finally:
        worker._pool.shutdown()
