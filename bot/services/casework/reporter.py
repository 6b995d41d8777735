"""The reporter's side of the dialogue: answering an officer's question (with files), rating the
answer and commenting, disputing it within the reply window, the check-in's answer; and the
auto-close when the reporter does not reply in time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import access, deadlines
from bot.domain.access import Action, Actor, Reason, Refused
from bot.domain.enums import ActorRole, EventKind, ReportStatus
from bot.domain.lifecycle import WITH_AGENCY
from bot.domain.privacy import protect_location
from bot.domain.text_rules import validate_reason
from bot.services import audit, related
from bot.services.audit import AuditAction
from bot.services.casework import core
from bot.services.casework.core import Casework
from bot.services.intake import DraftAttachment
from bot.services.notices import AutoClosed, ReporterSaid, Withdrawn
from bot.services.recipients import reporter_of
from storage.models import Attachment, Report
from storage.repositories.cases import CaseRepo
from storage.repositories.jobs import JobRepo
from storage.repositories.reports import ReportRepo

S = ReportStatus
RATINGS = range(1, 6)
# The check-in job (bot/jobs/checkin.py) records each question as an effect of this job; an
# answer is recorded under the second name, once.
CHECKIN_JOB = "checkin"
CHECKIN_ANSWER = "checkin_answer"


def checkin_key(report_id: int) -> str:
    return f"report:{report_id}"


# A file the reporter sends with an answer: kept on Telegram's servers by file_id, described as a
# report's own attachments are.
FileRef = DraftAttachment


async def report_for(
    session: AsyncSession, cw: Casework, actor: Actor, action: Action, report_id: int, now: datetime
) -> Report:
    """The reporter's report, if the button they pressed (reply, rate, dispute) still applies."""
    return await core.report_for(session, actor, action, report_id, today=cw.today(now))


async def pending_questions(session: AsyncSession, actor: Actor) -> Sequence[Report]:
    """The citizen's reports waiting for their answer to an officer's question."""
    if actor.citizen_id is None:
        return []
    return await CaseRepo(session).citizen_reports_in(actor.citizen_id, S.AWAITING_REPORTER)


async def accepts_more_reply(session: AsyncSession, actor: Actor, report_id: int) -> bool:
    """Whether a file sent right after an answer (an album arrives one message per photo) still
    belongs to that answer: nothing has changed the status since."""
    report = await core.load(session, report_id)
    return access.check(actor, Action.ADD_TO_REPLY, report) is None and await _last_was_reply(session, report_id)


async def _last_was_reply(session: AsyncSession, report_id: int) -> bool:
    last = await CaseRepo(session).last_status_event(report_id)
    return last is not None and last.kind == EventKind.REPORTER_REPLIED


async def reporter_reply(
    session: AsyncSession, cw: Casework, actor: Actor, report_id: int, text: str | None,
    files: Sequence[FileRef], now: datetime, *, continuing: bool = False,
) -> Report:
    """The reporter's answer to a question: onto the timeline and to every officer of the
    agency (re-sent as text and file_ids, never forwarded). ``continuing``: more files of an
    answer already sent, allowed while nothing else has happened since."""
    note = validate_reason(text) if text and text.strip() else None
    if note is None and not files:
        raise Refused(Reason.INVALID)
    if continuing:
        report = await core.report_for(session, actor, Action.ADD_TO_REPLY, report_id)
        if not await _last_was_reply(session, report_id):
            raise Refused(Reason.NOT_NOW)
        from_status = to_status = None
    else:
        report = await core.report_for(session, actor, Action.REPLY, report_id)
        from_status, to_status = report.status, S.IN_PROGRESS
        report = await core.change_status(session, report, S.IN_PROGRESS,
                                          calendar=cw.calendar, notifier=cw.notifier, now=now)
    agency_id = report.agency_id
    assert agency_id is not None
    # The event carries the files, so it is added here rather than by core.move.
    event = await core.add_event(session, report, EventKind.REPORTER_REPLIED, role=ActorRole.CITIZEN,
                                 actor_id=actor.citizen_id, agency_id=agency_id, from_status=from_status,
                                 to_status=to_status, note=note, now=now)
    stored = await _store_files(session, report, event.id, files, now)
    said = ReporterSaid(report, EventKind.REPORTER_REPLIED, note, stored)
    await core.tell_officers(session, cw, agency_id, said, now=now)
    await session.commit()
    return report


# -- information the reporter adds on their own -------------------------------------------------
@dataclass(frozen=True)
class Addition:
    """What the reporter sends: words, files (a voice note among them), a map point."""

    text: str | None = None
    files: Sequence[FileRef] = ()
    location: tuple[float, float] | None = None

    @property
    def is_empty(self) -> bool:
        return not (self.text or "").strip() and not self.files and self.location is None


RELAY_WINDOW = timedelta(hours=1)


def may_add_information(actor: Actor, report: Report) -> bool:
    return access.check(actor, Action.ADD_INFO, report) is None


async def report_accepting_additions(session: AsyncSession, actor: Actor, report_id: int) -> Report:
    """The reporter's report, if information may be added to it now (open, not muted); else
    ``Refused`` with the reason."""
    return await core.report_for(session, actor, Action.ADD_INFO, report_id)


async def add_information(
    session: AsyncSession, cw: Casework, actor: Actor, report_id: int, addition: Addition, now: datetime,
    *, continuing: bool = False,
) -> Report:
    """Information the reporter adds to an open report: onto the timeline and to every officer
    of the agency (the admins while no agency holds it), re-sent as our own message, files
    cleaned for an anonymous report. At most ``cw.relays_per_hour`` a report an hour (files of
    one album, ``continuing``, count but are not refused halfway); refused while the officers
    muted the report's relays."""
    if addition.is_empty:
        raise Refused(Reason.INVALID)
    note = validate_reason(addition.text) if (addition.text or "").strip() else None
    report = await core.report_for(session, actor, Action.ADD_INFO, report_id)
    repo = CaseRepo(session)
    if not continuing:
        recent = await repo.count_events_since(report.id, [EventKind.REPORTER_ADDED], now - RELAY_WINDOW)
        if recent >= cw.relays_per_hour:
            raise Refused(Reason.TOO_MANY)
    location = None
    if addition.location is not None:
        # An anonymous report's point is coarsened before it is stored or sent.
        location = protect_location(report.privacy, *addition.location)
        point = f"📍 {round(location[0], 6)}, {round(location[1], 6)}"
        note = "\n".join(p for p in (note, point) if p)
    event = await core.add_event(session, report, EventKind.REPORTER_ADDED, role=ActorRole.CITIZEN,
                                 actor_id=actor.citizen_id, agency_id=report.agency_id, from_status=None,
                                 to_status=None, note=note, now=now)
    stored = await _store_files(session, report, event.id, addition.files, now)
    said = ReporterSaid(report, EventKind.REPORTER_ADDED, note, stored, location=location)
    if report.agency_id is not None:
        await core.tell_officers(session, cw, report.agency_id, said, now=now)
    else:
        # Still with the coordinators (verification, re-routing): they hear of it.
        await core.tell_admins(session, cw, replace(said, to_admins=True), now=now)
    await session.commit()
    return report


async def _store_files(
    session: AsyncSession, report: Report, event_id: int, files: Sequence[FileRef], now: datetime
) -> list[Attachment]:
    repo = ReportRepo(session)
    return [
        await repo.add_attachment(
            Attachment(report_id=report.id, event_id=event_id, file_id=f.file_id,
                       file_unique_id=f.file_unique_id, kind=f.kind, file_size=f.file_size,
                       mime_type=f.mime_type, file_name=f.file_name, created_at=now)
        )
        for f in files
    ]


async def set_relays_muted(
    session: AsyncSession, actor: Actor, report_id: int, *, muted: bool, now: datetime
) -> Report:
    """An officer of the report's agency stops (or lets again) the reporter's additions on it.
    Audited: it silences a citizen."""
    report = await core.report_for(session, actor, Action.MUTE_REPORTER, report_id)
    await CaseRepo(session).set_relays_muted(report.id, now if muted else None)
    await audit.record(session, actor, AuditAction.MUTE_REPORTER if muted else AuditAction.UNMUTE_REPORTER,
                       f"report:{report.id}", {"tracking_id": report.tracking_id, "agency_id": report.agency_id})
    await session.commit()
    reloaded = await core.load(session, report.id)
    assert reloaded is not None
    return reloaded


async def accept_answer(
    session: AsyncSession, cw: Casework, actor: Actor, report_id: int, rating: int, now: datetime
) -> Report:
    if rating not in RATINGS:
        raise Refused(Reason.INVALID)
    report = await report_for(session, cw, actor, Action.RATE, report_id, now)
    agency_id = report.agency_id
    report = await core.move(session, report, S.CLOSED, EventKind.ACCEPTED, role=ActorRole.CITIZEN,
                             actor_id=actor.citizen_id, agency_id=agency_id, note=f"{rating}/5",
                             values={"closed_at": now, "rating": rating},
                             calendar=cw.calendar, notifier=cw.notifier, now=now)
    if agency_id is not None:
        await core.tell_officers(session, cw, agency_id, ReporterSaid(report, EventKind.ACCEPTED), now=now)
    await related.tell_followers(session, cw.notifier, report, EventKind.ACCEPTED, agency_name=None, now=now)
    await session.commit()
    return report


async def add_rating_comment(
    session: AsyncSession, cw: Casework, actor: Actor, report_id: int, comment: str, now: datetime
) -> Report:
    comment = validate_reason(comment)
    report = await core.report_for(session, actor, Action.COMMENT, report_id)
    agency_id = report.agency_id
    report = await core.change_status(session, report, S.CLOSED, values={"rating_comment": comment},
                                      calendar=cw.calendar, notifier=cw.notifier, now=now)
    if agency_id is not None:
        await core.tell_officers(session, cw, agency_id, ReporterSaid(report, EventKind.NOTE, comment), now=now)
    await session.commit()
    return report


async def _reopen(
    session: AsyncSession, cw: Casework, actor: Actor, report: Report, kind: EventKind, *,
    note: str | None = None, now: datetime,
) -> Report:
    """Back to the agency on the reporter's word: a dispute of the answer, or "not solved" at
    the check-in. Counts the reopening, restarts the follow-up deadline, tells the officers."""
    agency_id = report.agency_id
    report = await core.move(
        session, report, S.IN_PROGRESS, kind, role=ActorRole.CITIZEN, actor_id=actor.citizen_id,
        agency_id=agency_id, note=note,
        values={
            # An SQL expression, not the value read earlier: two reopenings both count.
            "reopened_count": Report.reopened_count + 1,
            "followup_due": deadlines.followup_due(now, cw.calendar),
            "reply_due": None,
            "closed_at": None,
        },
        calendar=cw.calendar, notifier=cw.notifier, now=now,
    )
    if agency_id is not None:
        await core.tell_officers(session, cw, agency_id, ReporterSaid(report, kind, note), now=now)
    return report


async def dispute_answer(
    session: AsyncSession, cw: Casework, actor: Actor, report_id: int, reason: str, now: datetime
) -> Report:
    """Belum selesai: back to the agency, within the reply window only."""
    reason = validate_reason(reason)
    report = await report_for(session, cw, actor, Action.DISPUTE, report_id, now)
    agency_id = report.agency_id
    report = await _reopen(session, cw, actor, report, EventKind.DISPUTED, note=reason, now=now)
    await core.tell_reporter(session, cw, report, EventKind.DISPUTED, agency_id=agency_id, now=now)
    await session.commit()
    return report


async def withdraw(
    session: AsyncSession, cw: Casework, actor: Actor, report_id: int, reason: str, now: datetime
) -> Report:
    """The reporter takes their report back before it is answered. The agency working on it and
    the coordinating admins are told, with the reason (never who withdrew it)."""
    reason = validate_reason(reason)
    report = await core.report_for(session, actor, Action.WITHDRAW, report_id)
    with_agency = report.agency_id if report.status in WITH_AGENCY else None
    report = await core.move(session, report, S.WITHDRAWN, EventKind.WITHDRAWN, role=ActorRole.CITIZEN,
                             actor_id=actor.citizen_id, agency_id=with_agency, note=reason,
                             calendar=cw.calendar, notifier=cw.notifier,
                             now=now)
    notice = Withdrawn(report, reason)
    if with_agency is not None:
        await core.tell_officers(session, cw, with_agency, notice, now=now, besides=actor.citizen_id)
    await core.tell_admins(session, cw, notice, now=now)
    await related.tell_followers(session, cw.notifier, report, EventKind.WITHDRAWN, agency_name=None, now=now)
    await session.commit()
    return report


class CheckinAnswer(StrEnum):
    THANKED = "thanked"
    REOPENED = "reopened"
    # Not asked, not theirs, already answered, or no longer closed: the button is stale.
    STALE = "stale"


async def answer_checkin(
    session: AsyncSession, cw: Casework, actor: Actor, report_id: int, *, solved: bool, now: datetime
) -> CheckinAnswer:
    """The reporter's answer to a check-in (bot/jobs/checkin.py): "no" reopens the report as a
    dispute does. The question must have been asked, and only the first answer counts."""
    report = await core.load(session, report_id)
    if access.check(actor, Action.CHECKIN, report) is not None:
        return CheckinAnswer.STALE
    assert report is not None
    repo = JobRepo(session)
    key = checkin_key(report_id)
    if not await repo.has_effect(CHECKIN_JOB, key) or not await repo.record_effect(CHECKIN_ANSWER, key, now):
        return CheckinAnswer.STALE
    answer = CheckinAnswer.THANKED
    if not solved:
        try:
            await _reopen(session, cw, actor, report, EventKind.CHECKIN_REOPENED, now=now)
        except Refused:
            return CheckinAnswer.STALE  # changed by someone else meanwhile (rolled back)
        answer = CheckinAnswer.REOPENED
    await session.commit()
    return answer


# -- nobody replied ------------------------------------------------------------------------------
async def close_unanswered(session: AsyncSession, cw: Casework, report_id: int, now: datetime) -> bool:
    """Close an answered report whose reply window has passed, and tell the reporter; False when
    the reporter replied meanwhile (disputed, rated) or another process closed it first."""
    report = await core.load(session, report_id)
    if report is None or report.status != S.ANSWERED:
        return False
    try:
        report = await core.move(session, report, S.CLOSED, EventKind.AUTO_CLOSED, role=ActorRole.SYSTEM,
                                 actor_id=None, agency_id=None, values={"closed_at": now},
                                 calendar=cw.calendar, notifier=cw.notifier,
                                 now=now)
    except Refused:
        return False
    if (to := await reporter_of(session, report)) is not None:
        await cw.notifier.send(session, to, AutoClosed(report), now=now)
    await related.tell_followers(session, cw.notifier, report, EventKind.AUTO_CLOSED, agency_name=None, now=now)
    await session.commit()
    return True
