"""The APScheduler wiring: which job runs when. The jobs themselves live in ``bot/jobs``.

Job stores are in memory only and never shared: every process schedules every job, and the
``job_run`` lease table decides which process actually does a given run. A catch-up sweep at
start and every few minutes calls all jobs again, so a run missed while no process was up, or
left unfinished by one that died, is done as soon as a process is (back) up.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.config import Settings
from bot.jobs.auto_close import auto_close
from bot.jobs.base import Job, JobContext
from bot.jobs.checkin import send_checkins
from bot.jobs.digest import send_digests
from bot.jobs.escalation import escalate_overdue
from bot.jobs.officer_reminders import remind_officers
from bot.jobs.retention import purge_expired
from bot.jobs.weekly_summary import send_weekly_summary
from storage.base import utcnow

log = logging.getLogger(__name__)

CATCH_UP_EVERY = timedelta(minutes=5)
# A cron run delayed (event loop busy, laptop asleep) by up to this still runs; later ones
# are left to the catch-up sweep.
MISFIRE_GRACE = timedelta(minutes=30)

# In the order the sweep runs them: citizens' pending news first, the admin reports last.
ALL_JOBS: tuple[Job, ...] = (
    send_digests,
    auto_close,
    remind_officers,
    escalate_overdue,
    send_checkins,
    send_weekly_summary,
    purge_expired,
)


@dataclass(frozen=True)
class Schedule:
    job: Job
    times: tuple[time, ...]
    # APScheduler day_of_week ("mon-fri", "0"), or None for every day. Working days are
    # decided by the job itself (holidays are not a cron field).
    day_of_week: str | None = None


def schedules(settings: Settings) -> list[Schedule]:
    n = settings.notifications
    weekday = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[n.weekly_summary_weekday]
    return [
        Schedule(send_digests, tuple(n.digest_times)),
        Schedule(auto_close, (n.auto_close_time,)),
        Schedule(remind_officers, (n.officer_reminder_time,), "mon-fri"),
        Schedule(escalate_overdue, (n.escalation_time,), "mon-fri"),
        Schedule(send_checkins, (n.checkin_time,), "mon-fri"),
        Schedule(send_weekly_summary, (n.weekly_summary_time,), weekday),
        Schedule(purge_expired, (settings.privacy.retention_time,)),
    ]


async def run_all_jobs(ctx: JobContext, jobs: Sequence[Job] = ALL_JOBS) -> dict[str, int | None]:
    """Call every job once at ``ctx.now`` (the catch-up sweep); each does only what is due and
    not yet done by any process. One failing job does not stop the others."""
    results: dict[str, int | None] = {}
    for job in jobs:
        try:
            results[job.__name__] = await job(ctx)
        except Exception:
            log.exception("job %s failed", job.__name__)
            results[job.__name__] = None
            ctx.job_finished(job.__name__, False)
        else:
            ctx.job_finished(job.__name__, True)
    return results


def build_scheduler(context: JobContext, *, clock: Callable[[], datetime] = utcnow) -> AsyncIOScheduler:
    """An AsyncIOScheduler, not started, with every job on a CronTrigger in the configured
    time zone plus the catch-up sweep (first run right at start). Each run gets ``context``
    at the ``clock``'s time."""
    calendar = context.calendar
    scheduler = AsyncIOScheduler(
        jobstores={"default": MemoryJobStore()},
        timezone=calendar.tz,
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": int(MISFIRE_GRACE.total_seconds()),
        },
    )

    def runner(job: Job):
        async def run() -> None:
            try:
                await job(context.at(clock()))
            except asyncio.CancelledError:
                # Shutting down mid-job: its lease lets the next run finish the work, so this
                # is not an error worth a traceback.
                log.info("job %s interrupted by shutdown", job.__name__)
            except Exception:
                log.exception("job %s failed", job.__name__)
                context.job_finished(job.__name__, False)
            else:
                if job is not run_all_jobs:  # the sweep counts each job it ran itself
                    context.job_finished(job.__name__, True)

        return run

    for schedule in schedules(context.settings):
        for at in schedule.times:
            scheduler.add_job(
                runner(schedule.job),
                CronTrigger(
                    day_of_week=schedule.day_of_week,
                    hour=at.hour,
                    minute=at.minute,
                    second=at.second,
                    timezone=calendar.tz,
                ),
                id=f"{schedule.job.__name__}@{at.strftime('%H:%M')}",
                name=schedule.job.__name__,
            )

    scheduler.add_job(
        runner(run_all_jobs),
        IntervalTrigger(seconds=CATCH_UP_EVERY.total_seconds(), timezone=calendar.tz),
        id="catch_up",
        name="catch_up",
        next_run_time=datetime.now(calendar.tz),
    )
    return scheduler
