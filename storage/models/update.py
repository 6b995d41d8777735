"""Every update the bot accepted from Telegram, until it has been handled."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, utcnow


class ReceivedUpdate(Base):
    """An update, stored before Telegram is told it arrived (the polling offset, the webhook's
    200), so a process killed while handling it handles it again after a restart.

    ``update_id`` is Telegram's: the same update delivered twice is one row, and a row whose
    handling finished (``done_at``) is never handled again. The process handling a row holds it
    (``claimed_by``, ``claimed_until``, renewed while the handler runs); a claim that ran out
    belongs to a process that died.
    """

    __tablename__ = "received_update"
    __table_args__ = (
        # Start-up and the sweep look for unfinished rows, oldest first.
        Index("ix_received_update_done_at_update_id", "done_at", "update_id"),
    )

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(32))
    claimed_until: Mapped[datetime | None]
    # Claims so far: more than one means a process died while handling it.
    attempts: Mapped[int] = mapped_column(default=0)
    done_at: Mapped[datetime | None]
    # When the update's button (a callback query) was answered: a replay after a crash must not
    # answer it again, Telegram refuses a second answer (bot/callback_answers.py).
    callback_answered_at: Mapped[datetime | None]
