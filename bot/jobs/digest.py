"""Citizen digests: in digest mode a citizen's report updates wait in ``digest_item`` and go out
as one message per citizen at the configured times (default 09:00 and 16:00 local)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.config import Settings
from bot.domain.workdays import WorkCalendar
from bot.jobs.base import SessionFactory, language_of, lease_of, rendering, run_leased
from bot.services.notification_policy import (
    Recipient,
    digest_run_key,
    group_digest,
    not_before,
)
from bot.services.outbox import enqueue_message
from bot.ui.render import split_html
from storage.models.citizen import Citizen
from storage.repositories.jobs import JobRepo

JOB_NAME = "digest"


def latest_slot(now: datetime, settings: Settings, calendar: WorkCalendar) -> datetime:
    """The last digest time at or before ``now`` (UTC): the run a call at ``now`` belongs to,
    so a late call (catch-up after a restart) still counts as that slot's run."""
    local = now.astimezone(calendar.tz)
    times = sorted(settings.notifications.digest_times, reverse=True)
    for days in range(2):
        day = local.date() - timedelta(days=days)
        for t in times:
            slot = datetime.combine(day, t, tzinfo=calendar.tz)
            if slot <= local:
                return slot.astimezone(UTC)
    raise AssertionError("unreachable: some digest time falls within two days")


async def send_digests(
    session_factory: SessionFactory,
    settings: Settings,
    calendar: WorkCalendar,
    i18n: I18n,
    now: datetime,
) -> int | None:
    """Digest messages written, or None when another process has this slot. Runs in either
    citizen mode, so updates held back before a switch to "immediate" still go out."""
    if not settings.notifications.digest_times:
        return None
    slot = latest_slot(now, settings, calendar)

    async def body() -> int:
        return await flush_digests(session_factory, settings, calendar, i18n, now)

    return await run_leased(
        session_factory, JOB_NAME, digest_run_key(slot, calendar.tz), now, lease_of(settings), body
    )


async def flush_digests(
    session_factory: SessionFactory,
    settings: Settings,
    calendar: WorkCalendar,
    i18n: I18n,
    now: datetime,
) -> int:
    async with session_factory() as session:
        items = await JobRepo(session).pending_digest_items(now)
        grouped = group_digest(items)
    written = 0
    for citizen_id, citizen_items in grouped.items():
        async with session_factory() as session:
            repo = JobRepo(session)
            ids = [i.id for i in citizen_items]
            # Stamped and enqueued in one transaction; if anyone stamped some first, this
            # citizen's digest is theirs to send.
            if await repo.mark_digested(ids, now) != len(ids):
                await session.rollback()
                continue
            citizen = await session.get(Citizen, citizen_id)
            with rendering(i18n, language_of(citizen.language, settings)):
                header = _("<b>Updates on your reports</b>")
            wait = not_before(now, Recipient.CITIZEN, settings.notifications, calendar.tz)
            for text in split_html([header] + [i.text for i in citizen_items]):
                await enqueue_message(
                    session,
                    citizen_items[0].chat_id,
                    text,
                    citizen_id=citizen_id,
                    group_key=f"{JOB_NAME}:{citizen_id}",
                    not_before=wait,
                )
            await session.commit()
            written += 1
    return written

