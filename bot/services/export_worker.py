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
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.workdays import WorkCalendar

if TYPE_CHECKING:
    from bot.services.export import ExportFormat
    from bot.services.export_files import ExportPart

_pool: ProcessPoolExecutor | None = None
_i18n: I18n | None = None  # in the worker: the catalogs, loaded once


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


def _run(job: _Job) -> tuple[list[ExportPart], Path]:
    """In the worker: ``export.write_year`` on a connection of its own."""
    return asyncio.run(_write(job))


async def _write(job: _Job) -> tuple[list[ExportPart], Path]:
    global _i18n
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlalchemy.pool import NullPool

    from bot.i18n import build_i18n
    from bot.services.export import ExportFormat, write_year

    if _i18n is None:
        _i18n = build_i18n(job.locale)
    engine = create_async_engine(job.url, poolclass=NullPool)
    try:
        with _i18n.context(), _i18n.use_locale(job.locale):
            async with AsyncSession(engine) as session:
                cal = WorkCalendar(job.tz, job.extra_holidays)
                return await write_year(session, job.year, ExportFormat(job.fmt), cal, job.today, job.limit)
    finally:
        await engine.dispose()


def _executor() -> ProcessPoolExecutor:
    global _pool
    if _pool is None:
        # spawn, not fork: the bot's process has threads (aiosqlite, to_thread) and a loop.
        _pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
    return _pool


def worker_pids() -> list[int]:
    """The worker's process ids (for the benchmark's CPU accounting); none before the first export."""
    return list(_pool._processes) if _pool is not None else []


async def write_year(session: AsyncSession, year: int, fmt: ExportFormat, cal: WorkCalendar, today: date,
                     limit: int | None) -> tuple[list[ExportPart], Path]:
    """``export.write_year`` in the worker, on the database ``session`` is bound to (what is
    committed there: the worker has its own connection)."""
    global _pool
    i18n = I18n.get_current(no_error=True)
    job = _Job(session.get_bind().url.render_as_string(hide_password=False), year, fmt.value, cal.tz.key,
               tuple(sorted(cal.extra_holidays)), today, limit, i18n.current_locale if i18n else "id")
    loop = asyncio.get_running_loop()
    try:
        return await loop.run_in_executor(_executor(), _run, job)
    except BrokenProcessPool:  # the worker died (killed, out of memory): start a new one once
        _pool = None
        return await loop.run_in_executor(_executor(), _run, job)
