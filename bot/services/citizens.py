"""Who is writing: the citizen row for a Telegram user, created on first contact."""

from __future__ import annotations

from datetime import datetime

from aiogram.types import User
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.base import utcnow
from storage.models import Citizen
from storage.repositories.citizens import CitizenRepo


async def touch_citizen(session: AsyncSession, user: User) -> Citizen:
    """Find or create the row and refresh the profile Telegram shows us, in its own commit.

    Writing to us again proves the user unblocked the bot, so ``unreachable_at`` is cleared.
    """
    repo = CitizenRepo(session)
    citizen = await repo.by_telegram_id(user.id)
    if citizen is None:
        citizen = Citizen(telegram_id=user.id)
        try:
            await repo.add(_refresh(citizen, user))
            await session.commit()
            return citizen
        except IntegrityError:  # created by a parallel update of the same user
            await session.rollback()
            citizen = await repo.by_telegram_id(user.id)
            assert citizen is not None
    before = (citizen.first_name, citizen.last_name, citizen.username, citizen.unreachable_at)
    _refresh(citizen, user)
    if before != (citizen.first_name, citizen.last_name, citizen.username, None):
        await session.commit()
    return citizen


def _refresh(citizen: Citizen, user: User) -> Citizen:
    citizen.first_name = (user.first_name or "")[:128] or None
    citizen.last_name = (user.last_name or "")[:128] or None
    citizen.username = (user.username or "")[:64] or None
    citizen.unreachable_at = None
    return citizen


async def set_language(session: AsyncSession, citizen: Citizen, language: str) -> None:
    citizen.language = language
    await session.commit()


async def give_consent(session: AsyncSession, citizen: Citizen, at: datetime | None = None) -> None:
    citizen.consent_at = at or utcnow()
    await session.commit()
