"""Agency group chats: a Telegram group (or forum supergroup) linked to an agency, and the
forum topic each report gets in such a group."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, TimestampMixin


class AgencyGroup(TimestampMixin, Base):
    """One request to link a group to an agency and what became of it: ``pending`` until an
    admin decides, then ``active`` or ``declined``; ``unlinked`` once undone (by an admin, an
    officer of the agency, or Telegram telling us the bot left the group). Rows are kept (who
    linked what, when); at most one active link per agency and per chat, kept by the service."""

    __tablename__ = "agency_group"
    __table_args__ = (Index("ix_agency_group_chat_id_status", "chat_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    title: Mapped[str] = mapped_column(String(255))
    # A forum supergroup: each report gets its own topic.
    is_forum: Mapped[bool] = mapped_column(default=False)
    # pending | active | declined | unlinked (bot.domain.enums.GroupLinkStatus)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    # also | only (bot.domain.enums.GroupDelivery): the officers' private chats hear of the
    # agency's reports as well as the group, or only the group does.
    delivery: Mapped[str] = mapped_column(String(8), default="also")
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("citizen.id"))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("citizen.id"))
    decided_at: Mapped[datetime | None]
    # None with unlinked_at set: the bot was removed from the group.
    unlinked_by_id: Mapped[int | None] = mapped_column(ForeignKey("citizen.id"))
    unlinked_at: Mapped[datetime | None]


class ReportTopic(TimestampMixin, Base):
    """The forum topic of one report in one group. Written when the first message for it is
    queued; the delivery worker opens the topic (createForumTopic) before that message goes out
    and keeps its ``message_thread_id`` here. ``failed_at``: the group refused topics (the bot
    lacks the right): the report's messages go to the General topic instead. A topic is closed
    when its report ends and reopened when the report does (``group_chats.follow_report_status``).
    """

    __tablename__ = "report_topic"
    __table_args__ = (UniqueConstraint("report_id", "chat_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id"), index=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    name: Mapped[str] = mapped_column(String(128))
    message_thread_id: Mapped[int | None] = mapped_column(BigInteger)
    failed_at: Mapped[datetime | None]
    # Set when the report ended (closed, rejected, archived, withdrawn) and closing the topic was
    # queued; cleared when the report reopened and reopening it was queued.
    closed_at: Mapped[datetime | None]
