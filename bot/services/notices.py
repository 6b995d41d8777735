"""What the use cases tell people, as data: each notice says what happened, never how it reads.

Services and jobs build them and hand them to the ``Notifier`` port (``bot/services/ports.py``)
with a recipient; ``bot/ui/notices.py`` turns each kind into messages in the recipient's language.
A new message is a new notice here and a renderer there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from bot.services.statistics import Figures
from storage.models import Attachment, Citizen, Report
from storage.repositories.overdue import AgencyCount, OverdueLine


class Notice:
    """Base of every notice (the port accepts any of them)."""


# -- to the reporter -------------------------------------------------------------------------
@dataclass(frozen=True)
class ReportUpdate(Notice):
    """What changed (an ``EventKind``), which agency (never an officer), what comes next."""

    report: Report
    kind: str
    agency_name: str | None = None
    note: str | None = None  # the officer's question or answer, the rejection reason


@dataclass(frozen=True)
class FollowedUpdate(Notice):
    """To a follower of someone else's report: what changed (an ``EventKind``), which agency;
    never a note (written for the reporter) and never anyone's identity."""

    report: Report
    kind: str
    agency_name: str | None = None


@dataclass(frozen=True)
class MarkedDuplicate(Notice):
    """The reporter's report was merged into ``original`` (the same problem), which they follow
    now."""

    report: Report
    original: Report


@dataclass(frozen=True)
class LaporRecorded(Notice):
    """The coordinator entered the report into SP4N-LAPOR!, which gave it ``number``."""

    report: Report
    number: str
    link: str | None = None  # the report's page on lapor.go.id


@dataclass(frozen=True)
class AutoClosed(Notice):
    """No reply to the answer within the reply window: the report closed by itself."""

    report: Report


@dataclass(frozen=True)
class CheckinQuestion(Notice):
    """Some working days after closing: is the problem really solved?"""

    report: Report


@dataclass(frozen=True)
class Digest(Notice):
    """Updates held back in digest mode, already rendered, oldest first."""

    texts: Sequence[str]


# -- to the liaison officers of an agency ---------------------------------------------------
@dataclass(frozen=True)
class NewCase(Notice):
    """A report assigned to the agency: the full card, the location pin and the files."""

    report: Report
    agency_name: str
    reporter: Citizen | None  # shown only as bot.domain.privacy allows an agency
    attachments: Sequence[Attachment] = ()


@dataclass(frozen=True)
class ColleagueTook(Notice):
    report: Report
    colleague_first_name: str


@dataclass(frozen=True)
class KecamatanReminded(Notice):
    """To a kelurahan or desa: its kecamatan reminds it of an overdue report."""

    report: Report
    kecamatan_name: str


@dataclass(frozen=True)
class ReporterSaid(Notice):
    """The reporter answered, added information, disputed, said "not solved" at the check-in,
    rated or commented."""

    report: Report
    kind: str
    note: str | None = None
    attachments: Sequence[Attachment] = ()
    location: tuple[float, float] | None = None  # an addition's map point (coarse if anonymous)
    # An addition to a report no agency holds goes to the coordinators: no officer buttons.
    to_admins: bool = False


@dataclass(frozen=True)
class Withdrawn(Notice):
    """The reporter withdrew the report (to its officers and the admins): their reason, never
    their name."""

    report: Report
    reason: str


@dataclass(frozen=True)
class Reminder(Notice):
    """The officer's agencies' reports due within a working day or overdue: per agency the
    counts and the most urgent few (the rest are in /kotak)."""

    agencies: Sequence[tuple[AgencyCount, Sequence[OverdueLine]]]
    today: date


@dataclass(frozen=True)
class NoLongerOfficer(Notice):
    agency_name: str


# -- to the coordinating admins --------------------------------------------------------------
@dataclass(frozen=True)
class NewReport(Notice):
    report: Report
    reporter: Citizen | None


@dataclass(frozen=True)
class Returned(Notice):
    """An agency said "not our authority"; the report is back in the queue."""

    report: Report
    agency_name: str
    reason: str


@dataclass(frozen=True)
class OfficerJoined(Notice):
    """Someone opened an invite link and is now a liaison officer (admins may revoke them)."""

    agency_name: str
    telegram_id: int
    name: str
    username: str | None


@dataclass(frozen=True)
class NobodyToTell(Notice):
    """Assigned to an agency without a reachable liaison officer."""

    report: Report
    agency_name: str


@dataclass(frozen=True)
class Escalation(Notice):
    """The backlog (tunggakan) summarised: follow-ups past due counted per agency, the
    verification queue past due counted, the longest overdue few; the rest page by page. Apart:
    reports past their completion ceiling, per agency (``AgencyCount.past_ceiling``) and still
    waiting for verification."""

    agencies: Sequence[AgencyCount]
    verification: int
    oldest: Sequence[OverdueLine]
    total: int  # past the deadline of their step: what "Show all" pages through
    today: date
    unverified_past_ceiling: int = 0


@dataclass(frozen=True)
class WeeklySummary(Notice):
    """Per agency (None: not yet assigned) over the local days [start, end)."""

    figures: dict[int | None, Figures]  # only received, completed, overdue and the days
    agency_names: dict[int, str]
    start: date
    end: date


@dataclass(frozen=True)
class VillagesEscalated(Notice):
    """To a kecamatan (its officers and group): the overdue reports of the kelurahan and desa
    under it, escalated to the coordinator today: counts per village and the oldest few."""

    kecamatan_name: str
    villages: Sequence[AgencyCount]
    oldest: Sequence[OverdueLine]
    today: date


# -- agency group chats ------------------------------------------------------------------------
@dataclass(frozen=True)
class GroupLinkRequested(Notice):
    """To the admins: an officer asks to link a group to their agency; confirm or decline."""

    link_id: int
    agency_name: str
    group_title: str
    is_forum: bool


@dataclass(frozen=True)
class GroupLinkDecided(Notice):
    """To the group: an admin confirmed (or declined) the link."""

    agency_name: str
    approved: bool


@dataclass(frozen=True)
class GroupUnlinked(Notice):
    """To the group when unlinked; to the admins when the bot was removed from it."""

    agency_name: str
    group_title: str
    bot_removed: bool = False


@dataclass(frozen=True)
class TopicClosing(Notice):
    """In a report's forum topic, its last line before the topic is closed: the report ended."""

    report: Report


@dataclass(frozen=True)
class AgencyEscalated(Notice):
    """To an agency's group: its reports past their deadline were escalated to the coordinator
    today (the escalation the admins get, for this agency only)."""

    count: AgencyCount
    oldest: Sequence[OverdueLine]
    today: date
