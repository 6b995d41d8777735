"""Health checks and metrics for whoever runs the bot: a process supervisor, a load balancer,
Prometheus.

- ``GET /healthz``: the process is alive and its event loop answers (no I/O: a liveness probe
  that restarts the process must not fire because the database is down).
- ``GET /readyz``: the database answers, the Bot API answered recently (or answers ``getMe``
  now) and the scheduler runs; 503 with the failing checks otherwise, so a load balancer sends
  updates elsewhere.
- ``GET /metrics``: Prometheus text format (``bot/metrics.py``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.workdays import WorkCalendar
from bot.metrics import Metrics
from bot.services.health import database_problem, snapshot

# The Bot API counts as reachable this long after it last answered any request.
TELEGRAM_FRESH_SECONDS = 60.0
# Data gauges are read at most this often, however often Prometheus (or several) scrape.
SNAPSHOT_TTL_SECONDS = 10.0


@dataclass
class OpsContext:
    session_factory: async_sessionmaker[AsyncSession]
    calendar: WorkCalendar
    metrics: Metrics
    # getMe, or anything that proves the Bot API answers; raises when it does not.
    ping_telegram: Callable[[], Awaitable[object]]
    scheduler_running: Callable[[], bool]
    clock: Callable[[], float] = time.monotonic
    _snapshot_at: float = field(default=float("-inf"))
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def telegram_problem(self) -> str | None:
        last = self.metrics.telegram_last_ok
        if last is not None and self.clock() - last < TELEGRAM_FRESH_SECONDS:
            return None
        try:
            await asyncio.wait_for(self.ping_telegram(), 5.0)
        except Exception as exc:
            return f"{type(exc).__name__}"
        return None

    async def refresh_gauges(self) -> None:
        async with self._lock:
            if self.clock() - self._snapshot_at < SNAPSHOT_TTL_SECONDS:
                return
            self.metrics.set_snapshot(await snapshot(self.session_factory, self.calendar))
            self._snapshot_at = self.clock()


OPS = web.AppKey("lapor_ops_context", OpsContext)


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    ctx = request.app[OPS]
    database, telegram = await asyncio.gather(database_problem(ctx.session_factory), ctx.telegram_problem())
    checks = {
        "database": database or "ok",
        "telegram": telegram or "ok",
        "scheduler": "ok" if ctx.scheduler_running() else "not running",
    }
    ready = all(v == "ok" for v in checks.values())
    return web.json_response({"status": "ready" if ready else "not ready", "checks": checks},
                             status=200 if ready else 503)


async def metrics(request: web.Request) -> web.Response:
    ctx = request.app[OPS]
    try:
        await ctx.refresh_gauges()
    except Exception:  # the counters are still worth serving while the database is away
        pass
    return web.Response(body=ctx.metrics.render(), headers={"Content-Type": ctx.metrics.content_type})


def install(app: web.Application, ctx: OpsContext) -> None:
    app[OPS] = ctx
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)


def build_ops_app(ctx: OpsContext) -> web.Application:
    app = web.Application()
    install(app, ctx)
    return app
