"""Webhook targets and deliveries. Adds, flushes and queries; never commits."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import WebhookDelivery, WebhookTarget

PENDING, SENDING, DELIVERED, FAILED = "pending", "sending", "delivered", "failed"


class WebhookRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def targets(self) -> Sequence[WebhookTarget]:
        return (await self.session.scalars(select(WebhookTarget).order_by(WebhookTarget.name))).all()

    async def active_targets_for(self, event: str) -> list[WebhookTarget]:
        rows = await self.session.scalars(select(WebhookTarget).where(WebhookTarget.active))
        return [t for t in rows if event in (t.events or [])]

    async def add_deliveries(self, rows: Iterable[WebhookDelivery]) -> None:
        self.session.add_all(list(rows))
        await self.session.flush()

    async def claim_due(self, now: datetime, limit: int, lease: timedelta) -> list[WebhookDelivery]:
        """Lease up to ``limit`` due deliveries, oldest first (see OutboxRepo.claim_due)."""
        due = or_(
            WebhookDelivery.status == PENDING,
            and_(WebhookDelivery.status == SENDING, WebhookDelivery.claimed_until <= now),
        )
        stmt = (
            select(WebhookDelivery)
            .where(due, WebhookDelivery.next_attempt_at <= now)
            .order_by(WebhookDelivery.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .execution_options(populate_existing=True)
        )
        rows = list((await self.session.scalars(stmt)).all())
        for row in rows:
            row.status = SENDING
            row.claimed_until = now + lease
        await self.session.flush()
        return rows

    async def record(self, delivery_id: int, **values: Any) -> None:
        await self.session.execute(
            update(WebhookDelivery).where(WebhookDelivery.id == delivery_id).values(claimed_until=None, **values)
        )

    async def latest(self, limit: int = 50, target: str | None = None) -> Sequence[WebhookDelivery]:
        stmt = select(WebhookDelivery).order_by(WebhookDelivery.id.desc()).limit(limit)
        if target is not None:
            stmt = stmt.where(WebhookDelivery.target == target)
        return (await self.session.scalars(stmt)).all()
