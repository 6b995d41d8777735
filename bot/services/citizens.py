"""Who is writing: the citizen row for a Telegram user, created on first contact."""

from __future__ import annotations

from datetime import datetime

from aiogram.types import User
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage import generation
from storage.base import utcnow
from storage.models import Citizen
from storage.repositories.citizens import CitizenRepo
from storage.repositories.outbox import OutboxRepo


async def touch_citizen(session: AsyncSession, user: User) -> Citizen:
    """Find or create the row by Telegram id alone, in its own commit.

    Nothing else about a newcomer is stored: the personal-data notice promises that, before
    consent, the bot keeps only what it needs to show the notice (see ``sync_profile``).
    Writing to us again proves the user unblocked the bot, so ``unreachable_at`` is cleared.
    """
    repo = CitizenRepo(session)
    citizen, seen = await repo.with_generation(user.id)
    # The process caches (who is an officer, the category tree) are good for what was read here.
    generation.seen(session, seen)
    if citizen is None:
        citizen = Citizen(telegram_id=user.id)
        try:
            await repo.add(citizen)
            await session.commit()
            return citizen
        except IntegrityError:  # created by a parallel update of the same user
            await session.rollback()
            citizen = await repo.by_telegram_id(user.id)
            assert citizen is not None
    if citizen.unreachable_at is not None:
        citizen.unreachable_at = None
        await session.commit()
    return citizen


def sync_profile(citizen: Citizen, user: User, *, keep: bool) -> bool:
    """Store the name and username Telegram shows us when ``keep`` (the citizen agreed to the
    notice, or is staff: officers and admins are named on cards and in /audit), else make sure
    none is stored (a newcomer, or a citizen who withdrew consent). True if anything changed;
    the caller commits."""
    before = (citizen.first_name, citizen.last_name, citizen.username)
    if keep:
        after = ((user.first_name or "")[:128] or None, (user.last_name or "")[:128] or None,
                 (user.username or "")[:64] or None)
    else:
        after = (None, None, None)
    if after == before:
        return False  # assigning even an equal value would make the ORM write the row
    citizen.first_name, citizen.last_name, citizen.username = after
    return True


async def set_language(session: AsyncSession, citizen: Citizen, language: str) -> None:
    citizen.language = language
    await session.commit()


async def give_consent(
    session: AsyncSession, citizen: Citizen, user: User | None = None, at: datetime | None = None
) -> None:
    """Consent given: from now on the profile Telegram shows us is kept (``sync_profile``)."""
    citizen.consent_at = at or utcnow()
    if user is not None:
        sync_profile(citizen, user, keep=True)
    await session.commit()


async def mark_unreachable(session: AsyncSession, telegram_id: int, now: datetime | None = None) -> None:
    """A direct reply answered 403 (the user blocked the bot): as the outbox does on a 403, the
    citizen is flagged and their queued messages are cancelled; writing to us again clears it."""
    await CitizenRepo(session).mark_unreachable(telegram_id, now or utcnow())
    await OutboxRepo(session).cancel_chat(telegram_id, reason="recipient unreachable")
    await session.commit()
