"""Role filters for routers: ``router.message.filter(IsAdmin())``.

They read ``roles`` that the middleware resolved from the database for this very update, so a
revoked officer or a removed admin is turned away at once. They only route: services check the
role again, because a filter is easy to leave off and callback data can be forged.
"""

from __future__ import annotations

from typing import Any

from aiogram.filters import Filter
from aiogram.types import TelegramObject

from bot.services.roles import Roles


class IsAdmin(Filter):
    async def __call__(self, event: TelegramObject, roles: Roles | None = None, **_: Any) -> bool:
        return roles is not None and roles.is_admin


class IsOfficer(Filter):
    async def __call__(self, event: TelegramObject, roles: Roles | None = None, **_: Any) -> bool:
        return roles is not None and roles.is_officer
