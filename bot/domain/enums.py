"""Enumerations whose values are the strings stored in the database columns."""

from __future__ import annotations

from enum import StrEnum


class ReportStatus(StrEnum):
    SUBMITTED = "submitted"
    POSTPONED = "postponed"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    AWAITING_REPORTER = "awaiting_reporter"
    ANSWERED = "answered"
    # An officer marked it "bukan wewenang": back in the admin's queue for re-routing.
    RETURNED = "returned"
    CLOSED = "closed"
    REJECTED = "rejected"
    ARCHIVED = "archived"
    # The reporter took it back, with a reason, while it was still open.
    WITHDRAWN = "withdrawn"


class Classification(StrEnum):
    COMPLAINT = "complaint"  # pengaduan
    ASPIRATION = "aspiration"  # aspirasi
    INFORMATION = "information"  # permintaan informasi


class Privacy(StrEnum):
    PUBLIC = "public"  # biasa
    # Anonim: identity hidden from the agency; only coordinating admins may see it.
    ANONYMOUS = "anonymous"
    # Rahasia: content never public (no listing, no open-data export).
    CONFIDENTIAL = "confidential"


class AgencyKind(StrEnum):
    OPD = "opd"
    BUMD = "bumd"
    KECAMATAN = "kecamatan"
    KELURAHAN = "kelurahan"
    DESA = "desa"


class ActorRole(StrEnum):
    CITIZEN = "citizen"
    ADMIN = "admin"
    OFFICER = "officer"
    SYSTEM = "system"


class EventKind(StrEnum):
    """Kinds of entries on a report's timeline."""

    SUBMITTED = "submitted"
    ASSIGNED = "assigned"
    REROUTED = "rerouted"
    REJECTED = "rejected"
    POSTPONED = "postponed"
    ARCHIVED = "archived"
    TAKEN = "taken"
    INFO_REQUESTED = "info_requested"
    REPORTER_REPLIED = "reporter_replied"
    # Information the reporter added on their own (text, files, a location, a voice note).
    REPORTER_ADDED = "reporter_added"
    ANSWERED = "answered"
    RETURNED = "returned"
    ACCEPTED = "accepted"  # the reporter rated the answer
    DISPUTED = "disputed"  # the reporter reopened it
    AUTO_CLOSED = "auto_closed"
    CHECKIN_REOPENED = "checkin_reopened"
    # A coordinator recorded the report's tracking number in SP4N-LAPOR! (the note holds it).
    LAPOR_RECORDED = "lapor_recorded"
    WITHDRAWN = "withdrawn"  # the reporter's reason in the note
    NOTE = "note"


class Channel(StrEnum):
    """Where a report came in."""

    TELEGRAM = "telegram"
    OPEN311 = "open311"
    # Filed by an admin on a citizen's behalf (/lapor_untuk): where the citizen came to us.
    COUNTER = "counter"  # loket
    PHONE = "phone"  # telepon
    LETTER = "letter"  # surat
    SMS = "sms"
    OTHER = "other"  # lainnya


# The channels an admin files through on a citizen's behalf.
WALK_IN_CHANNELS = (Channel.COUNTER, Channel.PHONE, Channel.LETTER, Channel.SMS, Channel.OTHER)


class GroupLinkStatus(StrEnum):
    """A group chat linked to an agency: asked by an officer, decided by an admin."""

    PENDING = "pending"
    ACTIVE = "active"
    DECLINED = "declined"
    UNLINKED = "unlinked"


class GroupDelivery(StrEnum):
    """Where an agency with a linked group hears of its reports."""

    ALSO = "also"  # the group and every officer's private chat
    ONLY = "only"  # the group instead of the officers' private chats


class UpdateMode(StrEnum):
    """How a citizen hears of their reports: each change when it happens, or gathered in a daily
    digest. The deployment's ``[notifications] citizen_mode`` is the default; a citizen's own
    choice (/pengaturan) wins."""

    IMMEDIATE = "immediate"
    DIGEST = "digest"
