"""Announcements (pengumuman) an admin sent to many chats at once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, TimestampMixin


class Broadcast(TimestampMixin, Base):
    """One announcement. Its recipients are outbox rows with ``group_key = "broadcast:<id>"``,
    written in the same transaction as this row, so the per-recipient progress lives in the
    outbox and survives restarts.
    """

    __tablename__ = "broadcast"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("citizen.id", ondelete="SET NULL"))
    # citizens | officers | agency (values of bot.services.broadcasts.AudienceKind)
    audience: Mapped[str] = mapped_column(String(16))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))
    # The admin's own formatting, as Telegram HTML (message.html_text).
    text: Mapped[str] = mapped_column(Text, default="")
    # photo | document, sent by file_id; None for a text announcement.
    media_kind: Mapped[str | None] = mapped_column(String(16))
    file_id: Mapped[str | None] = mapped_column(String(255))
    total: Mapped[int] = mapped_column(default=0)
    # sending | done | stopped
    status: Mapped[str] = mapped_column(String(16), default="sending", index=True)
    # The admin's progress message, edited until the end; kept so a restart resumes editing it.
    progress_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    progress_message_id: Mapped[int | None] = mapped_column(BigInteger)
    language: Mapped[str | None] = mapped_column(String(8))
    finished_at: Mapped[datetime | None]
