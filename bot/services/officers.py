"""Liaison officers: invites, binding through a deep link, listing and revoking.

Only admins invite, list and revoke; every function asks ``bot.domain.access`` itself because
callback data can be forged and a router filter is one line away from being forgotten. The
command line acts as ``access.COMMAND_LINE``, an admin (whoever runs it holds the server).

Invite codes are 192 random bits, shown once and stored only as their SHA-256: guessing is
hopeless and a copy of the database opens nothing. Failed attempts are counted per Telegram user
in the database, so a restart does not reset the budget.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from aiogram.types import User
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import access
from bot.domain.access import Action, Actor
from bot.domain.paging import clamp_page
from bot.services import recipients
from bot.services.audit import AuditAction, record
from bot.services.citizens import sync_profile
from bot.services.notices import NoLongerOfficer, OfficerJoined
from bot.services.notification_policy import RecipientKind
from bot.services.ports import Notifier, Recipient
from storage.base import utcnow
from storage.models import Agency, Citizen, Officer, OfficerInvite, Report
from storage.repositories.agencies import AgencyRepo
from storage.repositories.citizens import CitizenRepo
from storage.repositories.officers import OfficerRepo
from storage.repositories.outbox import OutboxRepo

log = logging.getLogger(__name__)

# The daily reminder job's name (bot/jobs/officer_reminders.py): its rows are grouped under it.
OFFICER_REMINDER_JOB = "officer_reminder"

INVITE_PREFIX = "inv_"
INVITE_TTL = timedelta(hours=72)
FAILURE_WINDOW = timedelta(hours=1)
MAX_FAILURES = 5
# token_urlsafe(24): 24 random bytes = 192 bits, 32 characters of [A-Za-z0-9_-], which is
# exactly the alphabet a /start payload allows (https://core.telegram.org/bots/features#deep-linking).
_CODE_BYTES = 24
_CODE_RE = re.compile(r"^[A-Za-z0-9_-]{32}$")


class AgencyNotFound(LookupError):
    pass


def hash_code(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def invite_link(bot_username: str, code: str) -> str:
    return f"https://t.me/{bot_username}?start={INVITE_PREFIX}{code}"


# -- creating --------------------------------------------------------------------------------
@dataclass(frozen=True)
class CreatedInvite:
    invite: OfficerInvite
    agency: Agency
    code: str  # the only copy of the secret: show it once, never log it

    def link(self, bot_username: str) -> str:
        return invite_link(bot_username, self.code)


async def create_invite(
    session: AsyncSession,
    agency_id: int,
    *,
    actor: Actor,
    ttl: timedelta = INVITE_TTL,
    now: datetime | None = None,
) -> CreatedInvite:
    access.ensure(actor, Action.ADMINISTER)
    now = now or utcnow()
    agency = await AgencyRepo(session).get_active(agency_id)
    if agency is None:
        raise AgencyNotFound(agency_id)
    code = secrets.token_urlsafe(_CODE_BYTES)
    invite = await OfficerRepo(session).add_invite(
        OfficerInvite(
            agency_id=agency.id,
            code_hash=hash_code(code),
            created_by_id=actor.citizen_id,
            expires_at=now + ttl,
            created_at=now,
        )
    )
    await record(session, actor, AuditAction.INVITE, f"agency:{agency.id}",
                 {"invite_id": invite.id, "agency": agency.name,
                  "expires_at": invite.expires_at.isoformat()})
    await session.commit()
    log.info("invite #%s for agency #%s (%s) by %s", invite.id, agency.id, agency.name,
             _who(actor))
    return CreatedInvite(invite=invite, agency=agency, code=code)


PICKER_PAGE = 8


async def agency_choices(
    session: AsyncSession, *, actor: Actor, page: int = 0, per_page: int = PICKER_PAGE
) -> tuple[list[Agency], int, int]:
    """One page of active agencies for the invite picker: ``(agencies, page, pages)``; the page
    is clamped, since a stale button may point past the end of a shrunken directory."""
    access.ensure(actor, Action.ADMINISTER)
    repo = AgencyRepo(session)
    page, pages = clamp_page(page, await repo.count_active(), per_page)
    return list(await repo.list_active(offset=page * per_page, limit=per_page)), page, pages


async def get_agency(session: AsyncSession, agency_id: int, *, actor: Actor) -> Agency | None:
    """One agency of the directory, active or not."""
    access.ensure(actor, Action.ADMINISTER)
    return await AgencyRepo(session).get(agency_id)


async def find_agencies(session: AsyncSession, query: str, *, actor: Actor) -> list[Agency]:
    access.ensure(actor, Action.ADMINISTER)
    return await AgencyRepo(session).search(query, limit=PICKER_PAGE)


# -- redeeming -------------------------------------------------------------------------------
class RedeemOutcome(StrEnum):
    BOUND = "bound"
    ALREADY_OFFICER = "already_officer"
    INVALID = "invalid"
    EXPIRED = "expired"
    USED = "used"
    RATE_LIMITED = "rate_limited"


@dataclass(frozen=True)
class RedeemResult:
    outcome: RedeemOutcome
    agency: Agency | None = None

    @property
    def ok(self) -> bool:
        return self.outcome in (RedeemOutcome.BOUND, RedeemOutcome.ALREADY_OFFICER)


async def redeem_invite(
    session: AsyncSession, citizen: Citizen, payload: str, *, now: datetime | None = None,
    user: User | None = None, notifier: Notifier | None = None, admin_ids: Iterable[int] = (),
) -> RedeemResult:
    """Bind ``citizen`` as an officer of the invite's agency, or say why not.

    ``payload`` is the /start argument (``inv_<code>``) or the bare code. A binding is audited
    and announced to the admins (``notifier``), so a leaked link used by a stranger is noticed
    at once; ``user`` is the Telegram profile to keep for the new officer (named on cards).
    """
    now = now or utcnow()
    repo = OfficerRepo(session)
    if await repo.count_failures(citizen.telegram_id, now - FAILURE_WINDOW) >= MAX_FAILURES:
        # Not counted as another failure: the window then frees up an hour after the fifth.
        return RedeemResult(RedeemOutcome.RATE_LIMITED)

    code = payload.removeprefix(INVITE_PREFIX)
    invite = await repo.invite_by_hash(hash_code(code)) if _CODE_RE.match(code) else None
    if invite is None:
        return await _fail(session, citizen, RedeemOutcome.INVALID, now)
    agency = await AgencyRepo(session).get(invite.agency_id)
    if invite.used_at is not None:
        binding = await repo.binding(invite.agency_id, citizen.id)
        if invite.used_by_id == citizen.id and binding and binding.revoked_at is None:
            # Their own link opened twice (a second tap, another device): no harm, no failure.
            return RedeemResult(RedeemOutcome.ALREADY_OFFICER, agency)
        return await _fail(session, citizen, RedeemOutcome.USED, now)
    if invite.expires_at <= now or agency is None or not agency.active:
        return await _fail(session, citizen, RedeemOutcome.EXPIRED, now)
    if not await repo.claim_invite(invite.id, citizen.id, now):
        return await _fail(session, citizen, RedeemOutcome.USED, now)

    binding = await repo.binding(agency.id, citizen.id)
    outcome = RedeemOutcome.BOUND
    if binding is None:
        await repo.add(Officer(agency_id=agency.id, citizen_id=citizen.id, invite_id=invite.id,
                               bound_at=now))
    elif binding.revoked_at is not None:
        binding.revoked_at = None
        binding.revoked_by_id = None
        binding.invite_id = invite.id
        binding.bound_at = now
    else:
        outcome = RedeemOutcome.ALREADY_OFFICER
    if user is not None:
        sync_profile(citizen, user, keep=True)
    if outcome is RedeemOutcome.BOUND:
        officer_actor = Actor(citizen_id=citizen.id, telegram_id=citizen.telegram_id)
        await record(session, officer_actor, AuditAction.INVITE_REDEEM, f"agency:{agency.id}",
                     {"invite_id": invite.id, "agency": agency.name,
                      "invited_by_citizen_id": invite.created_by_id})
        if notifier is not None:
            joined = OfficerJoined(agency_name=agency.name, telegram_id=citizen.telegram_id,
                                   name=" ".join(p for p in (citizen.first_name, citizen.last_name) if p),
                                   username=citizen.username)
            for to in await recipients.admins(session, admin_ids):
                await notifier.send(session, to, joined, now=now)
    await session.commit()
    log.info("citizen #%s bound as officer of agency #%s (%s) by invite #%s",
             citizen.id, agency.id, agency.name, invite.id)
    return RedeemResult(outcome, agency)


async def _fail(
    session: AsyncSession, citizen: Citizen, outcome: RedeemOutcome, now: datetime
) -> RedeemResult:
    # Nothing was written before a refusal (a lost claim changes no row), so no rollback: that
    # would also expire the caller's citizen row.
    await OfficerRepo(session).add_failure(citizen.telegram_id, now, outcome.value)
    await session.commit()
    log.warning("invite refused for telegram user %s: %s", citizen.telegram_id, outcome.value)
    return RedeemResult(outcome)


# -- listing and revoking --------------------------------------------------------------------
@dataclass(frozen=True)
class OfficerView:
    officer_id: int
    agency_id: int
    agency_name: str
    telegram_id: int
    first_name: str | None
    last_name: str | None
    username: str | None
    bound_at: datetime

    @property
    def display_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p) or str(self.telegram_id)


async def list_officers(
    session: AsyncSession, *, actor: Actor, agency_id: int | None = None
) -> list[OfficerView]:
    """Active officers with their Telegram identity: admins may see it, no one else."""
    access.ensure(actor, Action.ADMINISTER)
    rows = await OfficerRepo(session).active_with_people(agency_id)
    return [
        OfficerView(o.id, a.id, a.name, c.telegram_id, c.first_name, c.last_name, c.username,
                    o.bound_at)
        for o, c, a in rows
    ]


async def get_officer(session: AsyncSession, officer_id: int, *, actor: Actor) -> OfficerView | None:
    for view in await list_officers(session, actor=actor):
        if view.officer_id == officer_id:
            return view
    return None


@dataclass(frozen=True)
class RevokeResult:
    officer_id: int
    agency_name: str
    telegram_id: int
    language: str | None
    already_revoked: bool
    # Still an officer of another agency: their menu keeps the officer commands.
    still_officer: bool


async def revoke_officer(
    session: AsyncSession,
    officer_id: int,
    *,
    actor: Actor,
    notifier: Notifier | None = None,
    now: datetime | None = None,
) -> RevokeResult | None:
    """End one binding at once (roles are read from the database on every update).

    With a ``notifier`` the former officer is told, through the outbox in the same
    transaction. Returns None when there is no such officer.
    """
    access.ensure(actor, Action.ADMINISTER)
    now = now or utcnow()
    repo = OfficerRepo(session)
    officer = await repo.get(officer_id)
    if officer is None:
        return None
    agency = await AgencyRepo(session).get(officer.agency_id)
    person = await CitizenRepo(session).get(officer.citizen_id)
    assert agency is not None and person is not None
    already = officer.revoked_at is not None
    if not already:
        officer.revoked_at = now
        officer.revoked_by_id = actor.citizen_id
        await session.flush()
        # Cards, relayed answers and reminders about the agency's reports still queued for this
        # person would reach someone who may no longer read them.
        cancelled = await OutboxRepo(session).cancel_staff_rows_about(
            person.telegram_id, select(Report.id).where(Report.agency_id == agency.id),
            (f"{OFFICER_REMINDER_JOB}:",), reason="officer revoked")
        if cancelled:
            log.info("cancelled %s queued message(s) for the revoked officer #%s", cancelled, officer.id)
        if notifier is not None:
            to = Recipient(person.telegram_id, person.language, RecipientKind.OFFICER, person.id)
            await notifier.send(session, to, NoLongerOfficer(agency.name), now=now)
        await record(session, actor, AuditAction.REVOKE, f"agency:{agency.id}",
                     {"officer_id": officer.id, "agency": agency.name,
                      "officer_telegram_id": person.telegram_id})
    still = bool(await repo.active_agency_ids(person.id))
    await session.commit()
    if not already:
        log.info("officer #%s (citizen #%s) of agency #%s (%s) revoked by %s", officer.id,
                 person.id, agency.id, agency.name, _who(actor))
    return RevokeResult(officer.id, agency.name, person.telegram_id, person.language, already,
                        still)


def _who(actor: Actor) -> str:
    return f"citizen #{actor.citizen_id}" if actor.citizen_id is not None else "the command line"
