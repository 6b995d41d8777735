"""The audit trail: every admin action is recorded with who, what and when.

``record`` only adds the row; it commits with the caller's transaction, so an action and its
audit entry are written together or not at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import access
from bot.domain.access import Action, Actor
from storage.models import AuditLog, Citizen
from storage.repositories.audit import AuditRepo


class AuditAction:
    # Plain strings (the column is a string); constants so callers cannot misspell them.
    ASSIGN = "assign"
    REJECT = "reject"
    ARCHIVE = "archive"  # closed at verification without follow-up (Arsipkan)
    SUPERVISORY = "supervisory"  # the supervisory flag set or cleared
    BROADCAST = "broadcast"
    BROADCAST_STOP = "broadcast_stop"
    INVITE = "invite"
    INVITE_REDEEM = "invite_redeem"  # an officer bound themselves with an invite link
    # A citizen's data rights (UU PDP), by the citizen in /privasi or by an admin in /datawarga.
    DATA_EXPORT = "data_export"
    CONSENT_WITHDRAW = "consent_withdraw"
    IDENTITY_ERASE = "identity_erase"
    RETENTION = "retention"  # the daily purge of data past its retention period
    REVOKE = "revoke"
    EXPORT = "export"
    CATEGORIZE = "categorize"
    LAPOR_ID = "lapor_id"
    APIKEY_CREATE = "apikey_create"
    APIKEY_REVOKE = "apikey_revoke"
    # An officer muted (unmuted) a reporter's additions on one report.
    MUTE_REPORTER = "mute_reporter"
    UNMUTE_REPORTER = "unmute_reporter"
    # Response templates (target "template:<id>", detail: its title): they put words in officers'
    # answers, so who wrote, changed, retired or restored one is kept.
    TEMPLATE_ADD = "template_add"
    TEMPLATE_EDIT = "template_edit"
    TEMPLATE_RETIRE = "template_retire"
    TEMPLATE_RESTORE = "template_restore"


async def record(
    session: AsyncSession,
    actor: Actor | None,
    action: str,
    target: str | None = None,
    detail: Mapping[str, Any] | None = None,
) -> AuditLog:
    """Add an audit entry (an actor without a citizen row: the command line). Flushes, never
    commits."""
    entry = AuditLog(
        actor_citizen_id=actor.citizen_id if actor is not None else None,
        actor_telegram_id=actor.telegram_id if actor is not None else None,
        action=action,
        target=target,
        detail=dict(detail or {}),
    )
    return await AuditRepo(session).add(entry)


async def latest(session: AsyncSession, actor: Actor, limit: int = 20) -> list[tuple[AuditLog, Citizen | None]]:
    access.ensure(actor, Action.ADMINISTER)
    return await AuditRepo(session).latest(limit)
