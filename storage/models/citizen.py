from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, TimestampMixin


class Citizen(TimestampMixin, Base):
    """Every Telegram user who has talked to the bot: reporters, and officers and admins too.

    Identity fields (names, username, telegram_id) are the most sensitive data here: they reach
    admins only, never an agency (see bot/services/privacy.py).
    """

    __tablename__ = "citizen"

    id: Mapped[int] = mapped_column(primary_key=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    first_name: Mapped[str | None] = mapped_column(String(128))
    last_name: Mapped[str | None] = mapped_column(String(128))
    username: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str | None] = mapped_column(String(8))
    consent_at: Mapped[datetime | None]
    # Set when the citizen withdrew consent (/privasi): nothing is sent to them any more and
    # their open reports went on anonymously; agreeing again clears consent_at's absence only.
    consent_withdrawn_at: Mapped[datetime | None]
    # Set when Telegram answers 403 (the user blocked the bot); cleared when they write again.
    unreachable_at: Mapped[datetime | None]
    # The citizen's own settings (/pengaturan); none of them is personal data about anyone else.
    # Set when they switched announcements (/umumkan to citizens) off; None: they receive them.
    announcements_off_at: Mapped[datetime | None]
    # immediate | digest (bot.domain.enums.UpdateMode); None: the deployment's citizen_mode.
    update_mode: Mapped[str | None] = mapped_column(String(16))
