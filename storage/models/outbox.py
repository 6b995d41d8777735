from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, TimestampMixin, utcnow


class OutboxStatus(StrEnum):
    # Kept beside the table rather than in bot/domain: delivery bookkeeping is not a domain rule,
    # and the repository needs the values without importing ``bot``.
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    UNREACHABLE = "unreachable"
    CANCELLED = "cancelled"


class Outbox(TimestampMixin, Base):
    """One Bot API call still to be made (or already made) to one chat.

    Written in the same transaction as the change that causes it, so a message is sent if and
    only if that change committed. ``payload`` holds the method's parameters except ``chat_id``,
    JSON only (markup as dicts, files as file_id).
    """

    __tablename__ = "outbox"
    __table_args__ = (
        # The claim query: due rows by status and time.
        Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),
        # Per-chat ordering check ("is an earlier row of this chat still open?").
        Index("ix_outbox_chat_id_id", "chat_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    # The recipient, when a citizen: a 403 marks them unreachable.
    citizen_id: Mapped[int | None] = mapped_column(ForeignKey("citizen.id", ondelete="SET NULL"))
    # Bot API method name as Telegram spells it (sendMessage, copyMessage, ...).
    method: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Lets a sender count the progress of a batch ("report:12", "broadcast:7").
    group_key: Mapped[str | None] = mapped_column(String(64), index=True)
    # In a forum group: the report's topic; the worker opens it first and sends into it.
    report_topic_id: Mapped[int | None] = mapped_column(ForeignKey("report_topic.id", ondelete="SET NULL"))
    # Not before this moment (quiet hours, digests).
    not_before: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16), default=OutboxStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Lease of the worker that claimed the row; once past, another worker may claim it again.
    claimed_until: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    telegram_message_id: Mapped[int | None] = mapped_column(BigInteger)
    # When the retention job emptied ``payload`` (the message text) of a finished row; the row
    # itself stays for the counts of its group (an announcement's totals).
    purged_at: Mapped[datetime | None]
