"""What every scheduled job shares: the once-per-run lease, the local clock, the locale.

A job is a plain ``async def job(session_factory, settings, calendar, i18n, now)``; it may be
called at any time (by its cron trigger, by the catch-up sweep, by a test with a frozen
``now``) and does its work only when its slot has come and no process has done that slot yet.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, time, timedelta
from typing import Protocol

from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.domain.workdays import WorkCalendar
from bot.i18n import pick_language
from bot.ui.render import esc, esc_truncate
from storage.repositories.jobs import JobRepo

log = logging.getLogger(__name__)

SessionFactory = async_sessionmaker[AsyncSession]


class Job(Protocol):
    __name__: str

    async def __call__(
        self,
        session_factory: SessionFactory,
        settings: Settings,
        calendar: WorkCalendar,
        i18n: I18n,
        now: datetime,
    ) -> int | None: ...


def new_owner() -> str:
    """Who holds a lease: host and pid for the operator reading the table, plus a random part
    so two schedulers in one process (tests) are told apart too."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def slot_passed(now: datetime, calendar: WorkCalendar, at: time) -> bool:
    """Whether today's local ``at`` has come."""
    return now.astimezone(calendar.tz).time() >= at


def lease_of(settings: Settings) -> timedelta:
    return timedelta(minutes=settings.notifications.job_lease_minutes)


async def run_leased(
    session_factory: SessionFactory,
    job_name: str,
    run_key: str,
    now: datetime,
    lease: timedelta,
    body: Callable[[], Awaitable[int]],
) -> int | None:
    """Run ``body`` if this process wins the run ``(job_name, run_key)``; None when another
    process has it (or finished it). The lease row is committed before the work starts, and
    is marked finished only after it, so a crash in between leaves the run to be taken over
    once the lease runs out."""
    owner = new_owner()
    async with session_factory() as session:
        repo = JobRepo(session)
        won = await repo.try_insert_run(job_name, run_key, owner, now)
        if not won:
            won = await repo.take_over_stale_run(job_name, run_key, owner, now, lease)
        await session.commit()
    if not won:
        return None
    done = await body()
    async with session_factory() as session:
        await JobRepo(session).finish_run(job_name, run_key, owner, now, f"{done} effects")
        await session.commit()
    log.info("job %s %s: %s effects", job_name, run_key, done)
    return done


@contextmanager
def rendering(i18n: I18n, locale: str) -> Iterator[None]:
    """Let aiogram's ``gettext`` (and the ``bot.ui`` helpers built on it) work outside a
    handler, in ``locale``."""
    with i18n.context(), i18n.use_locale(
        locale if locale in i18n.available_locales else i18n.default_locale
    ):
        yield


def language_of(stored: str | None, settings: Settings) -> str:
    return pick_language(stored, settings.app.default_language)


def report_line(tracking_id: str, title: str, due_text: str | None = None) -> str:
    """One report in a list: tracking id, title (user text, escaped), optional deadline."""
    line = f"• <code>{esc(tracking_id)}</code> {esc_truncate(title, 80)}"
    return f"{line} ({due_text})" if due_text else line
