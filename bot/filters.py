"""Role filters for the audience routers (``handlers/__init__.py``): the parent router of an
audience carries one, for messages and callback queries alike.

They ask ``bot.domain.access`` about the ``actor`` the middleware read from the database for this
very update, so a revoked officer or a removed admin is turned away at once. They only route:
services ask the access rules again, because callback data can be forged.
"""

from __future__ import annotations

from typing import Any

from aiogram.filters import Filter
from aiogram.types import TelegramObject

from bot.domain import access
from bot.domain.access import Action, Actor


class IsAdmin(Filter):
    async def __call__(self, event: TelegramObject, actor: Actor | None = None, **_: Any) -> bool:
        return actor is not None and access.allows(actor, Action.ADMINISTER)


class IsOfficer(Filter):
    async def __call__(self, event: TelegramObject, actor: Actor | None = None, **_: Any) -> bool:
        return actor is not None and access.allows(actor, Action.WORK_INBOX)
