"""Charts drawn in a worker process of their own.

matplotlib (with numpy and Pillow, ~100 MB) is imported only there, never in the bot's
process, whose idle memory stays small; and drawing, mostly Python code that would hold the
GIL in a thread, runs on another core while the bot keeps answering citizens (issue 15). The
worker starts on the first chart and is reused; it exits with the bot (the executor's
exit handler). /statistik starts it (``prewarm``) before computing its figures, so spawning it
and importing matplotlib overlap the queries instead of delaying the first chart further.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from aiogram.utils.i18n import I18n

from bot.services.statistics import YearStats
from bot.ui.formatting import current_locale

_pool: ProcessPoolExecutor | None = None
_i18n: I18n | None = None  # in the worker: the catalogs, loaded once


def _draw(stats: YearStats, locale: str) -> bytes:
    """In the worker: the chart with its labels in ``locale``."""
    global _i18n
    from bot.i18n import build_i18n
    from bot.ui.charts import statistics_chart

    if _i18n is None:
        _i18n = build_i18n(locale)
    with _i18n.context(), _i18n.use_locale(locale):
        return statistics_chart(stats)


def _warm() -> None:
    """In the worker: the imports that make its first chart slow (matplotlib, numpy, Pillow)."""
    import bot.ui.charts  # noqa: F401


def _executor() -> ProcessPoolExecutor:
    global _pool
    if _pool is None:
        # spawn, not fork: the bot's process has threads (aiosqlite, to_thread) and a loop.
        _pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
    return _pool


async def statistics_png(stats: YearStats) -> bytes:
    """The chart of ``stats`` in the current gettext locale, drawn in the worker."""
    global _pool
    loop = asyncio.get_running_loop()
    try:
        return await loop.run_in_executor(_executor(), _draw, stats, current_locale())
    except BrokenProcessPool:  # the worker died (killed, out of memory): start a new one once
        _pool = None
        return await loop.run_in_executor(_executor(), _draw, stats, current_locale())



def prewarm() -> None:
    """Start the worker and its imports now without waiting for them (a no-op once running).
    A broken worker is dropped here; ``statistics_png`` starts a new one."""
    global _pool
    try:
        _executor().submit(_warm)
    except BrokenProcessPool:
        _pool = None
