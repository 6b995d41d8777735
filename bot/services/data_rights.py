"""A citizen's rights under UU 27/2022 (UU PDP): see what is stored, withdraw consent, erase
their identity. Used by /privasi (the citizen) and /datawarga (an admin acting on a request
made outside the bot); every step is audited.

- **Withdrawing consent** stops processing: pending messages to them are cancelled, nothing
  more is sent (``recipients.reporter_of`` asks for consent), their profile goes, and their
  open reports go on without them, anonymous: the agency's follow-up is a public-service record.
- **Erasing the identity** removes the profile and the link between the person and every report
  they filed (reports, timeline entries, messages sent to them, conversation state); the
  reports stay, anonymous. Names are not guessed out of report texts.
Active officers and admins keep their role first: their name is on the cases they handle.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import access
from bot.domain.access import Action, Actor, Reason, Refused
from bot.domain.enums import EventKind, Privacy
from bot.domain.lifecycle import OPEN_STATUSES
from bot.domain.tracking import normalize_tracking_id
from bot.services import citizen_settings
from bot.services.audit import AuditAction, record
from bot.services.roles import resolve_actor
from storage.models import Citizen, Report
from storage.repositories.citizens import CitizenRepo
from storage.repositories.personal_data import PersonalDataRepo
from storage.repositories.reports import ReportRepo

# Timeline notes the reporter saw or wrote; others (internal notes, an agency's reason for
# returning a report) are staff records, not the reporter's data.
_NOTES_SHOWN = frozenset({
    EventKind.INFO_REQUESTED, EventKind.REPORTER_REPLIED, EventKind.ANSWERED, EventKind.REJECTED,
    EventKind.POSTPONED, EventKind.WITHDRAWN, EventKind.ACCEPTED, EventKind.DISPUTED,
    EventKind.LAPOR_RECORDED,
})
_CANCEL_REASON = "consent withdrawn"


@dataclass(frozen=True)
class Summary:
    reports: int
    open_reports: int


@dataclass(frozen=True)
class Outcome:
    reports_anonymised: int
    messages_cancelled: int


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


async def summary(session: AsyncSession, citizen: Citizen) -> Summary:
    reports = await PersonalDataRepo(session).reports_of(citizen.id)
    return Summary(len(reports), sum(1 for r in reports if r.status in OPEN_STATUSES))


async def export(session: AsyncSession, citizen: Citizen, *, actor: Actor, now: datetime) -> bytes:
    """Everything stored about ``citizen`` as JSON (UTF-8): profile, reports, timelines, files."""
    _ensure_self_or_admin(actor, citizen)
    repo = PersonalDataRepo(session)
    reports = await repo.reports_of(citizen.id)
    ids = [r.id for r in reports]
    events = await repo.events_of(ids)
    files = await repo.attachments_of(ids)
    data = {
        "exported_at": now.isoformat(),
        "profile": {
            "telegram_id": citizen.telegram_id, "first_name": citizen.first_name,
            "last_name": citizen.last_name, "username": citizen.username, "language": citizen.language,
            "first_contact_at": _iso(citizen.created_at), "consent_at": _iso(citizen.consent_at),
            "consent_withdrawn_at": _iso(citizen.consent_withdrawn_at),
        },
        # Their own choices in /pengaturan; "updates" None: the deployment's default.
        "settings": {
            "announcements": citizen.announcements_off_at is None,
            "announcements_off_since": _iso(citizen.announcements_off_at),
            "updates": citizen.update_mode,
        },
        "reports": [_report(r, [e for e in events if e.report_id == r.id],
                            [f for f in files if f.report_id == r.id]) for r in reports],
        # Others' reports they follow ("this is my problem too", a duplicate joined to it): that they
        # follow is theirs; the reports themselves are not.
        "following": [{"tracking_id": tracking_id, "since": _iso(since), "how": via}
                      for tracking_id, since, via in await repo.follows_of(citizen.id)],
    }
    await record(session, actor, AuditAction.DATA_EXPORT, f"citizen:{citizen.id}",
                 {"reports": len(reports), "by": _by(actor, citizen)})
    await session.commit()
    return json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")


def _report(r: Report, events, files) -> dict[str, Any]:
    return {
        "tracking_id": r.tracking_id, "classification": r.classification, "status": r.status,
        "privacy": r.privacy, "title": r.title, "description": r.body,
        "incident_date": _iso(r.incident_date), "location": r.location_text,
        "latitude": r.latitude, "longitude": r.longitude, "submitted_at": _iso(r.submitted_at),
        "closed_at": _iso(r.closed_at), "rating": r.rating, "rating_comment": r.rating_comment,
        "lapor_id": r.lapor_id,
        "files": [{"kind": f.kind, "file_name": f.file_name, "mime_type": f.mime_type,
                   "size": f.file_size} for f in files],
        "timeline": [{"at": _iso(e.created_at), "by": e.actor_role, "what": e.kind,
                      "from_status": e.from_status, "to_status": e.to_status,
                      "note": e.note if e.kind in _NOTES_SHOWN else None} for e in events],
    }


async def withdraw_consent(session: AsyncSession, citizen: Citizen, *, actor: Actor, now: datetime,
                           admin_ids: list[int]) -> Outcome:
    _ensure_self_or_admin(actor, citizen)
    await _ensure_not_staff(session, citizen, admin_ids)
    repo = PersonalDataRepo(session)
    open_ids = [r.id for r in await repo.reports_of(citizen.id) if r.status in OPEN_STATUSES]
    await repo.detach(citizen.id, open_ids, anonymous=Privacy.ANONYMOUS.value, public=Privacy.PUBLIC.value)
    cancelled = await repo.cancel_messages(citizen, _CANCEL_REASON)
    await repo.drop_follows(citizen.id)
    await repo.drop_digest_items(citizen.id)
    await repo.drop_conversation_state(citizen.telegram_id)
    citizen.consent_at = None
    citizen.consent_withdrawn_at = now
    citizen.first_name = citizen.last_name = citizen.username = None
    citizen_settings.forget(citizen)
    await record(session, actor, AuditAction.CONSENT_WITHDRAW, f"citizen:{citizen.id}",
                 {"reports_anonymised": len(open_ids), "messages_cancelled": cancelled,
                  "by": _by(actor, citizen)})
    await session.commit()
    return Outcome(len(open_ids), cancelled)


async def erase_identity(session: AsyncSession, citizen: Citizen, *, actor: Actor, now: datetime,
                         admin_ids: list[int]) -> Outcome:
    _ensure_self_or_admin(actor, citizen)
    await _ensure_not_staff(session, citizen, admin_ids)
    repo = PersonalDataRepo(session)
    ids = [r.id for r in await repo.reports_of(citizen.id)]
    await repo.detach(citizen.id, ids, anonymous=Privacy.ANONYMOUS.value, public=Privacy.PUBLIC.value)
    cancelled = await repo.cancel_messages(citizen, _CANCEL_REASON)
    await repo.forget_messages(citizen)
    await repo.drop_follows(citizen.id)
    await repo.drop_digest_items(citizen.id)
    await repo.drop_conversation_state(citizen.telegram_id)
    by = _by(actor, citizen)
    # The entry must not keep what it erased: a citizen's own request is recorded without
    # their Telegram id, an admin's under the admin.
    await record(session, actor if by == "admin" else None, AuditAction.IDENTITY_ERASE,
                 f"citizen:{citizen.id}", {"reports_anonymised": len(ids), "by": by})
    if await repo.has_staff_history(citizen.id):
        # A former officer stays named in the records of their work; the rest goes.
        citizen.consent_at = None
        citizen.consent_withdrawn_at = now
        citizen.first_name = citizen.last_name = citizen.username = None
        citizen_settings.forget(citizen)
    else:
        await repo.delete_citizen(citizen)
    await session.commit()
    return Outcome(len(ids), cancelled)


async def find(session: AsyncSession, query: str, *, actor: Actor) -> Citizen | None:
    """An admin looks a citizen up by a report's tracking id or by Telegram id."""
    access.ensure(actor, Action.ADMINISTER)
    query = query.strip()
    if query.isdigit():
        return await CitizenRepo(session).by_telegram_id(int(query))
    if tracking_id := normalize_tracking_id(query):
        report = await ReportRepo(session).by_tracking_id(tracking_id)
        return await CitizenRepo(session).get(report.citizen_id) if report else None
    return None


async def by_id(session: AsyncSession, citizen_id: int, *, actor: Actor) -> Citizen | None:
    access.ensure(actor, Action.ADMINISTER)
    return await CitizenRepo(session).get(citizen_id)


def _ensure_self_or_admin(actor: Actor, citizen: Citizen) -> None:
    if actor.citizen_id != citizen.id:
        access.ensure(actor, Action.ADMINISTER)


async def _ensure_not_staff(session: AsyncSession, citizen: Citizen, admin_ids: list[int]) -> None:
    who = await resolve_actor(session, citizen, admin_ids)
    if who.is_admin or who.is_officer:
        raise Refused(Reason.NOT_NOW)


def _by(actor: Actor, citizen: Citizen) -> str:
    return "citizen" if actor.citizen_id == citizen.id else "admin"
