"""When a notification may go out: quiet hours for citizens, and digest mode.

Pure time arithmetic first (testable without a database), then ``queue_citizen_update``: the one
call that turns a rendered citizen update into either an outbox row (``not_before`` = end of
quiet hours when inside them) or a digest item for the next digest.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import NotificationSettings
from bot.domain.enums import UpdateMode
from bot.services.outbox import enqueue_message
from storage.models.job import DigestItem
from storage.models.outbox import Outbox
from storage.repositories.jobs import JobRepo


class RecipientKind(StrEnum):
    CITIZEN = "citizen"
    OFFICER = "officer"
    ADMIN = "admin"
    BROADCAST = "broadcast"


def _aware(now: datetime) -> datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("pass an aware datetime (UTC)")
    return now


def in_quiet_hours(local: time, start: time, end: time) -> bool:
    """Whether a local wall-clock time falls in [start, end), the window possibly spanning
    midnight (21:00–07:00). Equal start and end mean no quiet hours."""
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end


def quiet_until(now: datetime, settings: NotificationSettings, tz: ZoneInfo) -> datetime | None:
    """The end of the quiet period ``now`` falls in (UTC), or None outside quiet hours."""
    local = _aware(now).astimezone(tz)
    start, end = settings.quiet_start, settings.quiet_end
    if not in_quiet_hours(local.time(), start, end):
        return None
    day = local.date()
    # Before midnight in a window that spans it: it ends tomorrow morning.
    if start > end and local.time() >= start:
        day += timedelta(days=1)
    return datetime.combine(day, end, tzinfo=tz).astimezone(UTC)


def not_before(
    now: datetime, recipient: RecipientKind | str, settings: NotificationSettings, tz: ZoneInfo
) -> datetime | None:
    """The outbox row's ``not_before`` for a message written at ``now``.

    Quiet hours protect citizens; officers and admins get work messages when they happen
    (their reminders are scheduled in working hours anyway). Broadcasts follow the switch.
    """
    match RecipientKind(recipient):
        case RecipientKind.CITIZEN:
            return quiet_until(now, settings, tz)
        case RecipientKind.BROADCAST if settings.quiet_hours_for_broadcasts:
            return quiet_until(now, settings, tz)
        case _:
            return None


def next_digest_at(now: datetime, settings: NotificationSettings, tz: ZoneInfo) -> datetime:
    """The first configured digest time strictly after ``now`` (UTC)."""
    local = _aware(now).astimezone(tz)
    times = sorted(settings.digest_times) or [time(9)]
    for days in range(2):
        day = local.date() + timedelta(days=days)
        for t in times:
            candidate = datetime.combine(day, t, tzinfo=tz)
            if candidate > local:
                return candidate.astimezone(UTC)
    raise AssertionError("unreachable: some digest time falls within two days")


def digest_run_key(slot: datetime, tz: ZoneInfo) -> str:
    """The lease key of one digest: its local date and time, e.g. ``2024-05-20T09:00``."""
    return _aware(slot).astimezone(tz).strftime("%Y-%m-%dT%H:%M")


def effective_mode(choice: str | None, default: str) -> UpdateMode:
    """The citizen's own choice of immediate updates or a digest wins over the deployment's
    default; an unknown stored value counts as no choice."""
    try:
        return UpdateMode(choice) if choice is not None else UpdateMode(default)
    except ValueError:
        return UpdateMode(default)


def group_digest(items: Sequence[DigestItem]) -> dict[int, list[DigestItem]]:
    """Pending items per citizen, oldest first, citizens in order of their oldest item."""
    grouped: dict[int, list[DigestItem]] = {}
    for item in sorted(items, key=lambda i: (i.created_at, i.id)):
        grouped.setdefault(item.citizen_id, []).append(item)
    return grouped


async def queue_citizen_update(
    session: AsyncSession,
    *,
    settings: NotificationSettings,
    tz: ZoneInfo,
    now: datetime,
    citizen_id: int,
    chat_id: int,
    text: str,
    report_id: int | None = None,
    reply_markup: BaseModel | dict[str, Any] | None = None,
    group_key: str | None = None,
    mode: str | None = None,
) -> Outbox | DigestItem:
    """Send a citizen an update about their report, as their mode says (``mode``: their own
    choice, None for the deployment's ``citizen_mode``).

    Immediate: an outbox row now, or at the end of quiet hours. Digest: the text waits in the
    digest queue. An update with buttons asks the reporter to act (answer a question, rate an
    answer) and their reply deadline runs from now, so it is not held for the digest; quiet
    hours still apply. Runs in the caller's transaction, like every outbox write.
    """
    if effective_mode(mode, settings.citizen_mode) is UpdateMode.DIGEST and reply_markup is None:
        return await JobRepo(session).add_digest_item(
            citizen_id=citizen_id, chat_id=chat_id, report_id=report_id, text=text, now=now
        )
    return await enqueue_message(
        session,
        chat_id,
        text,
        reply_markup,
        citizen_id=citizen_id,
        group_key=group_key or (f"report:{report_id}" if report_id is not None else None),
        not_before=not_before(now, RecipientKind.CITIZEN, settings, tz),
    )
