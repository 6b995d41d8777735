"""Check-in: some working days after a report closed (``checkin_after_days``, 0 = off), ask the
reporter once whether the problem is really solved. "No" reopens the report and sends it back
to its agency, as a dispute does; "yes" just thanks them."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import partial

from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.domain.enums import EventKind, ReportStatus
from bot.domain.workdays import WorkCalendar
from bot.jobs.base import SessionFactory, language_of, rendering, run_daily, write_once
from bot.services import casework
from bot.services.notification_policy import Recipient, not_before
from bot.services.notify import Notifier
from bot.services.outbox import enqueue_message
from bot.ui.checkin import checkin_kb
from bot.ui.render import esc, esc_truncate
from storage.models.citizen import Citizen
from storage.models.report import Report
from storage.repositories.jobs import JobRepo

JOB_NAME = "checkin"
ANSWER_JOB = "checkin_answer"
# A check-in missed for longer than this (the bot was down, the feature just switched on) is
# not sent late: a question about a report closed long ago reads as noise.
LATE_LIMIT = timedelta(days=7)


def _key(report_id: int) -> str:
    return f"report:{report_id}"


async def send_checkins(
    session_factory: SessionFactory,
    settings: Settings,
    calendar: WorkCalendar,
    i18n: I18n,
    now: datetime,
) -> int | None:
    """Questions written, or None when switched off, not a working day, not yet time, or
    another process has today's run."""
    if settings.notifications.checkin_after_days <= 0:
        return None
    return await run_daily(JOB_NAME, settings.notifications.checkin_time, ask_due,
                           session_factory, settings, calendar, i18n, now)


def checkin_day(closed_at: datetime, days: int, calendar: WorkCalendar) -> date:
    return calendar.add_working_days(calendar.local_date(closed_at), days)


async def ask_due(
    session_factory: SessionFactory,
    settings: Settings,
    calendar: WorkCalendar,
    i18n: I18n,
    now: datetime,
    today: date,
) -> int:
    days = settings.notifications.checkin_after_days
    # Working days never outnumber calendar days by more than the longest holiday run; twice
    # the count plus the late limit and a fortnight of holidays is a safe window.
    since = now - timedelta(days=2 * days + 14) - LATE_LIMIT
    async with session_factory() as session:
        closed = list(
            await session.scalars(
                select(Report)
                # Reports filed through the Open311 API have nobody to ask in Telegram.
                .where(Report.status == ReportStatus.CLOSED, Report.closed_at >= since,
                       Report.citizen_id.is_not(None))
                .order_by(Report.closed_at, Report.id)
            )
        )

    async def ask(session: AsyncSession, report: Report) -> None:
        citizen = await session.get(Citizen, report.citizen_id)
        with rendering(i18n, language_of(citizen.language, settings)):
            text = _(
                "Your report <code>{tracking_id}</code> <b>{title}</b> was completed a few "
                "days ago. Is the problem really solved?"
            ).format(
                tracking_id=esc(report.tracking_id), title=esc_truncate(report.title, 200)
            )
            markup = checkin_kb(report.id)
        await enqueue_message(
            session,
            citizen.telegram_id,
            text,
            markup,
            citizen_id=citizen.id,
            group_key=f"report:{report.id}",
            not_before=not_before(now, Recipient.CITIZEN, settings.notifications, calendar.tz),
        )

    asked = 0
    for report in closed:
        due = checkin_day(report.closed_at, days, calendar)
        if not (due <= today and today - due <= LATE_LIMIT):
            continue
        # The effect key has no date: once per report, ever.
        if await write_once(session_factory, JOB_NAME, _key(report.id), now, partial(ask, report=report)):
            asked += 1
    return asked


class CheckinAnswer(StrEnum):
    THANKED = "thanked"
    REOPENED = "reopened"
    # Not asked, not theirs, already answered, or no longer closed: the button is stale.
    STALE = "stale"


async def answer_checkin(
    session: AsyncSession,
    *,
    citizen: Citizen,
    report_id: int,
    solved: bool,
    n: Notifier,
    now: datetime,
) -> CheckinAnswer:
    """The reporter's answer to a check-in. Commits nothing; the caller does.

    callback_data can be forged, so the owner, the question having been asked, the status and
    "only one answer" are all checked here. "No" reopens through casework, as a dispute does.
    """
    report = await session.get(Report, report_id, populate_existing=True)
    if report is None or report.citizen_id != citizen.id:
        return CheckinAnswer.STALE
    repo = JobRepo(session)
    if not await repo.has_effect(JOB_NAME, _key(report_id)):
        return CheckinAnswer.STALE
    if report.status != ReportStatus.CLOSED or not await repo.record_effect(
        ANSWER_JOB, _key(report_id), now
    ):
        return CheckinAnswer.STALE
    if solved:
        return CheckinAnswer.THANKED
    try:
        await casework.reopen_report(session, n, report, reason_kind=EventKind.CHECKIN_REOPENED,
                                     actor_id=citizen.id, now=now)
    except casework.CaseRefused:
        return CheckinAnswer.STALE  # changed by someone else meanwhile
    return CheckinAnswer.REOPENED
