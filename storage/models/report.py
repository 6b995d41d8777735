from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, func, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.base import Base, TimestampMixin, utcnow
from storage.models.category import Category


class Report(TimestampMixin, Base):
    """A citizen's report. Status, classification and privacy hold the values of the enums in
    ``bot.domain`` (storage does not import the domain; the strings are the contract).

    Deadlines are local calendar dates (end of that working day in the configured time zone).
    """

    __tablename__ = "report"
    __table_args__ = (
        # /kotak: an agency's open reports, a page chosen from the index alone (CaseRepo._rows).
        Index("ix_report_status_agency", "status", "agency_id", postgresql_include=["followup_due", "id"]),
        # An agency's reports (what a plain agency_id index served), and the reminders' most urgent
        # few per agency and status in deadline order (OverdueRepo.oldest_per_agency). Agency
        # first: led by status, PostgreSQL took it over (status, followup_due) for the overdue
        # counts, and reading in agency order made those scans 40% slower (issue 15).
        Index("ix_report_agency_status_followup_due", "agency_id", "status", "followup_due", "id"),
        # Statistics select a period of submissions (issue 15: 1M reports). On PostgreSQL it
        # carries every column the year's cohort reads, so /statistik's scans are index-only and
        # read a tenth of the table (titles and bodies stay out).
        Index("ix_report_submitted_at", "submitted_at", postgresql_include=[
            "id", "agency_id", "category_id", "status", "channel", "classification", "supervisory",
            "assigned_at", "answered_at", "reopened_count", "rating", "lapor_id", "response_days",
            "completion_days", "completion_met",
        ]),
        # The backlog on a day: reports not ended by then (``ended_at`` NULL or later), and the
        # columns that say whether they were late.
        Index("ix_report_ended_at", "ended_at", "submitted_at", postgresql_include=[
            "agency_id", "category_id", "status", "assigned_at", "answered_at", "verify_due",
            "followup_due",
        ]),
        # Retention (bot/jobs/retention.py): the finished reports not yet stripped of personal data,
        # by when they finished (closed_at, else updated_at); stripped ones leave the index. The
        # second holds every open report too: status first, so that the day's few finished ones
        # are found in the index, not by reading the rows of the years-old open ones (issue 15:
        # 6,000 heap pages a day at 1M reports).
        Index("ix_report_unpurged_closed_at", "closed_at",
              postgresql_where=text("personal_data_purged_at IS NULL"),
              sqlite_where=text("personal_data_purged_at IS NULL")),
        Index("ix_report_unpurged_updated_at", "status", "updated_at",
              postgresql_where=text("personal_data_purged_at IS NULL AND closed_at IS NULL"),
              sqlite_where=text("personal_data_purged_at IS NULL AND closed_at IS NULL")),
        # The statistics cache: which months' reports changed since a moment (StatsCache).
        Index("ix_report_changed_at", "changed_at", "submitted_at"),
        # The weekly summary: first responses in a week, per agency.
        Index("ix_report_first_response_at", "first_response_at",
              postgresql_include=["agency_id", "response_days"]),
        # The daily scans: each asks for one set of statuses past one deadline.
        Index("ix_report_status_followup_due", "status", "followup_due",
              postgresql_include=["agency_id", "id"]),
        Index("ix_report_status_verify_due", "status", "verify_due", postgresql_include=["agency_id", "id"]),
        Index("ix_report_status_reply_due", "status", "reply_due"),
        # Past the completion ceiling by kind of report (reminders, escalation).
        Index("ix_report_status_completion_due", "status", "completion_due",
              postgresql_include=["agency_id"]),
        Index("ix_report_status_closed_at", "status", "closed_at",
              postgresql_include=["agency_id", "completion_days"]),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tracking_id: Mapped[str] = mapped_column(String(16), unique=True)
    # None for a report filed through the Open311 API on someone's behalf (see ApiSubmission).
    citizen_id: Mapped[int | None] = mapped_column(ForeignKey("citizen.id"), index=True)
    # telegram | open311: where the report came in.
    channel: Mapped[str] = mapped_column(String(16), default="telegram")
    classification: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    incident_date: Mapped[date | None]
    location_text: Mapped[str | None] = mapped_column(String(500))
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    # The agency the citizen picked (None: "Tidak tahu"), and the one it is assigned to now.
    requested_agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("category.id"), index=True)
    privacy: Mapped[str] = mapped_column(String(16))
    # Complaints with supervisory content (berkadar pengawasan) get the 60-working-day ceiling.
    supervisory: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(24), index=True)
    language: Mapped[str] = mapped_column(String(8), default="id")

    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    verify_due: Mapped[date | None]
    assigned_at: Mapped[datetime | None]
    followup_due: Mapped[date | None]
    first_response_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    reply_due: Mapped[date | None]
    # The completion ceiling by kind of report (bot.domain.deadlines.completion_due), set at
    # intake and moved by the supervisory flag; kept so the daily scans stay one indexed query.
    completion_due: Mapped[date | None]
    closed_at: Mapped[datetime | None]
    rating: Mapped[int | None]
    rating_comment: Mapped[str | None] = mapped_column(Text)
    reopened_count: Mapped[int] = mapped_column(default=0)
    # Facts stored when they happen (``core.change_status``), so that statistics over a million
    # reports are sums over indexed columns (issue 15): working days from the local day of
    # submission to that of the first response, and to that of closing (NULL while not closed:
    # a reopened report loses it); when the report stopped being open (entered a terminal status;
    # NULL while open).
    response_days: Mapped[int | None]
    completion_days: Mapped[int | None]
    # Closed within the completion ceiling (``completion_due``): the last answer (closed without
    # one: the closing) came by that day; NULL while not closed or without a due date.
    completion_met: Mapped[bool | None]
    ended_at: Mapped[datetime | None]
    # Rejected as the same problem as this report, which its reporter now follows.
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("report.id"))
    # Citizens following it as their problem too (report_follower rows), shown on cards and pages.
    supporters: Mapped[int] = mapped_column(default=0, server_default="0")
    # The report's tracking number in SP4N-LAPOR!, once a coordinator entered it there.
    lapor_id: Mapped[str | None] = mapped_column(String(32), unique=True)
    lapor_recorded_at: Mapped[datetime | None]
    # The agency's officers muted the reporter's additions on this report (audited); answers to
    # their own questions still reach them.
    relays_muted_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # When the row was last written, by the clock at the write: unlike ``updated_at`` (which
    # services set to the ``now`` they were given) nothing sets it by hand, so the statistics
    # cache (bot.services.statistics.StatsCache) can ask which months' reports changed since it
    # counted them. The server default fills rows inserted by SQL (the 1M-report bench).
    changed_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, server_default=func.now())
    # When the retention job removed the personal fields of this closed report (the link to
    # the reporter, the exact point, file names); the record of the service itself stays.
    personal_data_purged_at: Mapped[datetime | None]

    # Joined: a small lookup every card, page and API answer shows.
    category: Mapped[Category | None] = relationship(lazy="joined")
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="report", order_by="Attachment.id", lazy="raise"
    )
    events: Mapped[list[ReportEvent]] = relationship(
        back_populates="report", order_by="ReportEvent.id", lazy="raise"
    )


class Attachment(TimestampMixin, Base):
    """A file kept on Telegram's servers; we store its ids, never the bytes."""

    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id"), index=True)
    # Files sent later in the dialogue (an answer to an officer's question) point at their event.
    event_id: Mapped[int | None] = mapped_column(ForeignKey("report_event.id"))
    file_id: Mapped[str] = mapped_column(String(255))
    file_unique_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    file_size: Mapped[int | None] = mapped_column(BigInteger)
    mime_type: Mapped[str | None] = mapped_column(String(128))
    file_name: Mapped[str | None] = mapped_column(String(255))
    # Anonymous reports: the copy the bot uploaded itself, metadata stripped and under a neutral
    # name (bot/services/file_cleaning.py); every later re-send uses it, never ``file_id``.
    clean_file_id: Mapped[str | None] = mapped_column(String(255))

    report: Mapped[Report] = relationship(back_populates="attachments", lazy="raise")


class ReportEvent(Base):
    """Append-only timeline of a report: nothing here is ever deleted, and nothing updated but
    for data protection (bot/services/data_rights.py unlinks the reporter, bot/jobs/retention.py
    blanks a reporter's old messages)."""

    __tablename__ = "report_event"
    # When a report was rejected or archived (statistics' backlog): kind first, index-only.
    __table_args__ = (Index("ix_report_event_kind_report_id", "kind", "report_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # citizen | admin | officer | system
    actor_role: Mapped[str] = mapped_column(String(16))
    actor_citizen_id: Mapped[int | None] = mapped_column(ForeignKey("citizen.id"))
    # The agency an officer acted for, or the agency a report was assigned to.
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))
    kind: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(24))
    to_status: Mapped[str | None] = mapped_column(String(24))
    note: Mapped[str | None] = mapped_column(Text)

    report: Mapped[Report] = relationship(back_populates="events", lazy="raise")
