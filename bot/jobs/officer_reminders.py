"""Officer reminders: on working days, each liaison officer gets one message with, per agency,
how many reports are due within one working day and how many are already overdue, how many are
past their completion ceiling by kind of report (counted apart), the most urgent few named, with
buttons into /kotak (which lists them all). Officers treat the work as an extra duty (domain.md);
a daily nudge is the remedy.

An agency with a linked group chat gets its own reminder there too; one that chose the group
instead of private chats is left out of its officers' private reminders."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.enums import GroupDelivery
from bot.domain.lifecycle import WITH_AGENCY
from bot.jobs.base import JobContext, run_daily, write_each_once
from bot.services import recipients
from bot.services.notices import Reminder
from bot.services.notification_policy import RecipientKind
from bot.services.officers import OFFICER_REMINDER_JOB
from bot.services.ports import Recipient
from storage.models.agency import Agency
from storage.models.citizen import Citizen
from storage.repositories.group_chats import GroupChatRepo
from storage.repositories.officers import OfficerRepo
from storage.repositories.overdue import OverdueRepo

JOB_NAME = OFFICER_REMINDER_JOB
# Reports named per agency (the most urgent); the counts cover all, /kotak lists all.
SHOWN_PER_AGENCY = 5


async def remind_officers(ctx: JobContext) -> int | None:
    """Messages written (one per officer with something due), or None when not a working day,
    not yet time, or another process has today's run."""
    return await run_daily(JOB_NAME, ctx.settings.notifications.officer_reminder_time, send_reminders, ctx)


async def send_reminders(ctx: JobContext, today: date) -> int:
    horizon = ctx.calendar.next_working_day(today)
    async with ctx.session_factory() as session:
        officers = await OfficerRepo(session).active_with_people()
        groups = await GroupChatRepo(session).active_by_agency()
        agency_ids = {agency.id for _o, _c, agency in officers} | set(groups)
        repo = OverdueRepo(session)
        counts = {c.agency_id: c for c in await repo.per_agency(WITH_AGENCY, today, horizon, agency_ids,
                                                                ceiling_before=today)}
        shown = await repo.oldest_per_agency(WITH_AGENCY, horizon, set(counts), SHOWN_PER_AGENCY)
    # One message per person, even when they serve several agencies.
    people: dict[int, Citizen] = {}
    agencies_of: dict[int, list[Agency]] = defaultdict(list)
    for _officer, citizen, agency in officers:
        link = groups.get(agency.id)
        if agency.id in counts and (link is None or link.delivery != GroupDelivery.ONLY):
            people[citizen.id] = citizen
            agencies_of[citizen.id].append(agency)

    async def write(session: AsyncSession, citizen: Citizen) -> None:
        notice = Reminder([(counts[a.id], shown.get(a.id, [])) for a in agencies_of[citizen.id]], today)
        to = Recipient(citizen.telegram_id, citizen.language, RecipientKind.OFFICER)
        await ctx.notifier.send(session, to, notice, now=ctx.now, group_key=f"{JOB_NAME}:{today}")

    async def write_group(session: AsyncSession, agency_id: int) -> None:
        notice = Reminder([(counts[agency_id], shown.get(agency_id, []))], today)
        await ctx.notifier.send(session, recipients.group(groups[agency_id]), notice, now=ctx.now,
                                group_key=f"{JOB_NAME}:{today}")

    effects = [(f"{today}:{citizen_id}", partial(write, citizen=citizen)) for citizen_id, citizen in people.items()]
    effects += [(f"{today}:group:{link.chat_id}:{agency_id}", partial(write_group, agency_id=agency_id))
                for agency_id, link in groups.items() if agency_id in counts]
    return await write_each_once(ctx.session_factory, JOB_NAME, effects, ctx.now)
