"""Citizen updates under quiet hours and digest mode, and the check-in, with a frozen ``now``.
Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from sqlalchemy import select

from bot.domain.enums import EventKind, ReportStatus
from bot.jobs.checkin import send_checkins
from bot.jobs.digest import send_digests
from bot.services.casework.reporter import CheckinAnswer, answer_checkin
from bot.services.notification_policy import queue_citizen_update
from storage.models import DigestItem, Outbox, Report, ReportEvent
from tests.actors import as_citizen
from tests.schedule_fixtures import (
    WITA,
    add_agency,
    add_citizen,
    add_officer,
    add_report,
    job_context,
    make_calendar,
    make_settings,
    outbox_rows,
    wita,
)

MAY = lambda d: date(2024, 5, d)  # noqa: E731


async def test_a_change_at_22_wita_goes_out_at_07(session_factory):
    settings = make_settings()
    async with session_factory() as s:
        citizen = await add_citizen(s, 5001)
        report = await add_report(s, citizen, ReportStatus.ASSIGNED)
        for text, now in (("late news", wita(MAY(20), 22)), ("noon news", wita(MAY(21), 12))):
            await queue_citizen_update(
                s, settings=settings.notifications, tz=WITA, now=now, citizen_id=citizen.id,
                chat_id=citizen.telegram_id, text=text, report_id=report.id,
            )
        await s.commit()
    late, noon = await outbox_rows(session_factory)
    assert late.not_before == wita(MAY(21), 7)
    assert late.not_before.astimezone(WITA).hour == 7
    assert noon.not_before is None


async def test_digest_groups_a_citizens_changes_into_one_message(session_factory, i18n):
    settings = make_settings(citizen_mode="digest")
    n = settings.notifications
    async with session_factory() as s:
        ani = await add_citizen(s, 5001)
        budi = await add_citizen(s, 5002)
        r1 = await add_report(s, ani, ReportStatus.ASSIGNED)
        r2 = await add_report(s, ani, ReportStatus.ASSIGNED)
        rb = await add_report(s, budi, ReportStatus.ASSIGNED)
        for when, who, report, text in [
            (wita(MAY(20), 9, 30), ani, r1, "first change"),
            (wita(MAY(20), 12), ani, r2, "second change"),
            (wita(MAY(20), 15, 59), ani, r1, "third change"),
            (wita(MAY(20), 16, 30), budi, rb, "after the digest"),
        ]:
            held = await queue_citizen_update(
                s, settings=n, tz=WITA, now=when, citizen_id=who.id, chat_id=who.telegram_id,
                report_id=report.id, text=text,
            )
            assert isinstance(held, DigestItem)
        # An update with buttons asks the reporter to act: it is not held back.
        kb = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="x", callback_data="x")]])
        direct = await queue_citizen_update(
            s, settings=n, tz=WITA, now=wita(MAY(20), 22), citizen_id=ani.id, chat_id=5001,
            report_id=r1.id, text="please reply", reply_markup=kb,
        )
        assert isinstance(direct, Outbox) and direct.not_before == wita(MAY(21), 7)
        await s.commit()

    # The 09:00 digest came before any change; at 15:59 that slot is done, so nothing goes.
    assert await send_digests(job_context(session_factory, settings, i18n, wita(MAY(20), 9))) == 0
    assert await send_digests(job_context(session_factory, settings, i18n, wita(MAY(20), 15, 59))) is None
    # 16:00 gathers Ani's three changes into one message.
    assert await send_digests(job_context(session_factory, settings, i18n, wita(MAY(20), 16))) == 1
    rows = [r for r in await outbox_rows(session_factory) if r.group_key and r.group_key.startswith("digest")]
    assert len(rows) == 1
    text = rows[0].payload["text"]
    assert rows[0].chat_id == 5001
    assert text.index("first change") < text.index("second change") < text.index("third change")
    assert "after the digest" not in text
    # The same slot does not run twice; Budi's change goes at 09:00 next morning.
    assert await send_digests(job_context(session_factory, settings, i18n, wita(MAY(20), 16, 30))) is None
    assert await send_digests(job_context(session_factory, settings, i18n, wita(MAY(21), 9))) == 1
    rows = [r for r in await outbox_rows(session_factory) if r.group_key and r.group_key.startswith("digest")]
    assert [r.chat_id for r in rows] == [5001, 5002]
    assert "after the digest" in rows[1].payload["text"]


async def test_checkin_asks_once_n_working_days_after_closing_and_no_reopens(session_factory, i18n):
    settings = make_settings(checkin_after_days=3)
    cal = make_calendar(settings)
    async with session_factory() as s:
        ani = await add_citizen(s, 5001)
        other = await add_citizen(s, 5002)
        agency = await add_agency(s, "Dinas PU")
        await add_officer(s, agency, 7001)
        closed = dict(status=ReportStatus.CLOSED, agency_id=agency.id, closed_at=wita(MAY(20), 15))
        unsolved = await add_report(s, ani, tracking_id="LPR-CHK1", **closed)
        solved = await add_report(s, ani, tracking_id="LPR-CHK2", **closed)
        await s.commit()

    # 3 working days after Monday 20: 21, 22, then (Waisak, cuti bersama, weekend) 27 May.
    assert await send_checkins(job_context(session_factory, settings, i18n, wita(MAY(22), 10))) == 0
    assert await send_checkins(job_context(session_factory, settings, i18n, wita(MAY(24), 10))) is None
    assert await send_checkins(job_context(session_factory, settings, i18n, wita(MAY(27), 9, 59))) is None
    assert await send_checkins(job_context(session_factory, settings, i18n, wita(MAY(27), 10))) == 2
    assert await send_checkins(job_context(session_factory, settings, i18n, wita(MAY(28), 10))) == 0
    asked = await outbox_rows(session_factory)
    assert [r.chat_id for r in asked] == [5001, 5001]
    assert asked[0].payload["reply_markup"]["inline_keyboard"][0][1]["callback_data"] == f"ci:{unsolved.id}:0"

    cw = job_context(session_factory, settings, i18n, wita(MAY(27), 11)).casework
    kw = dict(now=wita(MAY(27), 11))
    ani_, other_ = as_citizen(ani), as_citizen(other)
    async with session_factory() as s:
        assert await answer_checkin(s, cw, other_, unsolved.id, solved=False, **kw) == CheckinAnswer.STALE
        assert await answer_checkin(s, cw, ani_, unsolved.id, solved=False, **kw) == CheckinAnswer.REOPENED
        assert await answer_checkin(s, cw, ani_, solved.id, solved=True, **kw) == CheckinAnswer.THANKED
    async with session_factory() as s:
        assert await answer_checkin(s, cw, ani_, unsolved.id, solved=False, **kw) == CheckinAnswer.STALE
        again = await s.get(Report, unsolved.id, populate_existing=True)
        assert again.status == ReportStatus.IN_PROGRESS and again.reopened_count == 1
        assert again.closed_at is None and again.followup_due == cal.add_working_days(MAY(27), 5)
        assert (await s.get(Report, solved.id)).status == ReportStatus.CLOSED
        kinds = (await s.scalars(select(ReportEvent.kind).where(ReportEvent.report_id == unsolved.id))).all()
        assert kinds == [EventKind.CHECKIN_REOPENED]
    officer_rows = [r for r in await outbox_rows(session_factory) if r.chat_id == 7001]
    assert len(officer_rows) == 1 and "LPR-CHK1" in officer_rows[0].payload["text"]


async def test_checkin_is_off_by_default(session_factory, i18n):
    settings = make_settings()
    async with session_factory() as s:
        ani = await add_citizen(s, 5001)
        await add_report(s, ani, ReportStatus.CLOSED, closed_at=wita(MAY(20), 15))
        await s.commit()
    assert await send_checkins(job_context(session_factory, settings, i18n, wita(MAY(27), 10))) is None
    assert await outbox_rows(session_factory) == []


async def test_jobs_skip_a_citizen_who_withdrew_consent(session_factory, i18n):
    """Issue 10 (UU PDP): after /privasi's withdrawal nothing more reaches the citizen, from a
    job either: their closed report stays theirs, but the check-in is not sent."""
    settings = make_settings(checkin_after_days=3)
    async with session_factory() as s:
        ani = await add_citizen(s, 5001)
        ani.consent_at, ani.consent_withdrawn_at = None, wita(MAY(21), 8)
        agency = await add_agency(s, "Dinas PU")
        await add_report(s, ani, tracking_id="LPR-WDR1", status=ReportStatus.CLOSED, agency_id=agency.id,
                         closed_at=wita(MAY(20), 15))
        await s.commit()
    # The run happens (and counts the report as done), but writes nothing to her.
    assert await send_checkins(job_context(session_factory, settings, i18n, wita(MAY(27), 10))) is not None
    assert [r.chat_id for r in await outbox_rows(session_factory)] == []
