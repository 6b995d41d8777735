"""The audit trail: every admin action is recorded with who, what and when.

``record`` only adds the row; it commits with the caller's transaction, so an action and its
audit entry are written together or not at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditLog, Citizen


class AuditAction:
    # Plain strings (the column is a string); constants so callers cannot misspell them.
    ASSIGN = "assign"
    REJECT = "reject"
    BROADCAST = "broadcast"
    BROADCAST_STOP = "broadcast_stop"
    INVITE = "invite"
    REVOKE = "revoke"
    EXPORT = "export"
    CATEGORIZE = "categorize"
    LAPOR_ID = "lapor_id"
    APIKEY_CREATE = "apikey_create"
    APIKEY_REVOKE = "apikey_revoke"


async def record(
    session: AsyncSession,
    actor: Citizen | None,
    action: str,
    target: str | None = None,
    detail: Mapping[str, Any] | None = None,
) -> AuditLog:
    """Add an audit entry (``actor`` None: the command line). Flushes, never commits."""
    entry = AuditLog(
        actor_citizen_id=actor.id if actor is not None else None,
        actor_telegram_id=actor.telegram_id if actor is not None else None,
        action=action,
        target=target,
        detail=dict(detail or {}),
    )
    session.add(entry)
    await session.flush()
    return entry


async def latest(session: AsyncSession, limit: int = 20) -> list[tuple[AuditLog, Citizen | None]]:
    """The newest entries first, each with its actor's citizen row when there is one."""
    rows = await session.execute(
        select(AuditLog, Citizen)
        .outerjoin(Citizen, Citizen.id == AuditLog.actor_citizen_id)
        .order_by(AuditLog.created_at.desc(), AuditLog.id.desc())
        .limit(limit)
    )
    return [(log, citizen) for log, citizen in rows.all()]
