"""Who is acting: admins come from the config, officers from the officer table (casework)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.access import Actor
from storage import generation
from storage.models import Citizen
from storage.repositories.agencies import AgencyRepo
from storage.repositories.officers import OfficerRepo


async def resolve_actor(session: AsyncSession, citizen: Citizen, admin_ids: list[int]) -> Actor:
    # Checked on every update, so a revoked officer loses access with their very next tap: from
    # the process cache while the generation this update read with its citizen is the cache's
    # (any change to the officers or the agencies moves it), else from the database.
    cache = generation.cache(session, "officer_agencies")
    known = cache.get(citizen.id) if cache is not None else None
    if known is None:
        agency_ids = frozenset(await OfficerRepo(session).active_agency_ids(citizen.id))
        # A kecamatan's officers oversee its kelurahan and desa (a query only for officers).
        overseen = frozenset(await AgencyRepo(session).village_ids_under(agency_ids) if agency_ids else ())
        known = (agency_ids, overseen)
        if cache is not None:
            cache[citizen.id] = known
    agency_ids, overseen = known
    return Actor(
        citizen_id=citizen.id,
        telegram_id=citizen.telegram_id,
        is_admin=citizen.telegram_id in admin_ids,
        agency_ids=agency_ids,
        overseen_agency_ids=overseen,
    )
