"""/statistik answers with its figures before the chart: a chart that fails leaves the figures
sent and the update done (not handled again), and /statistik keeps working; twice in a row
gives two answers."""

from __future__ import annotations

from aiogram.methods import SendMessage, SendPhoto

from handlers import admin_stats
from tests.handlers.harness import Harness

ADMIN_ID = 9000


async def test_a_failed_chart_leaves_the_figures(tmp_path, monkeypatch):
    async def broken(stats):
        raise RuntimeError("the worker died twice")

    monkeypatch.setattr(admin_stats, "statistics_png", broken)
    async with Harness.create(tmp_path) as h:
        admin = h.user(ADMIN_ID, "Admin")
        for _ in range(2):
            mark = h.mark()
            await h.send(admin, "/statistik")
            sent = h.since(mark)
            assert [type(r) for r in sent] == [SendMessage] and "Statistik" in sent[0].text


async def test_statistics_twice_answers_twice(tmp_path):
    async with Harness.create(tmp_path) as h:
        admin = h.user(ADMIN_ID, "Admin")
        mark = h.mark()
        await h.send(admin, "/statistik")
        await h.send(admin, "/statistik")
        assert [type(r) for r in h.since(mark)] == [SendMessage, SendPhoto] * 2
