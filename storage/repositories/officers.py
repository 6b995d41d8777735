"""Officers, invites and failed invite attempts. Adds, flushes and queries; never commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models.agency import Agency
from storage.models.citizen import Citizen
from storage.models.officer import InviteFailure, Officer, OfficerInvite


class OfficerRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # -- officers ------------------------------------------------------------------------
    async def get(self, officer_id: int) -> Officer | None:
        return await self.session.get(Officer, officer_id)

    async def binding(self, agency_id: int, citizen_id: int) -> Officer | None:
        return await self.session.scalar(
            select(Officer).where(Officer.agency_id == agency_id, Officer.citizen_id == citizen_id)
        )

    async def add(self, officer: Officer) -> Officer:
        self.session.add(officer)
        await self.session.flush()
        return officer

    async def active_agency_ids(self, citizen_id: int) -> set[int]:
        rows = await self.session.scalars(
            select(Officer.agency_id).where(
                Officer.citizen_id == citizen_id, Officer.revoked_at.is_(None)
            )
        )
        return set(rows)

    async def active_with_people(
        self, agency_id: int | None = None
    ) -> Sequence[tuple[Officer, Citizen, Agency]]:
        """Active officers with their person and agency, by agency name then binding time."""
        query = (
            select(Officer, Citizen, Agency)
            .join(Citizen, Citizen.id == Officer.citizen_id)
            .join(Agency, Agency.id == Officer.agency_id)
            .where(Officer.revoked_at.is_(None))
            .order_by(Agency.name, Officer.bound_at, Officer.id)
        )
        if agency_id is not None:
            query = query.where(Officer.agency_id == agency_id)
        return [tuple(row) for row in (await self.session.execute(query)).all()]

    async def active_chat_ids(self, agency_id: int) -> list[int]:
        """Telegram ids of the agency's active officers: where its notifications go."""
        rows = await self.session.scalars(
            select(Citizen.telegram_id)
            .join(Officer, Officer.citizen_id == Citizen.id)
            .where(Officer.agency_id == agency_id, Officer.revoked_at.is_(None))
            .order_by(Officer.id)
        )
        return list(rows)

    # -- invites -------------------------------------------------------------------------
    async def add_invite(self, invite: OfficerInvite) -> OfficerInvite:
        self.session.add(invite)
        await self.session.flush()
        return invite

    async def invite_by_hash(self, code_hash: str) -> OfficerInvite | None:
        # populate_existing: claim_invite updates rows behind the identity map's back.
        return await self.session.scalar(
            select(OfficerInvite)
            .where(OfficerInvite.code_hash == code_hash)
            .execution_options(populate_existing=True)
        )

    async def claim_invite(self, invite_id: int, citizen_id: int, now: datetime) -> bool:
        """Mark the invite used, unless someone else got there first (two taps, two people).

        A conditional UPDATE rather than read-then-write, so only one of two concurrent
        redemptions sees a row changed.
        """
        result = await self.session.execute(
            update(OfficerInvite)
            .where(
                OfficerInvite.id == invite_id,
                OfficerInvite.used_at.is_(None),
                OfficerInvite.expires_at > now,
            )
            .values(used_at=now, used_by_id=citizen_id)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount == 1

    # -- failures (rate limit) -----------------------------------------------------------
    async def add_failure(self, telegram_id: int, at: datetime, reason: str) -> None:
        self.session.add(InviteFailure(telegram_id=telegram_id, at=at, reason=reason))
        await self.session.flush()

    async def count_failures(self, telegram_id: int, since: datetime) -> int:
        return await self.session.scalar(
            select(func.count())
            .select_from(InviteFailure)
            .where(InviteFailure.telegram_id == telegram_id, InviteFailure.at >= since)
        ) or 0
