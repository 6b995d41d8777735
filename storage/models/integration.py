"""What connects the reports to systems outside Telegram: Open311 API keys and the reports filed
with them, and the webhooks that tell integrators what happened."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, TimestampMixin, utcnow


class ApiKey(TimestampMixin, Base):
    """A key for writing through the Open311 API (a kiosk, a web form). Only its SHA-256 is
    stored; the key itself is printed once by ``lapor-bot apikeys create``."""

    __tablename__ = "api_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters of the key, so an operator can tell keys apart without the secret.
    prefix: Mapped[str] = mapped_column(String(16))
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]


class ApiSubmission(Base):
    """Who filed a report through the API, as the client said (GeoReport v2 ``first_name`` ...).
    Identity: shown to coordinating admins only, like a citizen's Telegram name."""

    __tablename__ = "api_submission"

    report_id: Mapped[int] = mapped_column(ForeignKey("report.id"), primary_key=True)
    api_key_id: Mapped[int] = mapped_column(ForeignKey("api_key.id"), index=True)
    first_name: Mapped[str | None] = mapped_column(String(128))
    last_name: Mapped[str | None] = mapped_column(String(128))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(32))
    device_id: Mapped[str | None] = mapped_column(String(128))
    account_id: Mapped[str | None] = mapped_column(String(128))


class WebhookTarget(Base):
    """A webhook target as configured (``[[webhooks.targets]]``), copied here at start-up so
    that the transaction that changes a report can queue its deliveries without the settings.
    The secret stays in the configuration; only the process that sends needs it."""

    __tablename__ = "webhook_target"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    url: Mapped[str] = mapped_column(String(500))
    # The events it wants (report.created, report.assigned, ...).
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    # False once it is gone from the configuration: nothing more is queued for it.
    active: Mapped[bool] = mapped_column(default=True)
    synced_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookDelivery(Base):
    """One event for one webhook target: the outbox row and the delivery log in one.

    Written in the same transaction as the change it reports. ``body`` is built then, so every
    retry sends (and signs) the same bytes; ``event_id`` is shared by the rows of one event for
    every target, for the receiver to deduplicate on.
    """

    __tablename__ = "webhook_delivery"
    __table_args__ = (Index("ix_webhook_delivery_status_next_attempt_at", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    target: Mapped[str] = mapped_column(ForeignKey("webhook_target.name"), index=True)
    # report.created | report.assigned | report.answered | report.closed
    event: Mapped[str] = mapped_column(String(32))
    event_id: Mapped[str] = mapped_column(String(32))
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id"), index=True)
    body: Mapped[str] = mapped_column(Text)
    # pending | sending | delivered | failed
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_until: Mapped[datetime | None]
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]
