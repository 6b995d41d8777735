"""Charts drawn in a worker process of their own.

matplotlib (with numpy and Pillow, ~100 MB) is imported only there, never in the bot's
process, whose idle memory stays small; and drawing, mostly Python code that would hold the
GIL in a thread, runs on another core while the bot keeps answering citizens (issue 15). The
worker starts on the first chart and is reused; it exits with the bot (the executor's
exit handler). /statistik starts it (``prewarm``) before computing its figures, so spawning it
and importing matplotlib overlap the queries instead of delaying the first chart further.
"""

from __future__ import annotations

from bot.services.statistics import YearStats
from bot.services.worker_process import WorkerProcess, worker_locale
from bot.ui.formatting import current_locale

_worker = WorkerProcess()


def _draw(stats: YearStats, locale: str) -> bytes:
    """In the worker: the chart with its labels in ``locale``."""
    from bot.ui.charts import statistics_chart

    with worker_locale(locale):
        return statistics_chart(stats)


def _warm() -> None:
    """In the worker: the imports that make its first chart slow (matplotlib, numpy, Pillow)."""
    import bot.ui.charts  # noqa: F401


async def statistics_png(stats: YearStats) -> bytes:
    """The chart of ``stats`` in the current gettext locale, drawn in the worker."""
    return await _worker.run(_draw, stats, current_locale())


def prewarm() -> None:
    """Start the worker and its imports now without waiting for them (a no-op once running)."""
    _worker.start(_warm)
