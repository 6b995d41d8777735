"""Escalation to the coordinating admins: the tunggakan. On working days each admin gets one
message summarising the reports past their follow-up deadline (still with an agency), counted
per agency, and the reports waiting in the verification queue past verify_due, with the
longest overdue few named and a button that pages through all of them (handlers/admin_overdue);
and, stated apart, the reports past their completion ceiling by kind of report (14/60/5/5 working
days from receipt), per agency and in the verification queue.

An agency with a linked group chat hears there what was escalated about it (its count and
oldest reports). A kecamatan hears what was escalated about the kelurahan and desa under it
(counts per village, the oldest few; issue 13), in its group and/or its officers' chats as the
kecamatan chose; another kecamatan hears nothing of them.

Working days only: deadlines count working days, so a weekend list would repeat Friday's."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.lifecycle import VERIFICATION_QUEUE, WITH_AGENCY
from bot.jobs.base import JobContext, run_daily, send_to_admins, write_each_once
from bot.services import recipients
from bot.services.notices import AgencyEscalated, Escalation, VillagesEscalated
from bot.services.overdue import overdue_scope
from storage.repositories.agencies import AgencyRepo
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
        agencies = [a for a in await repo.per_agency(WITH_AGENCY, today, today, ceiling_before=today)
                    if a.overdue or a.past_ceiling]
        verification = await repo.verification_count(VERIFICATION_QUEUE, today)
        unverified_past_ceiling = await repo.past_ceiling_count(VERIFICATION_QUEUE, today)
        oldest = await repo.oldest(scope, limit=OLDEST_SHOWN)
    total = sum(a.overdue for a in agencies) + verification
    past_ceiling = sum(a.past_ceiling for a in agencies) + unverified_past_ceiling
    if not total and not past_ceiling:
        return 0
    notice = Escalation(agencies, verification, oldest, total, today,
                        unverified_past_ceiling=unverified_past_ceiling)
    # A kecamatan hears of its villages' step deadlines (issue 13); the ceilings go to the
    # coordinators and to the agency's own group.
    return (await send_to_admins(ctx, JOB_NAME, today, notice) + await _tell_groups(ctx, today, agencies)
            + await _tell_kecamatans(ctx, today, [a for a in agencies if a.overdue]))


async def _tell_kecamatans(ctx: JobContext, today: date, agencies: list[AgencyCount]) -> int:
    """Each kecamatan above an overdue kelurahan or desa hears of its own villages only."""
    async with ctx.session_factory() as session:
        above = await AgencyRepo(session).kecamatan_of({a.agency_id for a in agencies})
    villages: dict[int, list[AgencyCount]] = defaultdict(list)
    for count in agencies:
        if count.agency_id in above:
            villages[above[count.agency_id][0]].append(count)
    names = dict(above.values())

    async def write(session: AsyncSession, kecamatan_id: int) -> None:
        mine = villages[kecamatan_id]
        oldest = await OverdueRepo(session).of_agencies(
            WITH_AGENCY, today, [v.agency_id for v in mine], limit=OLDEST_SHOWN)
        notice = VillagesEscalated(names[kecamatan_id], mine, oldest, today)
        for to in await recipients.agency(session, kecamatan_id):
            await ctx.notifier.send(session, to, notice, now=ctx.now, group_key=f"{JOB_NAME}:{today}")

    return await write_each_once(ctx.session_factory, JOB_NAME, [
        (f"{today}:kecamatan:{kecamatan_id}", partial(write, kecamatan_id=kecamatan_id))
        for kecamatan_id in sorted(villages)], ctx.now)


async def _tell_groups(ctx: JobContext, today: date, agencies: list[AgencyCount]) -> int:
    """Each overdue agency with a linked group chat hears there what was escalated about it."""
    async with ctx.session_factory() as session:
        groups = await GroupChatRepo(session).active_by_agency({a.agency_id for a in agencies})
        # The step deadline's oldest few; reports only past the ceiling are counted, not named.
        oldest = await OverdueRepo(session).oldest_per_agency(
            WITH_AGENCY, today - timedelta(days=1), set(groups), OLDEST_SHOWN)

    async def write(session: AsyncSession, count: AgencyCount) -> None:
        notice = AgencyEscalated(count, oldest.get(count.agency_id, []), today)
        await ctx.notifier.send(session, recipients.group(groups[count.agency_id]), notice, now=ctx.now,
                                group_key=f"{JOB_NAME}:{today}")

    return await write_each_once(ctx.session_factory, JOB_NAME, [
        (f"{today}:group:{groups[c.agency_id].chat_id}:{c.agency_id}", partial(write, count=c))
        for c in agencies if c.agency_id in groups], ctx.now)
