"""Check-in: some working days after a report closed (``checkin_after_days``, 0 = off), ask the
reporter once whether the problem is really solved. "No" reopens the report and sends it back
to its agency, as a dispute does; "yes" just thanks them."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum

from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.domain.deadlines import followup_due
from bot.domain.enums import ActorRole, EventKind, ReportStatus
from bot.domain.workdays import WorkCalendar
from bot.jobs.base import SessionFactory, language_of, lease_of, rendering, run_leased, slot_passed
from bot.services.notification_policy import Recipient, not_before
from bot.services.outbox import enqueue_message
from bot.ui.checkin import checkin_kb
from bot.ui.render import esc, esc_truncate
from bot.ui.report_render import format_local_date
from storage.models.citizen import Citizen
from storage.models.report import Report, ReportEvent
from storage.repositories.cases import CaseRepo
from storage.repositories.jobs import JobRepo
from storage.repositories.officers import OfficerRepo

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
    days = settings.notifications.checkin_after_days
    if days <= 0 or not slot_passed(now, calendar, settings.notifications.checkin_time):
        return None
    today = calendar.local_date(now)
    if not calendar.is_working_day(today):
        return None

    async def body() -> int:
        return await ask_due(session_factory, settings, calendar, i18n, now, today)

    return await run_leased(session_factory, JOB_NAME, today.isoformat(), now, lease_of(settings), body)


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
                .where(Report.status == ReportStatus.CLOSED, Report.closed_at >= since)
                .order_by(Report.closed_at, Report.id)
            )
        )
    asked = 0
    for report in closed:
        due = checkin_day(report.closed_at, days, calendar)
        if not (due <= today and today - due <= LATE_LIMIT):
            continue
        async with session_factory() as session:
            if not await JobRepo(session).record_effect(JOB_NAME, _key(report.id), now):
                continue  # asked already: once per report, ever
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
            await session.commit()
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
    calendar: WorkCalendar,
    i18n: I18n,
    default_language: str,
    now: datetime,
) -> CheckinAnswer:
    """The reporter's answer to a check-in. Commits nothing; the caller does.

    callback_data can be forged, so the owner, the question having been asked, the status and
    "only one answer" are all checked here.
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
    due = followup_due(now, calendar)
    reopened = await CaseRepo(session).change_status(
        report_id,
        expected_status=ReportStatus.CLOSED,
        values={
            "status": ReportStatus.IN_PROGRESS.value,
            "closed_at": None,
            "followup_due": due,
            "reply_due": None,
            "reopened_count": Report.reopened_count + 1,
            "updated_at": now,
        },
    )
    if not reopened:
        return CheckinAnswer.STALE
    session.add(
        ReportEvent(
            report_id=report_id,
            created_at=now,
            actor_role=ActorRole.CITIZEN,
            actor_citizen_id=citizen.id,
            agency_id=report.agency_id,
            kind=EventKind.CHECKIN_REOPENED,
            from_status=ReportStatus.CLOSED,
            to_status=ReportStatus.IN_PROGRESS,
        )
    )
    if report.agency_id is not None:
        rows = await OfficerRepo(session).active_with_people(report.agency_id)
        for _officer, person, _agency in rows:
            locale = language_of_person(person.language, default_language, i18n)
            with rendering(i18n, locale):
                text = _(
                    "↩️ The reporter says <code>{tracking_id}</code> is <b>not solved</b> after "
                    "all; it is open again. Answer due by the end of {date}."
                ).format(tracking_id=esc(report.tracking_id), date=format_local_date(due, locale))
            await enqueue_message(session, person.telegram_id, text, group_key=f"report:{report_id}")
    await session.flush()
    return CheckinAnswer.REOPENED


def language_of_person(stored: str | None, default: str, i18n: I18n) -> str:
    return stored if stored in i18n.available_locales else default
