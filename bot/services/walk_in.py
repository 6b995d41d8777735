"""Complaints from outside Telegram: an admin files one for a citizen who came to the counter,
phoned, wrote or sent an SMS (/lapor_untuk), through the same form; the citizen gets a one-time
code (and a t.me link carrying it) with which they can take the report over in Telegram later.

The report is recorded with its channel (``Report.channel``, counted in statistics and the
export). The walk-in's name and phone are identity: admins only, never an agency, and erased
with the personal fields of closed reports (``bot/jobs/retention.py``, ``[privacy]
closed_report_days``). Only the code's SHA-256 is
kept; it works once, until it expires, and whoever uses it becomes the report's reporter.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import access
from bot.domain.access import Action, Actor, Reason, Refused
from bot.domain.enums import WALK_IN_CHANNELS, Channel
from bot.domain.text_rules import clean_text
from bot.domain.workdays import WorkCalendar
from bot.services.intake import Draft, SubmittedHook, submit_report
from storage.models import Report, WalkIn
from storage.repositories.reports import ReportRepo
from storage.repositories.walk_ins import WalkInRepo

CLAIM_PREFIX = "claim_"
# Read out over the phone or written on a slip: no 0/O, 1/I/L, 2/Z, 5/S, 8/B to confuse.
_ALPHABET = "34679ACDEFGHJKMNPQRTUVWXY"
_CODE_LEN = 10  # 25**10, about 9.5e13 codes
_CODE_RE = re.compile(rf"^[{_ALPHABET}]{{{_CODE_LEN}}}$")
NAME_MAX = 128
PHONE_MAX = 32
_PHONE_RE = re.compile(r"^\+?[0-9 ()./-]{6,32}$")


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def normalize_code(raw: str) -> str | None:
    """What a citizen types or the link carries, in canonical form; None if it cannot be one."""
    code = re.sub(r"[\s-]", "", raw.strip().removeprefix(CLAIM_PREFIX)).upper()
    return code if _CODE_RE.match(code) else None


def claim_link(bot_username: str, code: str) -> str:
    return f"https://t.me/{bot_username}?start={CLAIM_PREFIX}{code}"


def clean_name(text: str) -> str | None:
    name = clean_text(text)[:NAME_MAX].strip()
    return name or None


def clean_phone(text: str) -> str | None:
    phone = text.strip()
    return phone if _PHONE_RE.match(phone) else None


@dataclass(frozen=True)
class FiledForWalkIn:
    report: Report
    code: str  # the only copy of the secret: shown once to the admin, never logged
    expires_at: datetime


async def file_for(
    session: AsyncSession, actor: Actor, draft: Draft, *, channel: str, name: str | None, phone: str | None,
    calendar: WorkCalendar, claim_days: int, now: datetime, on_submitted: SubmittedHook | None = None,
) -> FiledForWalkIn:
    """File ``draft`` for a walk-in (the admin is not its reporter: nobody is, until the code is
    used). Commits."""
    access.ensure(actor, Action.ADMINISTER)
    if channel not in WALK_IN_CHANNELS:
        raise Refused(Reason.INVALID)
    code = "".join(secrets.choice(_ALPHABET) for _ in range(_CODE_LEN))
    expires_at = now + timedelta(days=claim_days)

    async def hook(s: AsyncSession, report: Report) -> None:
        # In the intake's transaction: the report never exists without its walk-in row.
        await WalkInRepo(s).add(WalkIn(report_id=report.id, name=name, phone=phone, filed_by_id=actor.citizen_id,
                                       code_hash=_hash(code), code_expires_at=expires_at, created_at=now))
        if on_submitted is not None:
            await on_submitted(s, report)

    report = await submit_report(session, None, draft, calendar, now, on_submitted=hook, channel=Channel(channel))
    return FiledForWalkIn(report, code, expires_at)


async def claim(session: AsyncSession, actor: Actor, raw_code: str, now: datetime) -> Report:
    """The citizen ``actor`` takes the report over: its reporter from now on (it hears of every
    update and may answer, rate or dispute). A wrong, used or expired code is refused alike
    (``Reason.INVALID``), so trying codes tells nothing. Commits."""
    code = normalize_code(raw_code)
    if actor.citizen_id is None or code is None:
        raise Refused(Reason.INVALID)
    repo = WalkInRepo(session)
    walk_in = await repo.by_code_hash(_hash(code))
    if walk_in is None or not await repo.claim(walk_in.id, actor.citizen_id, now):
        await session.rollback()
        raise Refused(Reason.INVALID)
    report = await ReportRepo(session).get(walk_in.report_id)
    assert report is not None
    if report.citizen_id is None:
        report.citizen_id = actor.citizen_id
    await session.commit()
    return report


async def walk_in_of(session: AsyncSession, actor: Actor, report_id: int) -> WalkIn | None:
    """The walk-in behind a report, for the admin's card only."""
    access.ensure(actor, Action.ADMINISTER)
    return await WalkInRepo(session).for_report(report_id)
