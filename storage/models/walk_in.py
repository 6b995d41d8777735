from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, utcnow


class WalkIn(Base):
    """A report an admin filed for a citizen who came to the counter, phoned, wrote or sent an
    SMS (``Report.channel``): who they are, as far as they told, and the one-time code with which
    they can take the report over in Telegram. Only the code's SHA-256 is stored.

    Name and phone are identity (admins only, never an agency) and are erased with the personal
    fields of closed reports (``bot/jobs/retention.py``, ``personal_erased_at``).
    """

    __tablename__ = "walk_in"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id"), unique=True)
    name: Mapped[str | None] = mapped_column(String(128))
    phone: Mapped[str | None] = mapped_column(String(32))
    filed_by_id: Mapped[int | None] = mapped_column(ForeignKey("citizen.id"))
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    code_expires_at: Mapped[datetime]
    claimed_at: Mapped[datetime | None]
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("citizen.id"))
    personal_erased_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
