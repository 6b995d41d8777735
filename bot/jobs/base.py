"""What every scheduled job shares: its context, the once-per-run lease, the local clock, and
writing each recipient's message once.

A job is a plain ``async def job(ctx: JobContext) -> int | None``; it may be called at any time
(by its cron trigger, by the catch-up sweep, by a test with a frozen ``ctx.now``) and does its
work only when its slot has come and no process has done that slot yet. Queries live in the
repositories, words in ``bot/ui/notices.py``: a job decides what is due and who hears of it.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from functools import partial
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.domain.workdays import WorkCalendar
from bot.services import recipients
from bot.services.casework.core import Casework
from bot.services.notices import Notice
from bot.services.ports import Notifier
from storage.repositories.jobs import JobRepo
from storage.repositories.outbox import defer_outbox_flush

log = logging.getLogger(__name__)

SessionFactory = async_sessionmaker[AsyncSession]


@dataclass(frozen=True)
class JobContext:
    """Everything a job needs, built once by the scheduler; each run gets its own ``now``."""

    session_factory: SessionFactory
    settings: Settings
    calendar: WorkCalendar
    notifier: Notifier
    now: datetime
    # Told of every finished run (job name, succeeded?): the metrics' job counters.
    on_job: Callable[[str, bool], None] | None = None

    def job_finished(self, name: str, ok: bool) -> None:
        if self.on_job is not None:
            self.on_job(name, ok)

    def at(self, now: datetime) -> JobContext:
        return replace(self, now=now)

    @property
    def today(self) -> date:
        return self.calendar.local_date(self.now)

    @property
    def lease(self) -> timedelta:
        return timedelta(minutes=self.settings.notifications.job_lease_minutes)

    @property
    def casework(self) -> Casework:
        return Casework(self.notifier, self.calendar, tuple(self.settings.roles.admin_ids),
                        self.settings.workflow.auto_assign)


class Job(Protocol):
    __name__: str

    async def __call__(self, ctx: JobContext) -> int | None: ...


def new_owner() -> str:
    """Who holds a lease: host and pid for the operator reading the table, plus a random part
    so two schedulers in one process (tests) are told apart too."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def slot_passed(ctx: JobContext, at: time) -> bool:
    """Whether today's local ``at`` has come."""
    return ctx.now.astimezone(ctx.calendar.tz).time() >= at


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


# A job's context plus the local day it works for.
DailyWork = Callable[[JobContext, date], Awaitable[int]]


async def run_daily(
    job_name: str, at: time, work: DailyWork, ctx: JobContext, *, working_days_only: bool = True
) -> int | None:
    """A once-a-day job: ``work`` for today under today's lease once the local ``at`` has
    come; None before that (and on days off when ``working_days_only``: deadlines count
    working days, so a list sent on a weekend would repeat Friday's)."""
    if not slot_passed(ctx, at):
        return None
    today = ctx.today
    if working_days_only and not ctx.calendar.is_working_day(today):
        return None

    async def body() -> int:
        return await work(ctx, today)

    return await run_leased(ctx.session_factory, job_name, today.isoformat(), ctx.now, ctx.lease, body)


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


async def write_each_once(
    session_factory: SessionFactory,
    job_name: str,
    effects: list[tuple[str, Callable[[AsyncSession], Awaitable[None]]]],
    now: datetime,
    *,
    per_transaction: int = 200,
) -> int:
    """``write_once`` for many effects, committed together up to ``per_transaction`` at a time:
    a reminder to every officer of a hundred agencies was a hundred commits (issue 15), and the
    effects of a batch are recorded in one statement. A crash loses a whole batch, never half an
    effect; recorded effects are skipped. The batch's messages are inserted together at its
    commit. How many wrote."""
    written = 0
    for first in range(0, len(effects), per_transaction):
        batch = effects[first:first + per_transaction]
        async with session_factory() as session:
            defer_outbox_flush(session)
            fresh = await JobRepo(session).record_effects(job_name, [key for key, _write in batch], now)
            for effect_key, write in batch:
                if effect_key in fresh:
                    fresh.discard(effect_key)  # a key given twice is one effect
                    await write(session)
                    written += 1
            await session.commit()
    return written


async def send_to_admins(ctx: JobContext, job_name: str, run: date, notice: Notice) -> int:
    """``notice`` to each configured admin in their language, once per admin and ``run`` day.
    Messages written."""

    async def write(session: AsyncSession, admin_tid: int) -> None:
        (to,) = await recipients.admins(session, [admin_tid])
        await ctx.notifier.send(session, to, notice, now=ctx.now, group_key=f"{job_name}:{run}")

    written = 0
    for admin_tid in ctx.settings.roles.admin_ids:
        if await write_once(ctx.session_factory, job_name, f"{run}:{admin_tid}", ctx.now,
                            partial(write, admin_tid=admin_tid)):
            written += 1
    return written
