"""Health checks and metrics as an operator's probes see them (bot/web/ops.py): liveness without
I/O, readiness that names the failing check, and metrics that count real updates and read the
backlog from the database."""

from __future__ import annotations

import re
from dataclasses import replace

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from bot.app import ops_context
from bot.web.ops import OpsContext, build_ops_app
from storage.models import Outbox
from tests.handlers.harness import Harness
from tests.web.helpers import WEB, add_report, world


def _client(ctx: OpsContext) -> TestClient:
    return TestClient(TestServer(build_ops_app(ctx)))


def _sample(text: str, name: str, **labels: str) -> float | None:
    """The value of one sample in Prometheus text format, or None when absent."""
    for line in text.splitlines():
        m = re.fullmatch(rf"{name}(?:\{{(.*)\}})? (\S+)", line)
        if m is None:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1) or ""))
        if found == labels:
            return float(m.group(2))
    return None


async def test_metrics_count_updates_and_read_the_backlog(tmp_path):
    async with Harness.create(tmp_path, **WEB) as h:
        ids = await world(h)
        await add_report(h, ids, status="submitted", verified=False, days_ago=30)  # verification overdue
        await add_report(h, ids, status="assigned")
        async with h.app.session_factory() as s:
            s.add(Outbox(chat_id=42, method="sendMessage", payload={"text": "x"}))
            await s.commit()
        citizen = h.user(777)
        await h.send(citizen, "/start")
        await h.send(citizen, "/start")
        async with _client(ops_context(h.app)) as c:
            resp = await c.get("/metrics")
            text = await resp.text()
        assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/plain")
        assert _sample(text, "lapor_updates_total", type="message", outcome="handled") == 2
        assert _sample(text, "lapor_update_handling_seconds_count", type="message") == 2
        assert _sample(text, "lapor_reports_open", status="submitted") == 1
        assert _sample(text, "lapor_reports_open", status="assigned") == 1
        assert _sample(text, "lapor_reports_overdue") == 1
        # The welcome went out directly; the queued row waits in the outbox.
        assert _sample(text, "lapor_outbox_pending") >= 1
        assert _sample(text, "lapor_outbox_oldest_pending_age_seconds") >= 0


async def test_readyz_names_each_failing_check(tmp_path):
    async with Harness.create(tmp_path) as h:
        base = ops_context(h.app)
        async with _client(base) as c:  # the harness starts no scheduler
            resp = await c.get("/readyz")
            body = await resp.json()
        assert resp.status == 503
        assert body["checks"] == {"database": "ok", "telegram": "ok", "scheduler": "not running"}

        running = replace(base, scheduler_running=lambda: True)
        async with _client(running) as c:
            resp = await c.get("/readyz")
            assert resp.status == 200 and (await resp.json())["status"] == "ready"

        async def unreachable() -> None:
            raise ConnectionError("no route to api.telegram.org")

        h.app.metrics.telegram_last_ok = None
        missing = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'no' / 'such' / 'dir.db'}")
        broken = replace(running, ping_telegram=unreachable, session_factory=async_sessionmaker(missing))
        try:
            async with _client(broken) as c:
                resp = await c.get("/readyz")
                body = await resp.json()
                # Liveness does no I/O: the process is alive though nothing it needs is.
                assert (await c.get("/healthz")).status == 200
                # Metrics still serve the counters while the database is away.
                assert (await c.get("/metrics")).status == 200
        finally:
            await missing.dispose()
        assert resp.status == 503
        assert body["checks"]["telegram"] == "ConnectionError"
        assert body["checks"]["database"].startswith("OperationalError")


async def test_a_recent_answer_from_the_bot_api_spares_a_get_me(tmp_path):
    async with Harness.create(tmp_path) as h:
        calls = []

        async def ping() -> None:
            calls.append(1)

        ctx = replace(ops_context(h.app), ping_telegram=ping, scheduler_running=lambda: True)
        h.app.metrics.telegram_last_ok = ctx.clock()
        assert await ctx.telegram_problem() is None and calls == []
        h.app.metrics.telegram_last_ok = ctx.clock() - 3600
        assert await ctx.telegram_problem() is None and calls == [1]
