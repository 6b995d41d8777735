"""Broadcasts end to end on both databases: one outbox row per recipient, delivered by the real
delivery worker through a mocked Bot API that injects 429s and blocked users, with a restart in
the middle. Every reachable user gets exactly one copy; blocked ones are marked."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from datetime import UTC, datetime, time, timedelta

import pytest
from aiogram import Bot
from aiogram.client.session.base import BaseSession
from sqlalchemy import func, select

from bot.domain.access import COMMAND_LINE, Actor, Refused
from bot.domain.workdays import WorkCalendar
from bot.i18n import build_i18n
from bot.services import broadcasts as svc
from bot.services.delivery import DeliveryWorker
from bot.ui.notifier import OutboxNotifier
from storage.models import Agency, AuditLog, Broadcast, Citizen, Officer, Outbox
from tests.actors import as_admin

N = 300
BLOCKED = {100_000 + i for i in range(0, N, 17)}


class Clock:
    def __init__(self) -> None:
        self.t = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)

    def now(self) -> datetime:
        return self.t

    async def sleep(self, seconds: float) -> None:
        for _ in range(5):
            await asyncio.sleep(0)
        self.t += timedelta(seconds=max(seconds, 0))


class FlakyTelegram(BaseSession):
    """Every 37th call is a flood wait, blocked users answer 403, the rest succeed."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0
        self.delivered: Counter[int] = Counter()
        self.floods = 0
        self.edits: list[str] = []

    async def make_request(self, bot, method, timeout=None):
        self.calls += 1
        chat_id = int(getattr(method, "chat_id", 0) or 0)
        if method.__api_method__ == "editMessageText":
            self.edits.append(method.text)
            status, body = 200, {"ok": True, "result": True}
        elif self.calls % 37 == 0:
            self.floods += 1
            status, body = 429, {"ok": False, "error_code": 429, "description": "Too Many Requests",
                                 "parameters": {"retry_after": 3}}
        elif chat_id in BLOCKED:
            status, body = 403, {"ok": False, "error_code": 403,
                                 "description": "Forbidden: bot was blocked by the user"}
        else:
            self.delivered[chat_id] += 1
            status, body = 200, {"ok": True, "result": {
                "message_id": self.calls, "date": 0, "chat": {"id": chat_id, "type": "private"}}}
        return self.check_response(bot, method, status, json.dumps(body)).result

    async def stream_content(self, *a, **kw):  # pragma: no cover
        yield b""

    async def close(self) -> None:
        pass


async def make_citizens(session) -> Citizen:
    admin = Citizen(telegram_id=9000, first_name="Admin", consent_at=datetime.now(UTC))
    session.add(admin)
    for i in range(N):
        session.add(Citizen(telegram_id=100_000 + i, first_name=f"W{i}", consent_at=datetime.now(UTC)))
    # Not in the audience: no consent, and already known to have blocked the bot.
    session.add(Citizen(telegram_id=200_001))
    session.add(Citizen(telegram_id=200_002, consent_at=datetime.now(UTC),
                        unreachable_at=datetime.now(UTC)))
    await session.commit()
    return admin


def worker(bot: Bot, session_factory, clock: Clock) -> DeliveryWorker:
    return DeliveryWorker(bot, session_factory, global_rate=25, per_chat_interval=1.0, batch=40,
                          clock=clock.now, sleep=clock.sleep)


async def drain(w: DeliveryWorker, session_factory, clock: Clock, key: str, stop_after: int | None = None):
    """Run batches until the group has nothing left (or ``stop_after`` batches)."""
    for batch in range(2000):
        if stop_after is not None and batch >= stop_after:
            return
        async with session_factory() as s:
            left = await s.scalar(select(func.count()).select_from(Outbox).where(
                Outbox.group_key == key, Outbox.status.in_(["pending", "sending"])))
        if not left:
            return
        if not await w.run_once():
            await clock.sleep(1)
    raise AssertionError("broadcast never finished")


async def test_every_reachable_user_gets_exactly_one_copy_across_a_restart(session_factory):
    async with session_factory() as s:
        admin = await make_citizens(s)
        b = await svc.start_broadcast(s, svc.Draft("<b>Pengumuman</b> &amp; info"),
                                      svc.Audience(svc.AudienceKind.CITIZENS), actor=as_admin(admin),
                                      admin_ids=[9000], progress_chat_id=9000, language="en")
    key = svc.group_key(b.id)
    assert b.total == N  # the admin consented too, but is no citizen's audience

    api = FlakyTelegram()
    bot = Bot("42:TEST", session=api)
    clock = Clock()
    first = worker(bot, session_factory, clock)
    await drain(first, session_factory, clock, key, stop_after=3)
    sent_before_restart = sum(api.delivered.values())
    assert 0 < sent_before_restart < N - len(BLOCKED)

    # "Restart": the old worker is gone, a new one (new limiter, new state) takes over.
    second = worker(bot, session_factory, clock)
    await drain(second, session_factory, clock, key)

    reachable = {100_000 + i for i in range(N)} - BLOCKED
    assert set(api.delivered) == reachable
    assert all(n == 1 for n in api.delivered.values()), "someone got the announcement twice"
    assert api.floods > 0
    async with session_factory() as s:
        blocked_rows = (await s.scalars(select(Citizen).where(Citizen.telegram_id.in_(BLOCKED)))).all()
        assert all(c.unreachable_at is not None for c in blocked_rows)
        p = await svc.progress(s, await s.get(Broadcast, b.id))
        assert (p.sent, p.blocked, p.failed, p.remaining) == (len(reachable), len(BLOCKED), 0, 0)
        # Marked users are skipped next time.
        again = await svc.count_recipients(s, svc.Audience(svc.AudienceKind.CITIZENS), actor=COMMAND_LINE,
                                           admin_ids=[9000])
        assert again == len(reachable)

    # The progress updater notices the end, marks the broadcast done and edits its message.
    i18n = build_i18n("id")
    async with session_factory() as s:
        await s.execute(Broadcast.__table__.update().where(Broadcast.id == b.id)
                        .values(progress_message_id=777))
        await s.commit()
    monitor = svc.BroadcastMonitor(bot, session_factory, OutboxNotifier(i18n, WorkCalendar()))
    assert await monitor.resume() == [b.id]
    await asyncio.wait_for(monitor._tasks[b.id], 5)
    async with session_factory() as s:
        assert (await s.get(Broadcast, b.id)).status == "done"
    assert api.edits and f"Sent: {len(reachable)}" in api.edits[-1]
    assert await monitor.resume() == []


async def test_stop_cancels_what_is_not_sent(session_factory):
    async with session_factory() as s:
        admin = await make_citizens(s)
        b = await svc.start_broadcast(s, svc.Draft("halo"), svc.Audience(svc.AudienceKind.CITIZENS),
                                      actor=as_admin(admin), admin_ids=[])
        with pytest.raises(Refused):
            await svc.stop_broadcast(s, b.id, actor=Actor(citizen_id=1))
        cancelled = await svc.stop_broadcast(s, b.id, actor=as_admin(admin))
        assert cancelled == N + 1
        assert await svc.stop_broadcast(s, b.id, actor=as_admin(admin)) is None
        p = await svc.progress(s, await s.get(Broadcast, b.id))
        assert (p.cancelled, p.remaining) == (N + 1, 0)
        actions = (await s.scalars(select(AuditLog.action).order_by(AuditLog.id))).all()
        assert actions == ["broadcast", "broadcast_stop"]


async def test_officer_audiences_and_media(session_factory):
    async with session_factory() as s:
        admin = Citizen(telegram_id=9000)
        o1, o2, o3 = (Citizen(telegram_id=300 + i) for i in range(3))
        a1, a2 = Agency(name="Dinas A", kind="opd"), Agency(name="Dinas B", kind="opd")
        s.add_all([admin, o1, o2, o3, a1, a2])
        await s.flush()
        now = datetime.now(UTC)
        s.add_all([
            Officer(agency_id=a1.id, citizen_id=o1.id, bound_at=now),
            Officer(agency_id=a2.id, citizen_id=o1.id, bound_at=now),  # serves both: one copy
            Officer(agency_id=a2.id, citizen_id=o2.id, bound_at=now),
            Officer(agency_id=a2.id, citizen_id=o3.id, bound_at=now, revoked_at=now),
        ])
        await s.commit()
        def count(audience):
            return svc.count_recipients(s, audience, actor=COMMAND_LINE, admin_ids=[])

        assert await count(svc.Audience(svc.AudienceKind.OFFICERS)) == 2
        assert await count(svc.Audience(svc.AudienceKind.AGENCY, a1.id)) == 1
        draft = svc.Draft("<i>foto</i>", svc.MediaKind.PHOTO, "AgACAgIAAx0")
        b = await svc.start_broadcast(s, draft, svc.Audience(svc.AudienceKind.AGENCY, a2.id),
                                      actor=as_admin(admin), admin_ids=[9000])
        rows = (await s.scalars(select(Outbox).where(Outbox.group_key == svc.group_key(b.id)))).all()
        assert [(r.chat_id, r.method) for r in rows] == [(300, "sendPhoto"), (301, "sendPhoto")]
        assert rows[0].payload["photo"] == "AgACAgIAAx0" and rows[0].payload["caption"] == "<i>foto</i>"
        assert all(r.not_before is None for r in rows)  # quiet hours off for broadcasts by default
        with pytest.raises(svc.EmptyAudience):
            await svc.start_broadcast(s, draft, svc.Audience(svc.AudienceKind.AGENCY, 999_999),
                                      actor=as_admin(admin), admin_ids=[9000])


async def test_all_citizens_means_citizens_only(session_factory):
    """Officers and admins have citizen rows too; "all citizens" reaches neither, and the count
    the preview shows is the number of messages written (issue 14: 32 recipients, one citizen)."""
    async with session_factory() as s:
        now = datetime.now(UTC)
        admin = Citizen(telegram_id=9000, consent_at=now)
        citizen = Citizen(telegram_id=500, consent_at=now)
        officers = [Citizen(telegram_id=600 + i, consent_at=now) for i in range(30)]
        former = Citizen(telegram_id=700, consent_at=now)  # revoked: a citizen again
        agency = Agency(name="Dinas A", kind="opd")
        s.add_all([admin, citizen, former, agency, *officers])
        await s.flush()
        s.add_all([Officer(agency_id=agency.id, citizen_id=o.id, bound_at=now) for o in officers])
        s.add(Officer(agency_id=agency.id, citizen_id=former.id, bound_at=now, revoked_at=now))
        await s.commit()

        everyone = svc.Audience(svc.AudienceKind.CITIZENS)
        count = await svc.count_recipients(s, everyone, actor=COMMAND_LINE, admin_ids=[9000])
        assert count == 2
        b = await svc.start_broadcast(s, svc.Draft("halo"), everyone, actor=as_admin(admin), admin_ids=[9000])
        rows = (await s.scalars(select(Outbox).where(Outbox.group_key == svc.group_key(b.id)))).all()
        assert sorted(r.chat_id for r in rows) == [500, 700]
        assert b.total == count
        officers_only = svc.Audience(svc.AudienceKind.OFFICERS)
        assert await svc.count_recipients(s, officers_only, actor=COMMAND_LINE, admin_ids=[9000]) == 30


def test_quiet_hours_release():
    quiet = svc.QuietHours("Asia/Makassar", time(21), time(7))
    # 22:00 WITA = 14:00 UTC: held until 07:00 WITA the next day.
    assert quiet.release_at(datetime(2024, 5, 1, 14, tzinfo=UTC)) == datetime(2024, 5, 1, 23, tzinfo=UTC)
    # 03:00 WITA: until 07:00 the same day.
    assert quiet.release_at(datetime(2024, 5, 1, 19, tzinfo=UTC)) == datetime(2024, 5, 1, 23, tzinfo=UTC)
    assert quiet.release_at(datetime(2024, 5, 1, 4, tzinfo=UTC)) is None  # 12:00 WITA


def test_progress_eta_uses_speed_so_far():
    start = datetime(2024, 1, 1, tzinfo=UTC)
    p = svc.compute_progress({"sent": 90, "unreachable": 10, "pending": 200}, started_at=start,
                             now=start + timedelta(seconds=10), rate=25)
    assert (p.sent, p.blocked, p.remaining, p.total) == (90, 10, 200, 300)
    assert p.eta_seconds == 20  # 100 done in 10 s: 200 more take 20 s
    fresh = svc.compute_progress({"pending": 50}, started_at=start, now=start, rate=25)
    assert fresh.eta_seconds == 2 and not fresh.finished
