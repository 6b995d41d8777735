"""The retention job (issue 10, UU PDP) across the clock: nothing before retention_time, each
kind of data purged only once past its period, a second run the same day (or a later one with
nothing new) changes nothing, and a run that removed anything is audited."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from bot.config import Settings
from bot.jobs.retention import purge_expired
from storage.models import Attachment, AuditLog, FsmState, Outbox, Report, ReportEvent
from tests.schedule_fixtures import TOKEN, add_citizen, add_report, job_context, wita

DAY0 = date(2025, 3, 3)


def _settings() -> Settings:
    return Settings(telegram={"token": TOKEN}, app={"timezone": "Asia/Makassar"},
                    privacy={"sent_message_days": 30, "relayed_text_days": 60, "closed_report_days": 90,
                             "form_state_days": 7, "retention_time": "03:00"})


async def _seed(session_factory):
    async with session_factory() as s:
        siti = await add_citizen(s, 5001)
        closed = await add_report(s, siti, "closed", closed_at=wita(DAY0, 10), latitude=-1.25, longitude=116.8,
                                  tracking_id="LPR-OLD1")
        still_open = await add_report(s, siti, "in_progress", latitude=-1.2, longitude=116.7,
                                      tracking_id="LPR-OPN1")
        for report in (closed, still_open):
            s.add(ReportEvent(report_id=report.id, actor_role="citizen", actor_citizen_id=siti.id,
                              kind="reporter_replied", note="nomor saya 0812-5555-000", created_at=wita(DAY0, 9)))
        s.add(Attachment(report_id=closed.id, file_id="f", file_unique_id="u", kind="document",
                         file_name="KTP_Siti_Aminah.jpg"))
        s.add(Outbox(chat_id=5001, citizen_id=siti.id, method="sendMessage", status="sent",
                     payload={"text": "Laporan LPR-OLD1 selesai"}, created_at=wita(DAY0, 10)))
        s.add(Outbox(chat_id=5001, method="sendMessage", status="pending", payload={"text": "menunggu"},
                     created_at=wita(DAY0, 10)))
        s.add(FsmState(bot_id=1, chat_id=5001, user_id=5001, thread_id=0, business_connection_id="",
                       destiny="default", state="ReportForm:body", data={"draft": {"title": "Jalan"}},
                       updated_at=wita(DAY0, 12)))
        await s.commit()
        return closed.id, still_open.id


async def _state(session_factory, closed_id, open_id):
    async with session_factory() as s:
        closed, still_open = await s.get(Report, closed_id), await s.get(Report, open_id)
        notes = {e.report_id: e.note for e in (await s.scalars(select(ReportEvent))).all()}
        sent, pending = (await s.scalars(select(Outbox).order_by(Outbox.id))).all()
        return {
            "sent_text": sent.payload.get("text"), "pending_text": pending.payload.get("text"),
            "closed_note": notes[closed_id], "open_note": notes[open_id],
            "closed_reporter": closed.citizen_id, "closed_point": closed.latitude, "open_point": still_open.latitude,
            "closed_privacy": closed.privacy,
            "file_name": (await s.scalar(select(Attachment.file_name))),
            "forms": len((await s.scalars(select(FsmState))).all()),
            "audits": [a.detail for a in (await s.scalars(select(AuditLog).order_by(AuditLog.id))).all()],
        }


async def test_each_kind_of_data_goes_after_its_period_once(session_factory, i18n):
    settings = _settings()
    closed_id, open_id = await _seed(session_factory)

    async def run(day: date, hh: int, mm: int = 0):
        now = wita(day, hh, mm)
        # The clock the models' defaults read, too (a purge stamps rows with ctx.now).
        with time_machine.travel(now, tick=False):
            return await purge_expired(job_context(session_factory, settings, i18n, now))

    start = await _state(session_factory, closed_id, open_id)
    # Day 7 at 02:59 local: before retention_time, nothing runs.
    assert await run(DAY0 + timedelta(days=8), 2, 59) is None
    # Day 8 at 03:00: only the form, untouched for more than 7 days, goes.
    assert await run(DAY0 + timedelta(days=8), 3) == 1
    assert await run(DAY0 + timedelta(days=8), 23) is None  # today's run is done
    after8 = await _state(session_factory, closed_id, open_id)
    assert after8["forms"] == 0 and after8["sent_text"] == start["sent_text"]
    assert after8["audits"] == [{"sent_messages": 0, "relayed_texts": 0, "closed_reports": 0, "stale_forms": 1}]

    # Day 31: the text of the message sent on day 0 goes; the one never sent stays.
    assert await run(DAY0 + timedelta(days=31), 4) == 1
    s31 = await _state(session_factory, closed_id, open_id)
    assert s31["sent_text"] is None and s31["pending_text"] == "menunggu"
    assert s31["closed_note"] is not None

    # Day 61: the reporter's message on the closed report goes; on the open one it stays.
    assert await run(DAY0 + timedelta(days=61), 3) == 1
    s61 = await _state(session_factory, closed_id, open_id)
    assert s61["closed_note"] is None and s61["open_note"] == "nomor saya 0812-5555-000"
    assert s61["closed_reporter"] is not None

    # Day 89 (closed on day 0 at 10:00 local; 90 days pass on day 90 at 10:00): still kept.
    assert await run(DAY0 + timedelta(days=89), 3) == 0
    # Day 91: the closed report loses its personal fields; the open one keeps its point.
    assert await run(DAY0 + timedelta(days=91), 3) == 1
    s91 = await _state(session_factory, closed_id, open_id)
    assert s91["closed_reporter"] is None and s91["closed_point"] is None and s91["file_name"] is None
    assert s91["closed_privacy"] == "anonymous" and s91["open_point"] == -1.2
    # Idempotent: a later run finds nothing more, and writes no audit entry for nothing.
    assert await run(DAY0 + timedelta(days=92), 3) == 0
    final = await _state(session_factory, closed_id, open_id)
    assert final == s91 and len(final["audits"]) == 4


async def test_a_backlog_is_stripped_in_committed_batches_every_field_of_every_report(
        session_factory, i18n, monkeypatch):
    # A first run on years of reports finds ~100,000: batches of 2 here stand for batches of
    # 1,000, each its own transaction. A run that dies after two batches keeps them; the run
    # taken over strips the rest. Every personal field goes, in every batch.
    from bot.jobs import retention
    from storage.repositories.personal_data import RetentionRepo

    monkeypatch.setattr(retention, "STRIP_BATCH", 2)
    async with session_factory() as s:
        siti = await add_citizen(s, 5001)
        reports = [await add_report(s, siti, "closed", closed_at=wita(DAY0, 10), latitude=-1.25, longitude=116.8,
                                    privacy="confidential" if n == 4 else "public", tracking_id=f"LPR-CHK{n}")
                   for n in range(6)]
        for r in reports:
            s.add(ReportEvent(report_id=r.id, actor_role="citizen", actor_citizen_id=siti.id, kind="submitted"))
            s.add(Attachment(report_id=r.id, file_id="f", file_unique_id=f"u{r.id}", kind="document",
                             file_name="KTP_Siti_Aminah.jpg"))
        await s.commit()
        ids = [r.id for r in reports]
    strip, calls = RetentionRepo.strip_closed_reports, []

    async def dies_in_third_batch(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise ConnectionError("killed")
        return await strip(self, *args, **kwargs)

    now = wita(DAY0 + timedelta(days=100), 3)
    monkeypatch.setattr(RetentionRepo, "strip_closed_reports", dies_in_third_batch)
    with time_machine.travel(now, tick=False), pytest.raises(ConnectionError):
        await retention.purge(job_context(session_factory, _settings(), i18n, now), now.date())
    async with session_factory() as s:
        assert await s.scalar(select(func.count()).where(Report.personal_data_purged_at.is_not(None))) == 4
    with time_machine.travel(now, tick=False):
        assert await retention.purge(job_context(session_factory, _settings(), i18n, now), now.date()) == 2
    async with session_factory() as s:
        stripped = (await s.scalars(select(Report).where(Report.id.in_(ids)).order_by(Report.id))).all()
        events = (await s.scalars(select(ReportEvent.actor_citizen_id))).all()
        files = (await s.scalars(select(Attachment.file_name))).all()
    assert [(r.citizen_id, r.latitude, r.longitude, r.privacy) for r in stripped] == [
        (None, None, None, "confidential" if n == 4 else "anonymous") for n in range(6)]
    assert events == [None] * 6 and files == [None] * 6


async def test_a_report_finished_without_closed_at_is_stripped_by_its_last_change(session_factory, i18n):
    """Withdrawn (and older rejected or archived) reports have no ``closed_at``: their last change
    dates the end, and they are stripped once it is past the period, like a closed one."""
    async with session_factory() as s:
        siti = await add_citizen(s, 5002)
        old = await add_report(s, siti, "withdrawn", updated_at=wita(DAY0, 10), latitude=-1.25, longitude=116.8)
        recent = await add_report(s, siti, "withdrawn", updated_at=wita(DAY0 + timedelta(days=60), 10),
                                  latitude=-1.25, longitude=116.8)
        await s.commit()
        ids = old.id, recent.id
    now = wita(DAY0 + timedelta(days=91), 3)
    with time_machine.travel(now, tick=False):
        assert await purge_expired(job_context(session_factory, _settings(), i18n, now)) == 1
    async with session_factory() as s:
        old, recent = await s.get(Report, ids[0]), await s.get(Report, ids[1])
        assert (old.citizen_id, old.latitude, old.personal_data_purged_at is not None) == (None, None, True)
        assert recent.citizen_id is not None and recent.latitude == -1.25
