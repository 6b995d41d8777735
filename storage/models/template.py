"""Response templates officers pick from when answering, asking or returning a report."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, TimestampMixin


class ResponseTemplate(TimestampMixin, Base):
    """A reusable text. ``agency_id`` None: a global template written by an admin, offered to
    every agency; otherwise offered to that agency's officers only."""

    __tablename__ = "response_template"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"), index=True)
    title: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("citizen.id"))
    active: Mapped[bool] = mapped_column(default=True)
