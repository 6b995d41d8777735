"""A worker process of the bot's own for CPU-heavy work (a chart, a workbook), off the event
loop and the GIL (issue 15). It is spawned on first use and reused; if it died (killed, out of
memory), the next call starts a new one once. It exits with the bot (the executor's exit
handler). Used by bot/ui/chart_worker.py and bot/services/export_worker.py.

The worker runs at a lower CPU priority (``WORKER_NICENESS``): on a small host the bot's own
process answering citizens shares the cores with it, and a chart or a workbook can wait a few
milliseconds where a citizen's reply should not (issue 15's admin_load bench).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from typing import Any, TypeVar

from aiogram.utils.i18n import I18n

T = TypeVar("T")

_i18n: I18n | None = None  # in a worker: the catalogs, loaded once

# Added to the worker's nice value when it starts (0..19 on Linux; higher yields more).
WORKER_NICENESS = 10


def _lower_priority(increment: int) -> None:
    """In a worker, once at its start: yield the CPU to the bot's process."""
    os.nice(increment)


@contextmanager
def worker_locale(locale: str) -> Iterator[None]:
    """In a worker: gettext in ``locale``, the catalogs loaded on the worker's first job."""
    global _i18n
    from bot.i18n import build_i18n

    if _i18n is None:
        _i18n = build_i18n(locale)
    with _i18n.context(), _i18n.use_locale(locale):
        yield


class WorkerProcess:
    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # spawn, not fork: the bot's process has threads (aiosqlite, to_thread) and a loop.
            self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=_lower_priority, initargs=(WORKER_NICENESS,))
        return self._pool

    async def run(self, fn: Callable[..., T], *args: Any,
                  on_cancel: Callable[[Future[T]], None] | None = None) -> T:
        """``fn(*args)`` in the worker (both picklable). A job the caller stops waiting for
        (cancelled) is dropped if it has not started; one that has runs on in the worker (a
        process is not interrupted mid-write): ``on_cancel`` gets its future, to ask it to stop
        and to clean up after it once it is done."""
        try:
            return await self._run(fn, args, on_cancel)
        except BrokenProcessPool:  # the worker died: start a new one once
            self._pool = None
            return await self._run(fn, args, on_cancel)

    async def _run(self, fn: Callable[..., T], args: tuple, on_cancel: Callable[[Future[T]], None] | None) -> T:
        job = self._executor().submit(fn, *args)
        try:
            return await asyncio.wrap_future(job)
        except asyncio.CancelledError:
            if on_cancel is not None:
                on_cancel(job)
            raise

    def start(self, fn: Callable[[], object]) -> None:
        """Start the worker (a no-op once running) with ``fn`` to run there, without waiting for
        it. A broken worker is dropped here; the next ``run`` starts a new one."""
        try:
            self._executor().submit(fn)
        except BrokenProcessPool:
            self._pool = None

    def pids(self) -> list[int]:
        """The worker's process ids (for the benchmarks' CPU accounting); none before first use."""
        return list(self._pool._processes) if self._pool is not None else []
