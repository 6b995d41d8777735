from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, utcnow


class ReportFollower(Base):
    """A citizen who follows someone else's report: "this is my problem too" at intake, the
    reporter of a report marked as its duplicate, or a walk-in who claimed a report filed for
    them. They hear of its status changes; they never see who else follows or who reported it."""

    __tablename__ = "report_follower"
    __table_args__ = (UniqueConstraint("report_id", "citizen_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id"), index=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizen.id"), index=True)
    # nearby | duplicate | claim: how they came to follow it.
    via: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
