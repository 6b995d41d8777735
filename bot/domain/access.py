"""Who may do which action on which report, in which state: the one place these rules live.

Plain values in (the actor, the report's facts, today's local date), a decision out; no
database and no Telegram, so ``tests/unit/test_domain_access.py`` checks every combination.
Services ask ``ensure`` before every action (callback data can be forged, so a router filter is
never enough); handlers ask the services, and the role filters of the routers ask ``allows``.

The rules, by actor:
- a coordinating **admin** runs the console and verifies: assign, reject, postpone, archive (no
  follow-up needed), mark as supervisory, or mark as a duplicate of another report, the reports
  waiting in the verification queue; sets a report's
  category and records its SP4N-LAPOR! tracking number in any status;
- an active **liaison officer** acts only on reports assigned to one of their agencies, in a
  status that allows the action;
- the **reporter** acts only on their own report: answers a question, adds files to that
  answer, rates or disputes an answer within the reply window (10 working days, ``reply_due``),
  comments on their rating once, answers the check-in, withdraws it (with a reason) while it is
  open and not yet answered, and adds information to it while it is open, unless the agency's
  officers muted the report's relays;
- any **other citizen** may follow an open report that is not confidential ("this is my problem
  too"); a confidential one is refused exactly like a missing one;
- an officer of the report's agency may mute (and unmute) the reporter's additions on it;
- response templates: admins write, edit, retire and restore the global ones, an officer those
  of their agencies; everyone uses the global ones and officers their agencies' too;
- an officer of a **kecamatan** oversees the kelurahan and desa under it: while one of them holds
  a report, they may look at it (as an agency sees it: nothing of an anonymous reporter) and
  remind the village's officers, but not act on it (take, ask, answer, return, mute) unless they
  are officers of that village too.

A refusal says why with a ``Reason``; handlers translate it (``bot.ui.case_render.refusal_text``).
Someone else's report and a report that does not exist are refused alike (no existence leak),
and who-may is checked before the status, so a stranger learns nothing about the report's state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Protocol

from bot.domain.deadlines import is_overdue
from bot.domain.enums import Privacy
from bot.domain.enums import ReportStatus as S
from bot.domain.lifecycle import OPEN_STATUSES, VERIFICATION_QUEUE, WITH_AGENCY, can_transition


class Reason(StrEnum):
    FORBIDDEN = "forbidden"  # not this actor's report or role (or no such report)
    ADMINS_ONLY = "admins_only"  # the admin console
    NOT_NOW = "not_now"  # the report's status does not allow the action
    TOO_LATE = "too_late"  # the reply window has passed
    # Outcomes the services decide, refused the same way:
    CONFLICT = "conflict"  # someone else changed the report first
    INVALID = "invalid"  # bad input (an unknown agency, a rating outside 1–5, stale form data)
    MUTED = "muted"  # the agency muted the reporter's additions on this report
    TOO_MANY = "too_many"  # over a limit against abuse ([limits]): later


class Refused(Exception):
    """The one refusal every service raises; handlers answer it with the reason's text."""

    def __init__(self, reason: Reason, status: str | None = None) -> None:
        super().__init__(reason.value)
        self.reason = reason
        # The report's status now, when the refusal is about it (NOT_NOW, CONFLICT): a stale
        # button is answered with where the report went.
        self.status = status


@dataclass(frozen=True)
class Actor:
    """Who acts, as read from the database for this very update (a revoked officer loses
    access with their next tap). ``citizen_id`` None: the command line or the system."""

    citizen_id: int | None = None
    telegram_id: int | None = None
    is_admin: bool = False
    # Agencies this person is an active liaison officer of.
    agency_ids: frozenset[int] = field(default_factory=frozenset)
    # Kelurahan and desa under a kecamatan in ``agency_ids``: watched, never worked on.
    overseen_agency_ids: frozenset[int] = field(default_factory=frozenset)

    @property
    def is_officer(self) -> bool:
        return bool(self.agency_ids)


# Whoever runs the command line already holds the server.
COMMAND_LINE = Actor(is_admin=True)


class Case(Protocol):
    """What the rules read of a report (``storage.models.Report`` has these columns)."""

    @property
    def status(self) -> str: ...
    @property
    def agency_id(self) -> int | None: ...
    @property
    def citizen_id(self) -> int | None: ...  # None: filed through the Open311 API
    @property
    def reply_due(self) -> date | None: ...
    @property
    def rating(self) -> int | None: ...
    @property
    def rating_comment(self) -> str | None: ...
    @property
    def privacy(self) -> str: ...
    def relays_muted_at(self) -> datetime | None: ...  # officers muted the reporter's additions


class Action(StrEnum):
    # Without a report.
    ADMINISTER = "administer"  # the admin console: queue, directory, officers, broadcasts, statistics
    WORK_INBOX = "work_inbox"  # an officer's /kotak
    OVERSEE = "oversee"  # a kecamatan officer's list of its villages' overdue reports (in /kotak)
    USE_TEMPLATES = "use_templates"  # response templates (admins write global ones; officers their agency's)
    # The coordinating admins, on a report.
    VIEW_AS_ADMIN = "view_as_admin"
    ASSIGN = "assign"  # also re-routes a report an agency returned
    REJECT = "reject"
    POSTPONE = "postpone"
    # Reject as the same problem as another report, whose follower its reporter becomes.
    MARK_DUPLICATE = "mark_duplicate"
    # Close without follow-up (LAPOR!'s Arsipkan), with a reason the reporter reads.
    ARCHIVE = "archive"
    # Mark a complaint as supervisory (berkadar pengawasan): the 60-working-day ceiling.
    MARK_SUPERVISORY = "mark_supervisory"
    CATEGORIZE = "categorize"  # set or correct the category (statistics count the corrected one)
    RECORD_LAPOR_ID = "record_lapor_id"  # SP4N-LAPOR!'s form for the report, and its tracking number
    # The liaison officers of the report's agency.
    VIEW_AS_OFFICER = "view_as_officer"
    TAKE = "take"
    ASK = "ask"  # ask the reporter for information
    ANSWER = "answer"
    RETURN = "return"  # bukan wewenang
    # The reporter.
    REPLY = "reply"  # answer an officer's question
    ADD_TO_REPLY = "add_to_reply"  # more files of the answer just sent (an album, one per message)
    RATE = "rate"  # accept the answer
    COMMENT = "comment"  # an optional comment after rating
    DISPUTE = "dispute"  # belum selesai: back to the agency
    CHECKIN = "checkin"  # "is it really solved?" some days after closing
    WITHDRAW = "withdraw"  # take the report back, with a reason, before it is answered
    # Any other citizen.
    FOLLOW = "follow"  # "this is my problem too": hear of an open, non-confidential report's updates
    # Information the reporter adds on their own (from /laporan, or confirmed after an answer):
    # relayed to the officers (the admins while no agency holds it).
    ADD_INFO = "add_info"
    # The officers of the report's agency: stop (or let again) the reporter's additions.
    MUTE_REPORTER = "mute_reporter"
    # The officers of the kecamatan above the report's kelurahan or desa, while the village holds it.
    VIEW_AS_OVERSEER = "view_as_overseer"  # read-only: the card and its timeline
    REMIND_AGENCY = "remind_agency"  # nudge the village's officers about it


class _Who(StrEnum):
    ADMIN = "admin"
    OFFICER = "officer"  # of the report's current agency
    REPORTER = "reporter"  # who filed it
    OTHER_CITIZEN = "other_citizen"  # anyone in Telegram but its reporter
    OVERSEER = "overseer"  # of the kecamatan above the report's current kelurahan or desa


ANY_STATUS: frozenset[str] = frozenset(S)


def _able(target: S, among: frozenset[S] = frozenset(S)) -> frozenset[str]:
    return frozenset(s for s in among if can_transition(s, target))


@dataclass(frozen=True)
class _Rule:
    who: _Who
    statuses: frozenset[str]
    # Only within the reply window (``reply_due``, the day itself included).
    in_reply_window: bool = False
    # Goes to the report's agency, so there must be one.
    needs_agency: bool = False
    # A confidential (rahasia) report is refused like a missing one: it is nobody else's business.
    not_confidential: bool = False


_RULES: dict[Action, _Rule] = {
    Action.VIEW_AS_ADMIN: _Rule(_Who.ADMIN, ANY_STATUS),
    Action.ASSIGN: _Rule(_Who.ADMIN, _able(S.ASSIGNED, VERIFICATION_QUEUE)),
    Action.REJECT: _Rule(_Who.ADMIN, _able(S.REJECTED, VERIFICATION_QUEUE)),
    Action.POSTPONE: _Rule(_Who.ADMIN, _able(S.POSTPONED)),
    Action.MARK_DUPLICATE: _Rule(_Who.ADMIN, _able(S.REJECTED, VERIFICATION_QUEUE)),
    Action.ARCHIVE: _Rule(_Who.ADMIN, _able(S.ARCHIVED, VERIFICATION_QUEUE)),
    # Decided at verification, before the agency has it; its deadline follows from it.
    Action.MARK_SUPERVISORY: _Rule(_Who.ADMIN, VERIFICATION_QUEUE),
    # In any status: a category is corrected and a report entered into LAPOR! at any time.
    Action.CATEGORIZE: _Rule(_Who.ADMIN, ANY_STATUS),
    Action.RECORD_LAPOR_ID: _Rule(_Who.ADMIN, ANY_STATUS),
    # Officers may still read what their agency answered or closed.
    Action.VIEW_AS_OFFICER: _Rule(_Who.OFFICER, ANY_STATUS),
    Action.TAKE: _Rule(_Who.OFFICER, frozenset({S.ASSIGNED})),
    # Not again while the reporter has not answered the last question.
    Action.ASK: _Rule(_Who.OFFICER, _able(S.AWAITING_REPORTER, WITH_AGENCY)),
    Action.ANSWER: _Rule(_Who.OFFICER, _able(S.ANSWERED, WITH_AGENCY)),
    Action.RETURN: _Rule(_Who.OFFICER, _able(S.RETURNED, WITH_AGENCY)),
    Action.REPLY: _Rule(_Who.REPORTER, frozenset({S.AWAITING_REPORTER}), needs_agency=True),
    Action.ADD_TO_REPLY: _Rule(_Who.REPORTER, frozenset({S.IN_PROGRESS}), needs_agency=True),
    Action.RATE: _Rule(_Who.REPORTER, frozenset({S.ANSWERED}), in_reply_window=True),
    Action.COMMENT: _Rule(_Who.REPORTER, frozenset({S.CLOSED})),
    Action.DISPUTE: _Rule(_Who.REPORTER, frozenset({S.ANSWERED}), in_reply_window=True, needs_agency=True),
    Action.CHECKIN: _Rule(_Who.REPORTER, frozenset({S.CLOSED})),
    Action.WITHDRAW: _Rule(_Who.REPORTER, _able(S.WITHDRAWN)),
    Action.FOLLOW: _Rule(_Who.OTHER_CITIZEN, OPEN_STATUSES, not_confidential=True),
    Action.ADD_INFO: _Rule(_Who.REPORTER, OPEN_STATUSES),
    Action.MUTE_REPORTER: _Rule(_Who.OFFICER, ANY_STATUS),
    Action.VIEW_AS_OVERSEER: _Rule(_Who.OVERSEER, WITH_AGENCY),
    Action.REMIND_AGENCY: _Rule(_Who.OVERSEER, WITH_AGENCY),
}


def _is(actor: Actor, who: _Who, case: Case) -> bool:
    match who:
        case _Who.ADMIN:
            return actor.is_admin
        case _Who.OFFICER:
            return case.agency_id is not None and case.agency_id in actor.agency_ids
        case _Who.REPORTER:
            return actor.citizen_id is not None and case.citizen_id == actor.citizen_id
        case _Who.OTHER_CITIZEN:
            return actor.citizen_id is not None and case.citizen_id != actor.citizen_id
        case _Who.OVERSEER:
            return case.agency_id is not None and case.agency_id in actor.overseen_agency_ids


def check(actor: Actor, action: Action, case: Case | None = None, *, today: date | None = None) -> Reason | None:
    """None when ``actor`` may do ``action`` (on ``case``, as of the local date ``today``), else
    why not. ``case`` None for an action on a report: the report does not exist."""
    match action:
        case Action.ADMINISTER:
            return None if actor.is_admin else Reason.ADMINS_ONLY
        case Action.WORK_INBOX:
            return None if actor.is_officer else Reason.FORBIDDEN
        case Action.OVERSEE:
            return None if actor.overseen_agency_ids else Reason.FORBIDDEN
        case Action.USE_TEMPLATES:
            return None if actor.is_admin or actor.is_officer else Reason.FORBIDDEN
    rule = _RULES[action]
    if case is None or not _is(actor, rule.who, case):
        return Reason.FORBIDDEN
    if rule.not_confidential and case.privacy == Privacy.CONFIDENTIAL:
        return Reason.FORBIDDEN
    if case.status not in rule.statuses:
        return Reason.NOT_NOW
    if action is Action.COMMENT and (case.rating is None or case.rating_comment is not None):
        return Reason.NOT_NOW  # one comment, after a rating
    if rule.needs_agency and case.agency_id is None:
        return Reason.NOT_NOW
    if action is Action.ADD_INFO and case.relays_muted_at is not None:
        return Reason.MUTED
    if rule.in_reply_window and case.reply_due is not None:
        if today is None:
            raise TypeError(f"{action} needs today's date for the reply window")
        if is_overdue(case.reply_due, today):
            return Reason.TOO_LATE
    return None


def ensure(actor: Actor, action: Action, case: Case | None = None, *, today: date | None = None) -> None:
    """``check``, raising ``Refused`` instead of returning the reason."""
    if (reason := check(actor, action, case, today=today)) is not None:
        raise Refused(reason, case.status if case is not None and reason is Reason.NOT_NOW else None)


def allows(actor: Actor, action: Action) -> bool:
    """For the actions without a report: the role filters of the routers."""
    return check(actor, action) is None


def may_use_template(actor: Actor, template_agency_id: int | None) -> bool:
    """Global templates serve everyone; an agency's only its own officers."""
    return template_agency_id is None or template_agency_id in actor.agency_ids


def may_manage_template(actor: Actor, template_agency_id: int | None) -> Reason | None:
    """Editing, retiring and restoring a template: whoever writes such templates today, so an
    admin the global ones and an active officer their agency's. An officer only uses the global
    ones, and an agency's template is its officers' words, not the coordinator's."""
    if template_agency_id is None:
        return None if actor.is_admin else Reason.FORBIDDEN
    return None if template_agency_id in actor.agency_ids else Reason.FORBIDDEN


def ensure_may_manage_template(actor: Actor, template_agency_id: int | None) -> None:
    if (reason := may_manage_template(actor, template_agency_id)) is not None:
        raise Refused(reason)


def may_link_group(actor: Actor, agency_id: int) -> Reason | None:
    """Asking to link a group chat to an agency, or unlinking it from the group: an active
    officer of that agency (an admin confirms the link; admins may also unlink). Anyone else in
    the group, an officer of another agency included, is refused."""
    if agency_id in actor.agency_ids:
        return None
    return Reason.FORBIDDEN


def ensure_may_link_group(actor: Actor, agency_id: int) -> None:
    if (reason := may_link_group(actor, agency_id)) is not None:
        raise Refused(reason)


def may_change_settings(actor: Actor, citizen_id: int, *, consented: bool) -> Reason | None:
    """A citizen's own settings (/pengaturan): announcements and immediate updates or a digest.
    Only on their own row (the buttons carry no id; this guards a mix-up in the code), and only
    after consent: before it the row keeps the Telegram id and language only, and a citizen
    without consent receives neither announcements nor updates anyway. The language is anyone's
    to choose, at any time (/bahasa)."""
    if actor.citizen_id is None or actor.citizen_id != citizen_id:
        return Reason.FORBIDDEN
    if not consented:
        return Reason.NOT_NOW
    return None


def ensure_may_change_settings(actor: Actor, citizen_id: int, *, consented: bool) -> None:
    if (reason := may_change_settings(actor, citizen_id, consented=consented)) is not None:
        raise Refused(reason)
