"""Citizen digests: in digest mode a citizen's report updates wait in ``digest_item`` and go out
as one message per citizen at the configured times (default 09:00 and 16:00 local)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.config import Settings
from bot.domain.workdays import WorkCalendar
from bot.jobs.base import JobContext, run_leased
from bot.services.notices import Digest
from bot.services.notification_policy import RecipientKind, digest_run_key, group_digest
from bot.services.ports import Recipient
from storage.repositories.citizens import CitizenRepo
from storage.repositories.jobs import JobRepo

JOB_NAME = "digest"


def latest_slot(now: datetime, settings: Settings, calendar: WorkCalendar) -> datetime:
    """The last digest time at or before ``now`` (UTC): the run a call at ``now`` belongs to,
    so a late call (catch-up after a restart) still counts as that slot's run."""
    local = now.astimezone(calendar.tz)
    times = sorted(settings.notifications.digest_times, reverse=True)
    for days in range(2):
        day = local.date() - timedelta(days=days)
        for t in times:
            slot = datetime.combine(day, t, tzinfo=calendar.tz)
            if slot <= local:
                return slot.astimezone(UTC)
    raise AssertionError("unreachable: some digest time falls within two days")


async def send_digests(ctx: JobContext) -> int | None:
    """Digest messages written, or None when another process has this slot. Runs in either
    citizen mode, so updates held back before a switch to "immediate" still go out."""
    if not ctx.settings.notifications.digest_times:
        return None
    slot = latest_slot(ctx.now, ctx.settings, ctx.calendar)

    async def body() -> int:
        return await flush_digests(ctx)

    return await run_leased(ctx.session_factory, JOB_NAME, digest_run_key(slot, ctx.calendar.tz), ctx.now,
                            ctx.lease, body)


async def flush_digests(ctx: JobContext) -> int:
    async with ctx.session_factory() as session:
        items = await JobRepo(session).pending_digest_items(ctx.now)
        grouped = group_digest(items)
    written = 0
    for citizen_id, citizen_items in grouped.items():
        async with ctx.session_factory() as session:
            repo = JobRepo(session)
            ids = [i.id for i in citizen_items]
            # Stamped and enqueued in one transaction; if anyone stamped some first, this
            # citizen's digest is theirs to send.
            if await repo.mark_digested(ids, ctx.now) != len(ids):
                await session.rollback()
                continue
            citizen = await CitizenRepo(session).get(citizen_id)
            to = Recipient(citizen_items[0].chat_id, citizen.language if citizen else None,
                           RecipientKind.CITIZEN, citizen_id)
            await ctx.notifier.send(session, to, Digest([i.text for i in citizen_items]), now=ctx.now,
                                    group_key=f"{JOB_NAME}:{citizen_id}")
            await session.commit()
            written += 1
    return written
