from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, utcnow


class FsmState(Base):
    """aiogram FSM state and data of one conversation (see ``storage.fsm.SqlAlchemyStorage``).

    Kept in the database so that a half-filled report survives a restart. The key mirrors
    aiogram's ``StorageKey``; its optional parts are stored as 0 and "" rather than NULL because
    they are part of the primary key, and PostgreSQL does not allow NULL there.
    """

    __tablename__ = "fsm_state"

    bot_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    thread_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    business_connection_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    destiny: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[str | None] = mapped_column(String(255))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Indexed so that abandoned forms can be purged by age.
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, index=True)
