"""What every scheduled job shares: the once-per-run lease, the local clock, the locale, and
sending each recipient its message once.

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
from datetime import date, datetime, time, timedelta
from functools import partial
from typing import Protocol

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.domain.workdays import WorkCalendar
from bot.i18n import pick_language
from bot.services.outbox import enqueue_message
from bot.ui.render import esc, esc_truncate, split_html
from storage.repositories.citizens import CitizenRepo
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


# A job's arguments plus the local day it works for.
DailyWork = Callable[[SessionFactory, Settings, WorkCalendar, I18n, datetime, date], Awaitable[int]]


async def run_daily(
    job_name: str,
    at: time,
    work: DailyWork,
    session_factory: SessionFactory,
    settings: Settings,
    calendar: WorkCalendar,
    i18n: I18n,
    now: datetime,
    *,
    working_days_only: bool = True,
) -> int | None:
    """A once-a-day job: ``work`` for today under today's lease once the local ``at`` has
    come; None before that (and on days off when ``working_days_only``: deadlines count
    working days, so a list sent on a weekend would repeat Friday's)."""
    if not slot_passed(now, calendar, at):
        return None
    today = calendar.local_date(now)
    if working_days_only and not calendar.is_working_day(today):
        return None

    async def body() -> int:
        return await work(session_factory, settings, calendar, i18n, now, today)

    return await run_leased(session_factory, job_name, today.isoformat(), now, lease_of(settings), body)


async def write_once(
    session_factory: SessionFactory,
    job_name: str,
    effect_key: str,
    now: datetime,
    write: Callable[[AsyncSession], Awaitable[None]],
) -> bool:
    """Run ``write`` and commit it with the effect ``(job_name, effect_key)`` in one
    transaction, unless that effect is recorded already (a run taken over after a crash must
    not send again). Whether it wrote."""
    async with session_factory() as session:
        if not await JobRepo(session).record_effect(job_name, effect_key, now):
            return False
        await write(session)
        await session.commit()
    return True


async def enqueue_parts(
    session: AsyncSession,
    chat_id: int,
    parts: list[str],
    markup: InlineKeyboardMarkup | None = None,
    *,
    group_key: str,
) -> None:
    """``parts`` as few messages as fit; the keyboard goes under the last one."""
    messages = split_html(parts)
    for i, text in enumerate(messages):
        await enqueue_message(
            session, chat_id, text, markup if i == len(messages) - 1 else None, group_key=group_key
        )


async def send_to_admins(
    session_factory: SessionFactory,
    settings: Settings,
    i18n: I18n,
    job_name: str,
    run: date,
    now: datetime,
    render: Callable[[str], list[str]],
) -> int:
    """One message (split as needed) to each configured admin, rendered by ``render(locale)``
    in the admin's language, once per admin and ``run`` day. Messages written."""

    async def write(session: AsyncSession, admin_tid: int) -> None:
        admin = await CitizenRepo(session).by_telegram_id(admin_tid)
        locale = language_of(admin.language if admin else None, settings)
        with rendering(i18n, locale):
            parts = render(locale)
        await enqueue_parts(session, admin_tid, parts, group_key=f"{job_name}:{run}")

    written = 0
    for admin_tid in settings.roles.admin_ids:
        if await write_once(session_factory, job_name, f"{run}:{admin_tid}", now,
                            partial(write, admin_tid=admin_tid)):
            written += 1
    return written


def report_line(tracking_id: str, title: str, due_text: str | None = None) -> str:
    """One report in a list: tracking id, title (user text, escaped), optional deadline."""
    line = f"• <code>{esc(tracking_id)}</code> {esc_truncate(title, 80)}"
    return f"{line} ({due_text})" if due_text else line
