"""Escalation to the coordinating admins: the tunggakan. On working days each admin gets one
message summarising the reports past their follow-up deadline (still with an agency), counted
per agency, and the reports waiting in the verification queue past verify_due, with the
longest overdue few named and a button that pages through all of them (handlers/admin_overdue).

An agency with a linked group chat hears there what was escalated about it (its count and
oldest reports).

Working days only: deadlines count working days, so a weekend list would repeat Friday's."""

from __future__ import annotations

from datetime import date, timedelta
from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.lifecycle import VERIFICATION_QUEUE, WITH_AGENCY
from bot.jobs.base import JobContext, run_daily, send_to_admins, write_once
from bot.services import recipients
from bot.services.notices import AgencyEscalated, Escalation
from bot.services.overdue import overdue_scope
from storage.repositories.group_chats import GroupChatRepo
from storage.repositories.overdue import AgencyCount, OverdueRepo

JOB_NAME = "escalation"
# The longest overdue reports named in the message; the button pages through all of them.
OLDEST_SHOWN = 5


async def escalate_overdue(ctx: JobContext) -> int | None:
    """Messages written (one per admin when anything is overdue), or None when skipped."""
    return await run_daily(JOB_NAME, ctx.settings.notifications.escalation_time, send_escalations, ctx)


async def send_escalations(ctx: JobContext, today: date) -> int:
    scope = overdue_scope(today)
    async with ctx.session_factory() as session:
        repo = OverdueRepo(session)
        agencies = [a for a in await repo.per_agency(WITH_AGENCY, today, today) if a.overdue]
        verification = await repo.verification_count(VERIFICATION_QUEUE, today)
        oldest = await repo.oldest(scope, limit=OLDEST_SHOWN)
    total = sum(a.overdue for a in agencies) + verification
    if not total:
        return 0
    notice = Escalation(agencies, verification, oldest, total, today)
    return await send_to_admins(ctx, JOB_NAME, today, notice) + await _tell_groups(ctx, today, agencies)


async def _tell_groups(ctx: JobContext, today: date, agencies: list[AgencyCount]) -> int:
    """Each overdue agency with a linked group chat hears there what was escalated about it."""
    async with ctx.session_factory() as session:
        groups = await GroupChatRepo(session).active_by_agency({a.agency_id for a in agencies})
        oldest = await OverdueRepo(session).oldest_per_agency(
            WITH_AGENCY, today - timedelta(days=1), set(groups), OLDEST_SHOWN)

    async def write(session: AsyncSession, count: AgencyCount) -> None:
        notice = AgencyEscalated(count, oldest.get(count.agency_id, []), today)
        await ctx.notifier.send(session, recipients.group(groups[count.agency_id]), notice, now=ctx.now,
                                group_key=f"{JOB_NAME}:{today}")

    written = 0
    for count in agencies:
        link = groups.get(count.agency_id)
        if link is not None and await write_once(ctx.session_factory, JOB_NAME,
                                                 f"{today}:group:{link.chat_id}:{count.agency_id}", ctx.now,
                                                 partial(write, count=count)):
            written += 1
    return written
