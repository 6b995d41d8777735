"""Who is acting: admins come from the config, officers from the officer table (casework)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.access import Actor
from storage.models import Citizen
from storage.repositories.agencies import AgencyRepo
from storage.repositories.officers import OfficerRepo


async def resolve_actor(session: AsyncSession, citizen: Citizen, admin_ids: list[int]) -> Actor:
    # Read on every update, so a revoked officer loses access with their very next tap.
    agency_ids = await OfficerRepo(session).active_agency_ids(citizen.id)
    # A kecamatan's officers oversee its kelurahan and desa (a query only for officers).
    overseen = await AgencyRepo(session).village_ids_under(agency_ids) if agency_ids else set()
    return Actor(
        citizen_id=citizen.id,
        telegram_id=citizen.telegram_id,
        is_admin=citizen.telegram_id in admin_ids,
        agency_ids=frozenset(agency_ids),
        overseen_agency_ids=frozenset(overseen),
    )
