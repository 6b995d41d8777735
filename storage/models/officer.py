"""Liaison officers (pejabat penghubung), the invites that make them, and failed invite attempts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, TimestampMixin


class Officer(TimestampMixin, Base):
    """One Telegram account serving one agency. A person may serve several agencies and an agency
    may have several officers; revoking keeps the row (who served when) and a later invite
    re-activates it, hence one row per pair."""

    __tablename__ = "officer"
    __table_args__ = (UniqueConstraint("agency_id", "citizen_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizen.id"), index=True)
    invite_id: Mapped[int | None] = mapped_column(ForeignKey("officer_invite.id"))
    bound_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("citizen.id"))


class OfficerInvite(TimestampMixin, Base):
    """A single-use deep-link code. Only its SHA-256 is stored, so a database leak does not hand
    out officer access; the code itself is shown once to the admin who made it."""

    __tablename__ = "officer_invite"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # None when made from the command line (the operator has no Telegram identity here).
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("citizen.id"))
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by_id: Mapped[int | None] = mapped_column(ForeignKey("citizen.id"))


class InviteFailure(Base):
    """A wrong, expired or used code opened by a Telegram user: counted for the rate limit, in
    the database so a restart does not reset anyone's budget of guesses."""

    __tablename__ = "invite_failure"
    __table_args__ = (Index("ix_invite_failure_telegram_id_at", "telegram_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(String(16))
