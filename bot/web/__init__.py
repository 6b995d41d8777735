"""The web side: the public status page, the transparency page and the Open311 API.

``install`` adds the routes to an aiohttp application, so they can share one server with other
routes (the Telegram webhook, health checks); ``build_web_app`` makes an application of their
own (``lapor-bot web``). Both take a ``WebContext``: what the handlers need, built once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiogram.utils.i18n import I18n
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.domain.workdays import WorkCalendar
from bot.services.casework.core import Casework
from bot.services.statistics import StatsCache

# Open311 POST bodies are a few fields; nothing larger is read.
MAX_BODY = 64 * 1024


@dataclass
class WebContext:
    settings: Settings
    session_factory: async_sessionmaker[AsyncSession]
    calendar: WorkCalendar
    i18n: I18n
    # For a report filed through the Open311 API: the admins hear of it (or it is auto-assigned).
    casework: Casework
    # The year's figures counted per month, shared with /statistik when the bot serves the pages.
    stats_cache: StatsCache = field(default_factory=StatsCache)
    clock: Callable[[], float] = time.monotonic
    # Small results worth keeping a few minutes (a year's statistics, its chart): a public page
    # must not let anyone make the server recompute them on every request.
    _cache: dict[Any, tuple[float, Any]] = field(default_factory=dict)

    async def cached(self, key: Any, ttl: float, make: Callable[[], Any]) -> Any:
        now = self.clock()
        hit = self._cache.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        value = await make()
        if len(self._cache) > 256:  # a bound, not a policy: years and languages are few
            self._cache.clear()
        self._cache[key] = (now + ttl, value)
        return value


CONTEXT = web.AppKey("lapor_web_context", WebContext)


def install(app: web.Application, ctx: WebContext) -> None:
    """Add the public pages and the Open311 API to ``app`` (before it starts)."""
    from bot.web import open311, public

    app[CONTEXT] = ctx
    public.setup(app)
    open311.setup(app)


def build_web_app(ctx: WebContext) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY)
    install(app, ctx)
    return app
