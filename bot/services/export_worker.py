"""The exports Python writes (the workbook, the LAPOR! form) in a worker process of its own.

Making 20 cells a row and the sheet's XML costs about a second of CPU per 100k rows; in a
thread of the bot's process it held the GIL batch by batch and every citizen's reply waited
50–100 ms longer at p99 while an export ran (issue 15, bench/admin_load.py). The worker opens
its own connection to the same database (PostgreSQL only: the caller decides), writes the files
into a temporary directory and hands back their paths; the bot only records and sends them.
The worker starts on the first export and is reused; it exits with the bot (the executor's exit
handler). The CSV needs none of this: PostgreSQL writes it (``ExportRepo.copy_csv``).
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.workdays import WorkCalendar
from bot.services.worker_process import WorkerProcess, worker_locale

if TYPE_CHECKING:
    from bot.services.export import ExportFormat
    from bot.services.export_files import ExportPart

_worker = WorkerProcess()


@dataclass(frozen=True)
class _Job:
    url: str  # with its password: it goes to our own child process only
    year: int
    fmt: str
    tz: str
    extra_holidays: tuple[date, ...]
    today: date
    limit: int | None
    locale: str
    directory: str  # made by the bot: it removes it if it stops waiting (cancelled)


# Put in the export's directory by a caller that stopped waiting: the worker stops at its next
# batch (``_stopped``).
_STOP = ".stop"


def _run(job: _Job) -> tuple[list[ExportPart], Path]:
    """In the worker: ``export.write_year`` on a connection of its own."""
    return asyncio.run(_write(job))


def _stopped(directory: Path) -> Callable[[], bool]:
    return lambda: (directory / _STOP).exists()


async def _write(job: _Job) -> tuple[list[ExportPart], Path]:
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlalchemy.pool import NullPool

    from bot.services.export import ExportFormat, write_year

    engine = create_async_engine(job.url, poolclass=NullPool)
    try:
        with worker_locale(job.locale):
            async with AsyncSession(engine) as session:
                cal = WorkCalendar(job.tz, job.extra_holidays)
                directory = Path(job.directory)
                return await write_year(session, job.year, ExportFormat(job.fmt), cal, job.today, job.limit,
                                        directory=directory, stopped=_stopped(directory))
    finally:
        await engine.dispose()


def worker_pids() -> list[int]:
    """The worker's process ids (for the benchmark's CPU accounting); none before the first export."""
    return _worker.pids()


async def write_year(session: AsyncSession, year: int, fmt: ExportFormat, cal: WorkCalendar, today: date,
                     limit: int | None) -> tuple[list[ExportPart], Path]:
    """``export.write_year`` in the worker, on the database ``session`` is bound to (what is
    committed there: the worker has its own connection)."""
    i18n = I18n.get_current(no_error=True)
    directory = Path(tempfile.mkdtemp(prefix="lapor-export-"))
    job = _Job(session.get_bind().engine.url.render_as_string(hide_password=False), year, fmt.value, cal.tz.key,
               tuple(sorted(cal.extra_holidays)), today, limit, i18n.current_locale if i18n else "id",
               str(directory))
    try:
        return await _worker.run(_run, job, on_cancel=_abandon(directory))
    except asyncio.CancelledError:
        raise  # the directory goes once the job has ended (``_abandon``)
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)  # the worker failed or died
        raise


def _abandon(directory: Path) -> Callable[[Future], None]:
    """What a cancelled export does (the admin's update cancelled, the bot stopping): the worker
    is asked to stop at its next batch, and the directory is removed once its job has ended,
    however it ended (it used to finish the whole year and leave the files behind)."""
    def on_cancel(job: Future) -> None:
        with contextlib.suppress(OSError):  # gone already: the job failed and cleaned up
            (directory / _STOP).touch()
        job.add_done_callback(lambda _job: shutil.rmtree(directory, ignore_errors=True))
    return on_cancel
