"""Officer reminders: on working days, each liaison officer gets one message with their
agencies' reports due within one working day and those already overdue, with buttons into
/kotak. Officers treat the work as an extra duty (domain.md); a daily nudge is the remedy."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from functools import partial

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.domain.lifecycle import WITH_AGENCY
from bot.domain.workdays import WorkCalendar
from bot.jobs.base import (
    SessionFactory,
    enqueue_parts,
    language_of,
    rendering,
    report_line,
    run_daily,
    write_once,
)
from bot.ui.case_callbacks import OfficerAction, OfficerCb
from bot.ui.formatting import short_date
from bot.ui.render import esc
from storage.models.citizen import Citizen
from storage.models.report import Report
from storage.repositories.officers import OfficerRepo

JOB_NAME = "officer_reminder"
# Buttons beyond these would bury the message; the rest are one tap away in /kotak.
MAX_REPORT_BUTTONS = 8


async def remind_officers(
    session_factory: SessionFactory,
    settings: Settings,
    calendar: WorkCalendar,
    i18n: I18n,
    now: datetime,
) -> int | None:
    """Messages written (one per officer with something due), or None when not a working day,
    not yet time, or another process has today's run."""
    return await run_daily(JOB_NAME, settings.notifications.officer_reminder_time, send_reminders,
                           session_factory, settings, calendar, i18n, now)


async def send_reminders(
    session_factory: SessionFactory,
    settings: Settings,
    calendar: WorkCalendar,
    i18n: I18n,
    now: datetime,
    today: date,
) -> int:
    horizon = calendar.next_working_day(today)
    async with session_factory() as session:
        officers = await OfficerRepo(session).active_with_people()
        agency_ids = {agency.id for _o, _c, agency in officers}
        reports = list(
            await session.scalars(
                select(Report)
                .where(
                    Report.status.in_(list(WITH_AGENCY)),
                    Report.agency_id.in_(agency_ids),
                    Report.followup_due <= horizon,
                )
                .order_by(Report.followup_due, Report.id)
            )
        )
    by_agency: dict[int, list[Report]] = defaultdict(list)
    for report in reports:
        by_agency[report.agency_id].append(report)
    # One message per person, even when they serve several agencies.
    people: dict[int, Citizen] = {}
    agencies_of: dict[int, list] = defaultdict(list)
    for _officer, citizen, agency in officers:
        if by_agency.get(agency.id):
            people[citizen.id] = citizen
            agencies_of[citizen.id].append(agency)

    async def write(session: AsyncSession, citizen: Citizen) -> None:
        locale = language_of(citizen.language, settings)
        with rendering(i18n, locale):
            parts, buttons = _render(agencies_of[citizen.id], by_agency, today, locale)
        markup = InlineKeyboardMarkup(inline_keyboard=[[b] for b in buttons])
        await enqueue_parts(session, citizen.telegram_id, parts, markup, group_key=f"{JOB_NAME}:{today}")

    written = 0
    for citizen_id, citizen in people.items():
        if await write_once(session_factory, JOB_NAME, f"{today}:{citizen_id}", now,
                            partial(write, citizen=citizen)):
            written += 1
    return written


def _render(agencies, by_agency, today: date, locale: str):
    parts = [_("<b>Daily reminder</b>: reports that need your answer.")]
    buttons: list[InlineKeyboardButton] = []
    for agency in agencies:
        reports = by_agency[agency.id]
        overdue = [r for r in reports if r.followup_due < today]
        soon = [r for r in reports if r.followup_due >= today]
        lines = [f"\n<b>{esc(agency.name)}</b>"]
        if overdue:
            lines.append(_("Overdue:"))
            lines += [
                report_line(
                    r.tracking_id,
                    r.title,
                    _("due {date}").format(date=short_date(r.followup_due, locale)),
                )
                for r in overdue
            ]
        if soon:
            lines.append(_("Due within one working day:"))
            lines += [
                report_line(
                    r.tracking_id,
                    r.title,
                    _("due {date}").format(date=short_date(r.followup_due, locale)),
                )
                for r in soon
            ]
        parts.append("\n".join(lines))
        for r in overdue + soon:
            if len(buttons) < MAX_REPORT_BUTTONS:
                buttons.append(
                    InlineKeyboardButton(
                        text=r.tracking_id,
                        callback_data=OfficerCb(a=OfficerAction.OPEN, r=r.id).pack(),
                    )
                )
    buttons.append(
        InlineKeyboardButton(
            text=_("Open /kotak"), callback_data=OfficerCb(a=OfficerAction.LIST).pack()
        )
    )
    return parts, buttons
