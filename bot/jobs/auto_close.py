"""Auto-close: an answered report the reporter has not replied to within 10 working days
(``reply_due``) closes by itself, and the reporter is told (domain.md, step 5 "Selesai")."""

from __future__ import annotations

from datetime import date, datetime

from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy import select

from bot.config import Settings
from bot.domain.enums import ActorRole, EventKind, ReportStatus
from bot.domain.workdays import WorkCalendar
from bot.jobs.base import SessionFactory, language_of, rendering, run_daily
from bot.services import webhooks
from bot.services.notification_policy import queue_citizen_update
from bot.ui.render import esc
from storage.models.citizen import Citizen
from storage.models.report import Report, ReportEvent
from storage.repositories.cases import CaseRepo

JOB_NAME = "auto_close"


async def auto_close(
    session_factory: SessionFactory,
    settings: Settings,
    calendar: WorkCalendar,
    i18n: I18n,
    now: datetime,
) -> int | None:
    """Close every answered report past its reply deadline; the number closed, or None when
    it is not time yet or another process has today's run."""
    # Every day: reply_due already counts working days, so a weekend run closes nothing early.
    return await run_daily(JOB_NAME, settings.notifications.auto_close_time, close_overdue_answers,
                           session_factory, settings, calendar, i18n, now, working_days_only=False)


async def close_overdue_answers(
    session_factory: SessionFactory,
    settings: Settings,
    calendar: WorkCalendar,
    i18n: I18n,
    now: datetime,
    today: date,
) -> int:
    async with session_factory() as session:
        due = list(
            await session.scalars(
                select(Report.id)
                .where(Report.status == ReportStatus.ANSWERED, Report.reply_due < today)
                .order_by(Report.reply_due, Report.id)
            )
        )
    closed = 0
    # One transaction per report: a crash half-way keeps what was closed, and the next run
    # (or a process taking over the lease) closes the rest.
    for report_id in due:
        async with session_factory() as session:
            if await _close_one(session, report_id, settings, calendar, i18n, now):
                closed += 1
            await session.commit()
    return closed


async def _close_one(session, report_id, settings, calendar, i18n, now) -> bool:
    # Conditional on the status: a reporter who replied a moment ago (disputed, rated) keeps
    # their report, and a second process finds nothing left to close.
    changed = await CaseRepo(session).change_status(
        report_id,
        expected_status=ReportStatus.ANSWERED,
        values={"status": ReportStatus.CLOSED.value, "closed_at": now, "updated_at": now},
    )
    if not changed:
        return False
    report = await session.get(Report, report_id, populate_existing=True)
    session.add(
        ReportEvent(
            report_id=report_id,
            created_at=now,
            actor_role=ActorRole.SYSTEM,
            kind=EventKind.AUTO_CLOSED,
            from_status=ReportStatus.ANSWERED,
            to_status=ReportStatus.CLOSED,
        )
    )
    await webhooks.status_changed(session, report, ReportStatus.ANSWERED, now)
    if report.citizen_id is None:  # filed through the Open311 API: nobody to tell in Telegram
        return True
    citizen = await session.get(Citizen, report.citizen_id)
    with rendering(i18n, language_of(citizen.language, settings)):
        text = _(
            "Your report <code>{tracking_id}</code> has been closed: there was no reply to the "
            "answer within 10 working days. Thank you for reporting."
        ).format(tracking_id=esc(report.tracking_id))
    await queue_citizen_update(
        session,
        settings=settings.notifications,
        tz=calendar.tz,
        now=now,
        citizen_id=citizen.id,
        chat_id=citizen.telegram_id,
        report_id=report_id,
        text=text,
    )
    await session.flush()
    return True
