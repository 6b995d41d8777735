"""Closing the announcements' progress monitor (bot/services/broadcasts.py) at a stop: a refresh
under way finishes, one that hangs is cancelled, and no refresh starts after the close."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bot.services import broadcasts
from bot.services.broadcasts import BroadcastMonitor, Progress

NOTHING: Any = None  # the monitor's bot, database and notifier: the refresh is replaced


class SlowRefresh:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.started = asyncio.Event()
        self.finished = 0
        self.calls = 0

    async def __call__(self, broadcast_id: int) -> Progress:
        self.calls += 1
        self.started.set()
        await asyncio.sleep(self.seconds)  # e.g. opening its database connection
        self.finished += 1
        return Progress(10, 5, 0, 0, 0, 0, None)


def monitor_with(refresh: SlowRefresh) -> BroadcastMonitor:
    monitor = BroadcastMonitor(NOTHING, NOTHING, NOTHING, interval=0.01)
    monitor.refresh = refresh  # type: ignore[method-assign]
    return monitor


async def test_close_lets_a_refresh_under_way_finish_and_starts_no_other():
    refresh = SlowRefresh(0.2)
    monitor = monitor_with(refresh)
    task = monitor.watch(1)
    await refresh.started.wait()
    await monitor.close()
    assert task.done() and not task.cancelled()
    assert (refresh.calls, refresh.finished) == (1, 1)


async def test_close_cancels_a_refresh_that_does_not_end(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(broadcasts, "CLOSE_WAIT", 0.05)
    refresh = SlowRefresh(3600)
    monitor = monitor_with(refresh)
    task = monitor.watch(1)
    await refresh.started.wait()
    await asyncio.wait_for(monitor.close(), timeout=5)
    assert task.cancelled()
    assert refresh.finished == 0
