"""What getMe said when the bot last started."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, utcnow


class BotIdentity(Base):
    """The bot's username by its Telegram id, so that the command line can print invite links
    without asking Telegram (a machine with the database need not reach the Bot API)."""

    __tablename__ = "bot_identity"

    bot_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    username: Mapped[str] = mapped_column(String(32))
    seen_at: Mapped[datetime] = mapped_column(default=utcnow)
