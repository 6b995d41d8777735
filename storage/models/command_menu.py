"""Which command menu (setMyCommands) each chat was last given."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, utcnow


class CommandMenu(Base):
    """The menu a chat was last given by a bot, as a fingerprint of the commands sent.

    Start-up compares the menu every staff chat should have with this and calls the Bot API only
    where they differ, so a restart does not send a setMyCommands per officer. ``chat_id`` 0 is
    the default (everyone's) menu. Keyed by bot too: two bots sharing a database keep their own.
    """

    __tablename__ = "command_menu"

    bot_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    fingerprint: Mapped[str] = mapped_column(String(64))
    set_at: Mapped[datetime] = mapped_column(default=utcnow)
