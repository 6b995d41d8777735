"""Quiet hours, digest slots and the scheduler's triggers: pure time arithmetic in WITA."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest

from bot.i18n import build_i18n
from bot.jobs.digest import latest_slot
from bot.scheduler import build_scheduler
from bot.services.notification_policy import (
    RecipientKind,
    digest_run_key,
    in_quiet_hours,
    next_digest_at,
    not_before,
    quiet_until,
)
from tests.schedule_fixtures import WITA, job_context, make_calendar, make_settings, wita

D = date(2024, 5, 20)


@pytest.mark.parametrize(
    ("local", "quiet"),
    [(time(20, 59), False), (time(21), True), (time(23, 30), True), (time(0), True),
     (time(6, 59), True), (time(7), False), (time(12), False)],
)
def test_quiet_window_spans_midnight(local, quiet):
    assert in_quiet_hours(local, time(21), time(7)) is quiet


def test_quiet_window_within_one_day_and_disabled():
    assert in_quiet_hours(time(13, 30), time(13), time(14)) is True
    assert in_quiet_hours(time(14), time(13), time(14)) is False
    assert in_quiet_hours(time(3), time(7), time(7)) is False


def test_change_at_22_wita_waits_until_07_next_morning():
    n = make_settings().notifications
    assert quiet_until(wita(D, 22), n, WITA) == wita(date(2024, 5, 21), 7)


def test_change_after_midnight_waits_until_07_same_morning():
    n = make_settings().notifications
    assert quiet_until(wita(D, 2, 15), n, WITA) == wita(D, 7)


def test_daytime_change_goes_at_once():
    n = make_settings().notifications
    assert quiet_until(wita(D, 12), n, WITA) is None
    assert quiet_until(wita(D, 7), n, WITA) is None


def test_only_citizens_get_quiet_hours_unless_broadcasts_opt_in():
    late = wita(D, 23)
    n = make_settings().notifications
    assert not_before(late, RecipientKind.CITIZEN, n, WITA) == wita(date(2024, 5, 21), 7)
    assert not_before(late, RecipientKind.OFFICER, n, WITA) is None
    assert not_before(late, RecipientKind.ADMIN, n, WITA) is None
    assert not_before(late, RecipientKind.BROADCAST, n, WITA) is None
    opted = make_settings(quiet_hours_for_broadcasts=True).notifications
    assert not_before(late, RecipientKind.BROADCAST, opted, WITA) == wita(date(2024, 5, 21), 7)


def test_naive_now_is_refused():
    with pytest.raises(ValueError):
        quiet_until(datetime(2024, 5, 20, 22), make_settings().notifications, WITA)


def test_digest_slots():
    settings = make_settings(citizen_mode="digest")
    cal = make_calendar(settings)
    n = settings.notifications
    assert next_digest_at(wita(D, 8, 59), n, WITA) == wita(D, 9)
    assert next_digest_at(wita(D, 9), n, WITA) == wita(D, 16)
    assert next_digest_at(wita(D, 16, 1), n, WITA) == wita(date(2024, 5, 21), 9)
    assert latest_slot(wita(D, 9), settings, cal) == wita(D, 9)
    assert latest_slot(wita(D, 15, 59), settings, cal) == wita(D, 9)
    assert latest_slot(wita(D, 8), settings, cal) == wita(date(2024, 5, 19), 16)
    assert digest_run_key(wita(D, 16), WITA) == "2024-05-20T16:00"


async def test_scheduler_uses_memory_store_and_local_cron_times():
    settings = make_settings(weekly_summary_weekday=4)
    scheduler = build_scheduler(job_context(None, settings, build_i18n(), wita(D)))
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {
        "send_digests@09:00", "send_digests@16:00", "auto_close@07:00", "remind_officers@08:00",
        "escalate_overdue@08:30", "send_checkins@10:00", "send_weekly_summary@08:00", "catch_up",
        "purge_expired@03:00",
    }
    assert [type(s).__name__ for s in scheduler._jobstores.values()] == ["MemoryJobStore"]
    # Next fire times, seen from Saturday 18 May 2024 noon WITA.
    sat = datetime(2024, 5, 18, 12, tzinfo=WITA)
    fire = {k: j.trigger.get_next_fire_time(None, sat) for k, j in jobs.items() if k != "catch_up"}
    assert fire["remind_officers@08:00"] == datetime(2024, 5, 20, 8, tzinfo=WITA)
    assert fire["escalate_overdue@08:30"] == datetime(2024, 5, 20, 8, 30, tzinfo=WITA)
    assert fire["send_digests@16:00"] == datetime(2024, 5, 18, 16, tzinfo=WITA)
    assert fire["auto_close@07:00"] == datetime(2024, 5, 19, 7, tzinfo=WITA)
    assert fire["send_weekly_summary@08:00"] == datetime(2024, 5, 24, 8, tzinfo=WITA)


async def test_the_app_starts_and_stops_the_scheduler(tmp_path):
    from bot.app import build_app
    from bot.config import Settings
    from storage.base import Base
    from tests.schedule_fixtures import TOKEN

    settings = Settings(telegram={"token": TOKEN}, database={"url": f"sqlite+aiosqlite:///{tmp_path / 'a.db'}"})
    app = build_app(settings)
    try:
        async with app.engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
        await app.start_background()
        scheduler = app.scheduler
        assert scheduler is not None and scheduler.running
        assert "catch_up" in {job.id for job in scheduler.get_jobs()}
        # The running year's statistics are counted ahead (bot.services.statistics.warm_statistics);
        # stopping within its delay ends it at once.
        warming = next(t for t in app._tasks if t.get_name() == "warm-statistics")
        await app.stop_background()
        assert app.scheduler is None and not scheduler.running
        assert warming.done() and not warming.cancelled() and app.dp["stats_cache"].months_kept() == 0
    finally:
        await app.close()
