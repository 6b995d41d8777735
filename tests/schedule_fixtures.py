"""Rows and settings the schedule tests share (the week of 2024-05-20, WITA)."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.config import Settings
from bot.domain.workdays import WorkCalendar
from bot.jobs.base import JobContext
from bot.ui.notifier import OutboxNotifier
from storage.models import Agency, Citizen, Officer, Outbox, Report

WITA = ZoneInfo("Asia/Makassar")
CUTI_BERSAMA = date(2024, 5, 24)  # the Friday after Waisak (23 May)
TOKEN = "123456:" + "A" * 35
ADMIN_TID = 9001

_ids = itertools.count(1)


def wita(d: date, hh: int = 0, mm: int = 0) -> datetime:
    """A local WITA wall-clock time as an aware UTC datetime."""
    return datetime.combine(d, time(hh, mm), tzinfo=WITA).astimezone(UTC)


def make_settings(**notifications) -> Settings:
    return Settings(
        telegram={"token": TOKEN},
        roles={"admin_ids": [ADMIN_TID]},
        app={"timezone": "Asia/Makassar", "extra_holidays": [CUTI_BERSAMA]},
        notifications=notifications,
    )


def make_calendar(settings: Settings) -> WorkCalendar:
    return WorkCalendar(settings.app.timezone, settings.app.extra_holidays)


async def add_citizen(session, telegram_id: int, language: str | None = "en") -> Citizen:
    # Agreed to the notice: without consent nobody is told anything (recipients.reporter_of).
    citizen = Citizen(telegram_id=telegram_id, first_name=f"user{telegram_id}", language=language,
                      consent_at=wita(date(2024, 1, 2)))
    session.add(citizen)
    await session.flush()
    return citizen


async def add_agency(session, name: str) -> Agency:
    agency = Agency(name=name, kind="opd")
    session.add(agency)
    await session.flush()
    return agency


async def add_officer(session, agency: Agency, telegram_id: int) -> Citizen:
    person = await add_citizen(session, telegram_id)
    session.add(Officer(agency_id=agency.id, citizen_id=person.id, bound_at=wita(date(2024, 1, 2))))
    await session.flush()
    return person


async def add_report(session, citizen: Citizen, status: str, **fields) -> Report:
    n = next(_ids)
    report = Report(
        tracking_id=fields.pop("tracking_id", f"LPR-T{n:03d}"),
        citizen_id=citizen.id,
        classification=fields.pop("classification", "complaint"),
        title=fields.pop("title", f"Report {n}"),
        body="Jalan rusak",
        privacy=fields.pop("privacy", "public"),
        status=status,
        submitted_at=fields.pop("submitted_at", wita(date(2024, 5, 10), 9)),
        **fields,
    )
    session.add(report)
    await session.flush()
    return report


D_MON = date(2024, 5, 20)


def job_context(session_factory, settings: Settings, i18n, now: datetime) -> JobContext:
    """What the scheduler gives a job, at ``now``."""
    calendar = make_calendar(settings)
    notifier = OutboxNotifier(i18n, calendar, settings.notifications)
    return JobContext(session_factory, settings, calendar, notifier, now)


async def outbox_rows(session_factory) -> list[Outbox]:
    """What the jobs queued, in the order they queued it."""
    async with session_factory() as s:
        return list((await s.scalars(select(Outbox).order_by(Outbox.id))).all())


async def the_one_message(job, session_factory, i18n, now: datetime) -> Outbox:
    """Runs ``job`` at ``now`` with the default settings; it must queue one message: that one."""
    assert await job(job_context(session_factory, make_settings(), i18n, now)) == 1
    (row,) = await outbox_rows(session_factory)
    return row
