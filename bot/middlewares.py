"""Per-update injection: the sender's citizen row, who they are as an ``Actor`` (admin? officer
of which agencies?), the locale. The update's database session comes from ``bot.unit_of_work``.

Handlers receive them as keyword arguments (see ``HandlerData``). Business work stays in the
services; the only writes here are the citizen upsert every later step depends on, and the profile
it may keep (nothing but the Telegram id before consent, see ``sync_profile``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypedDict

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, User
from aiogram.utils.i18n import I18n, I18nMiddleware
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.domain.access import Actor
from bot.i18n import pick_language
from bot.services.casework.core import Casework
from bot.services.citizens import sync_profile, touch_citizen
from bot.services.ports import Notifier
from bot.services.roles import resolve_actor
from bot.services.statistics import StatsCache
from storage.models import Citizen

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class HandlerData(TypedDict, total=False):
    """What a handler may ask for by argument name."""

    settings: Settings
    session_factory: async_sessionmaker[AsyncSession]
    notifier: Notifier
    casework: Casework
    stats_cache: StatsCache
    session: AsyncSession
    citizen: Citizen
    actor: Actor  # who acts: their citizen row, admin or not, the agencies they serve
    locale: str


class CitizenMiddleware(BaseMiddleware):
    """Loads (or creates) the sender's row, and who they are as an ``Actor``."""

    def __init__(self, admin_ids: list[int]) -> None:
        self.admin_ids = admin_ids

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        if user is None or user.is_bot:
            return await handler(event, data)
        session: AsyncSession = data["session"]
        citizen = await touch_citizen(session, user)
        actor = await resolve_actor(session, citizen, self.admin_ids)
        keep = citizen.consent_at is not None or actor.is_admin or actor.is_officer
        if sync_profile(citizen, user, keep=keep):
            await session.commit()
        data["citizen"] = citizen
        data["actor"] = actor
        return await handler(event, data)


class CitizenI18nMiddleware(I18nMiddleware):
    """The citizen's chosen language, else the configured default."""

    def __init__(self, i18n: I18n, default_language: str) -> None:
        super().__init__(i18n)
        self.default_language = default_language

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        citizen: Citizen | None = data.get("citizen")
        locale = pick_language(citizen.language if citizen else None, self.default_language)
        data["locale"] = locale
        return locale
