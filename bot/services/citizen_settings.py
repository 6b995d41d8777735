"""A citizen's own settings (/pengaturan): announcements on or off, and report updates at once or
in a daily digest. The deployment's ``[notifications] citizen_mode`` is the default until the
citizen chooses; their choice wins (``notification_policy.effective_mode``). The language is the
one /bahasa sets (``citizens.set_language``), offered on the same screen.

Who may is ``bot.domain.access.may_change_settings``: a citizen on their own row, after consent.
Each change commits here. Setting a value it already has changes nothing, so a double tap or an
old button is harmless.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.access import Actor, ensure_may_change_settings
from bot.domain.enums import UpdateMode
from bot.services.notification_policy import effective_mode
from storage.models import Citizen


@dataclass(frozen=True)
class CitizenSettings:
    announcements: bool
    mode: UpdateMode
    # False: ``mode`` is the deployment's default, not the citizen's choice.
    mode_chosen: bool
    # Consent given: the announcement and update switches apply (before it only the language).
    switches: bool


def of(citizen: Citizen, default_mode: str) -> CitizenSettings:
    return CitizenSettings(
        announcements=citizen.announcements_off_at is None,
        mode=effective_mode(citizen.update_mode, default_mode),
        mode_chosen=citizen.update_mode is not None,
        switches=citizen.consent_at is not None,
    )


async def set_announcements(
    session: AsyncSession, actor: Actor, citizen: Citizen, on: bool, *, now: datetime,
) -> bool:
    """Announcements on or off; True if that changed anything. Off takes effect for every
    announcement started from now on (``BroadcastRepo.citizens_only`` leaves them out, and so
    the admin's preview count); one already being sent keeps its recipients."""
    ensure_may_change_settings(actor, citizen.id, consented=citizen.consent_at is not None)
    if on == (citizen.announcements_off_at is None):
        return False
    citizen.announcements_off_at = None if on else now
    await session.commit()
    return True


async def set_update_mode(session: AsyncSession, actor: Actor, citizen: Citizen, mode: UpdateMode) -> bool:
    """Immediate updates or a daily digest; True if that changed anything. The choice is kept
    even when it equals today's default, so a later change of the deployment's default does not
    overrule it. Updates already held for a digest still go out with the next digest."""
    ensure_may_change_settings(actor, citizen.id, consented=citizen.consent_at is not None)
    if citizen.update_mode == mode.value:
        return False
    citizen.update_mode = mode.value
    await session.commit()
    return True


def forget(citizen: Citizen) -> None:
    """Back to the defaults: consent withdrawn or identity erased (the caller commits)."""
    citizen.announcements_off_at = None
    citizen.update_mode = None
