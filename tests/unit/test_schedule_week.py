"""Time travel over the week of 20 May 2024 (Waisak on Thursday 23, cuti bersama on Friday 24):
the catch-up sweep is called every half hour with a frozen ``now``, and we look at what each
tick wrote. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from sqlalchemy import select

from bot.domain.enums import EventKind, ReportStatus
from bot.scheduler import run_all_jobs
from storage.models import Outbox, Report, ReportEvent
from tests.schedule_fixtures import (
    ADMIN_TID,
    WITA,
    add_agency,
    add_citizen,
    add_officer,
    add_report,
    job_context,
    make_settings,
    the_one_message,
    wita,
)

MAY = lambda d: date(2024, 5, d)  # noqa: E731
OFFICER_TID = 7001
CITIZEN_TID = 5001


async def _seed(session_factory):
    async with session_factory() as s:
        citizen = await add_citizen(s, CITIZEN_TID)
        agency = await add_agency(s, "Dinas Pekerjaan Umum")
        await add_officer(s, agency, OFFICER_TID)
        await add_citizen(s, ADMIN_TID)
        reports = {
            # With the agency, answer due Tuesday 21: "due within one working day" on Monday.
            "followup": await add_report(
                s, citizen, ReportStatus.IN_PROGRESS, agency_id=agency.id,
                assigned_at=wita(MAY(14), 10), followup_due=MAY(21), tracking_id="LPR-FLW1",
            ),
            # Waiting for verification since before the week, past its 3 working days.
            "unverified": await add_report(
                s, citizen, ReportStatus.SUBMITTED, verify_due=MAY(17), tracking_id="LPR-VER1"
            ),
            # Answered; the reporter may reply until Tuesday 21, so it closes on Wednesday.
            "answered": await add_report(
                s, citizen, ReportStatus.ANSWERED, agency_id=agency.id,
                answered_at=wita(MAY(6), 9), reply_due=MAY(21), tracking_id="LPR-ANS1",
            ),
            # Reply allowed until Monday 27: still open at the end of the week.
            "answered_late": await add_report(
                s, citizen, ReportStatus.ANSWERED, agency_id=agency.id,
                answered_at=wita(MAY(13), 9), reply_due=MAY(27), tracking_id="LPR-ANS2",
            ),
        }
        await s.commit()
        return {k: r.id for k, r in reports.items()}


async def _travel(session_factory, settings, i18n, start, end, step=timedelta(minutes=30)):
    """{(chat_id, group prefix): [local datetimes of the ticks that wrote to them]}"""
    seen: dict[tuple[int, str], list] = defaultdict(list)
    last_id = 0
    now = start
    while now < end:
        await run_all_jobs(job_context(session_factory, settings, i18n, now))
        async with session_factory() as s:
            rows = (await s.scalars(select(Outbox).where(Outbox.id > last_id).order_by(Outbox.id))).all()
        for row in rows:
            last_id = row.id
            seen[(row.chat_id, (row.group_key or "").split(":")[0])].append(
                (now.astimezone(WITA), row)
            )
        now += step
    return seen


async def test_a_week_with_waisak_and_cuti_bersama(session_factory, i18n):
    settings = make_settings()
    ids = await _seed(session_factory)
    seen = await _travel(session_factory, settings, i18n, wita(MAY(20)), wita(MAY(28)))

    reminders = seen[(OFFICER_TID, "officer_reminder")]
    # Working days only: nothing on Waisak, the cuti bersama or the weekend; at 08:00 sharp.
    assert [(t.date(), t.hour, t.minute) for t, _ in reminders] == [
        (MAY(20), 8, 0), (MAY(21), 8, 0), (MAY(22), 8, 0), (MAY(27), 8, 0)
    ]
    texts = {t.date(): row.payload["text"] for t, row in reminders}
    assert "LPR-FLW1" in texts[MAY(20)] and "Overdue" not in texts[MAY(20)]
    assert "Overdue" in texts[MAY(22)]  # past Tuesday's deadline from Wednesday on
    buttons = [b["callback_data"] for r in reminders[0][1].payload["reply_markup"]["inline_keyboard"] for b in r]
    assert f"oc:op:{ids['followup']}:0" in buttons and "oc:ls:0:0" in buttons

    escalations = seen[(ADMIN_TID, "escalation")]
    assert [(t.date(), t.hour, t.minute) for t, _ in escalations] == [
        (MAY(20), 8, 30), (MAY(21), 8, 30), (MAY(22), 8, 30), (MAY(27), 8, 30)
    ]
    esc = {t.date(): row.payload["text"] for t, row in escalations}
    # Monday and Tuesday: only the verification queue is late; from Wednesday the follow-up too.
    assert "LPR-VER1" in esc[MAY(20)] and "LPR-FLW1" not in esc[MAY(21)]
    assert "LPR-FLW1" in esc[MAY(22)] and "LPR-FLW1" in esc[MAY(27)]

    closes = seen[(CITIZEN_TID, "report")]
    assert [(t.date(), t.hour) for t, _ in closes] == [(MAY(22), 7)]
    assert "LPR-ANS1" in closes[0][1].payload["text"]
    assert closes[0][1].not_before is None  # 07:00 is the end of the quiet hours

    summaries = seen[(ADMIN_TID, "weekly_summary")]
    assert [(t.date(), t.hour) for t, _ in summaries] == [(MAY(20), 8), (MAY(27), 8)]

    async with session_factory() as s:
        status = dict((await s.execute(select(Report.id, Report.status))).all())
        events = (await s.scalars(select(ReportEvent).where(ReportEvent.kind == EventKind.AUTO_CLOSED))).all()
    assert status[ids["answered"]] == ReportStatus.CLOSED
    assert status[ids["answered_late"]] == ReportStatus.ANSWERED
    assert [e.report_id for e in events] == [ids["answered"]]


async def test_a_dispute_before_the_run_keeps_the_report_open(session_factory, i18n):
    settings = make_settings()
    ids = await _seed(session_factory)
    async with session_factory() as s:
        report = await s.get(Report, ids["answered"])
        report.status = ReportStatus.IN_PROGRESS  # the reporter disputed on Tuesday evening
        await s.commit()
    from bot.jobs.auto_close import auto_close

    assert await auto_close(job_context(session_factory, settings, i18n, wita(MAY(22), 7))) == 0
    async with session_factory() as s:
        assert (await s.get(Report, ids["answered"])).status == ReportStatus.IN_PROGRESS


async def test_escalation_counts_per_agency_and_names_the_oldest_first(session_factory, i18n):
    from bot.jobs.escalation import escalate_overdue

    async with session_factory() as s:
        citizen = await add_citizen(s, CITIZEN_TID)
        await add_citizen(s, ADMIN_TID, language="en")
        pu = await add_agency(s, "Dinas PU")
        kes = await add_agency(s, "Dinas Kesehatan")
        for tid, agency, due in [
            ("LPR-PU-NEW", pu, MAY(17)), ("LPR-KES-1", kes, MAY(15)), ("LPR-PU-OLD", pu, MAY(10)),
        ]:
            await add_report(s, citizen, ReportStatus.ASSIGNED, agency_id=agency.id,
                             followup_due=due, tracking_id=tid)
        # Not late (due today) and not with an agency: left out.
        await add_report(s, citizen, ReportStatus.ASSIGNED, agency_id=kes.id,
                         followup_due=MAY(21), tracking_id="LPR-ONTIME")
        await s.commit()
    row = await the_one_message(escalate_overdue, session_factory, i18n, wita(MAY(21), 9))
    text = row.payload["text"]
    assert "<b>Overdue reports (tunggakan)</b>: 3 on" in text
    # Per agency a count, the most urgent agency first (its oldest is due earliest).
    assert "• <b>Dinas PU</b>: 2, the oldest due" in text and "• <b>Dinas Kesehatan</b>: 1," in text
    assert text.index("<b>Dinas PU</b>: 2") < text.index("<b>Dinas Kesehatan</b>: 1")
    # The longest overdue named, oldest first, with who it waits for.
    longest = text.split("Longest overdue:")[1]
    order = [longest.index(t) for t in ("LPR-PU-OLD", "LPR-KES-1", "LPR-PU-NEW")]
    assert order == sorted(order)
    assert "LPR-ONTIME" not in text
    assert "Dinas PU, due" in longest and "7 working days late" in longest  # due Fri 10 May: 13–17, 20–21
    (button,) = [b for r in row.payload["reply_markup"]["inline_keyboard"] for b in r]
    assert button["callback_data"] == "ovd:0:1" and "3" in button["text"]
