"""Who may do what. Admins come from the config; officers from the officer table (casework)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Citizen
from storage.repositories.officers import OfficerRepo


@dataclass(frozen=True)
class Roles:
    is_admin: bool = False
    # Agencies this user is an active liaison officer of.
    agency_ids: frozenset[int] = field(default_factory=frozenset)

    @property
    def is_officer(self) -> bool:
        return bool(self.agency_ids)


async def resolve_roles(session: AsyncSession, citizen: Citizen, admin_ids: list[int]) -> Roles:
    # Read on every update, so a revoked officer loses access with their very next tap.
    agency_ids = await OfficerRepo(session).active_agency_ids(citizen.id)
    return Roles(is_admin=citizen.telegram_id in admin_ids, agency_ids=frozenset(agency_ids))
