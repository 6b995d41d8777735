"""Broadcast rows and their audiences. Adds, flushes and queries; never commits."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Broadcast, Citizen, Officer, Report

SENDING = "sending"


def wants_announcements() -> ColumnElement[bool]:
    """A citizen an announcement may reach: agreed to the notice, has not blocked the bot and
    has not switched announcements off (/pengaturan). Every citizens' audience starts here."""
    return and_(Citizen.consent_at.is_not(None), Citizen.unreachable_at.is_(None),
                Citizen.announcements_off_at.is_(None))


class BroadcastRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, broadcast: Broadcast) -> Broadcast:
        self.session.add(broadcast)
        await self.session.flush()
        return broadcast

    async def get(self, broadcast_id: int) -> Broadcast | None:
        return await self.session.get(Broadcast, broadcast_id, populate_existing=True)

    async def recent(self, limit: int = 10) -> Sequence[Broadcast]:
        return (
            await self.session.scalars(
                select(Broadcast).order_by(Broadcast.id.desc()).limit(limit)
            )
        ).all()

    async def still_sending(self) -> Sequence[Broadcast]:
        return (
            await self.session.scalars(
                select(Broadcast).where(Broadcast.status == SENDING).order_by(Broadcast.id)
            )
        ).all()

    async def set_progress_message(self, broadcast_id: int, chat_id: int, message_id: int) -> None:
        await self.session.execute(
            update(Broadcast)
            .where(Broadcast.id == broadcast_id)
            .values(progress_chat_id=chat_id, progress_message_id=message_id)
        )

    async def finish(self, broadcast_id: int, status: str, now: datetime) -> bool:
        """Move a still-sending broadcast to ``status``; False when it had already ended."""
        result = await self.session.execute(
            update(Broadcast)
            .where(Broadcast.id == broadcast_id, Broadcast.status == SENDING)
            .values(status=status, finished_at=now)
        )
        return bool(result.rowcount)

    # -- audiences: (citizen_id, telegram_id), people who blocked the bot left out ------------
    async def citizens_only(
        self, admin_telegram_ids: Collection[int], *, concerning: Collection[int] | None = None,
    ) -> list[tuple[int, int]]:
        """People who want announcements (``wants_announcements``) and are neither an active
        liaison officer nor one of ``admin_telegram_ids``: officers and admins have citizen rows
        too (everyone who talks to the bot does), but "all citizens" must not reach the staff.
        ``concerning``: only those with a report held by, or addressed to, one of these agencies
        (an area's citizens)."""
        active_officer = (
            select(Officer.id)
            .where(Officer.citizen_id == Citizen.id, Officer.revoked_at.is_(None))
            .exists()
        )
        query = (
            select(Citizen.id, Citizen.telegram_id)
            .where(wants_announcements(), ~active_officer)
            .order_by(Citizen.id)
        )
        if admin_telegram_ids:
            query = query.where(Citizen.telegram_id.not_in(list(admin_telegram_ids)))
        if concerning is not None:
            ids = list(concerning)
            query = query.where(
                select(Report.id)
                .where(Report.citizen_id == Citizen.id,
                       or_(Report.agency_id.in_(ids), Report.requested_agency_id.in_(ids)))
                .exists()
            )
        return [(cid, tid) for cid, tid in (await self.session.execute(query)).all()]

    async def active_officers(self, agency_id: int | None = None) -> list[tuple[int, int]]:
        query = (
            select(Citizen.id, Citizen.telegram_id)
            .join(Officer, Officer.citizen_id == Citizen.id)
            .where(Officer.revoked_at.is_(None), Citizen.unreachable_at.is_(None))
            .distinct()
            .order_by(Citizen.id)
        )
        if agency_id is not None:
            query = query.where(Officer.agency_id == agency_id)
        return [(cid, tid) for cid, tid in (await self.session.execute(query)).all()]
