"""The audit trail of admin (and officer-management) actions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, utcnow


class AuditLog(Base):
    """Append-only: who did what to what, and when. Never updated or deleted.

    ``actor_telegram_id`` is kept besides ``actor_citizen_id`` because CLI actions have no
    citizen row, and because the Telegram id is what the coordinator recognises in /audit.
    """

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_telegram_id: Mapped[int | None] = mapped_column(BigInteger)
    actor_citizen_id: Mapped[int | None] = mapped_column(
        ForeignKey("citizen.id", ondelete="SET NULL")
    )
    # assign | reject | broadcast | broadcast_stop | invite | revoke | export | ...
    action: Mapped[str] = mapped_column(String(32), index=True)
    # "report:LPR-..." | "agency:3" | "broadcast:7" | "export:2024"
    target: Mapped[str | None] = mapped_column(String(128))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
