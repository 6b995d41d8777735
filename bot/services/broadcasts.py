"""Announcements to many chats (/umumkan): audience, one outbox row per recipient, progress.

The broadcast row and every recipient's outbox row are written in one transaction, so the
delivery loop either has the whole list or nothing. Each row is claimed and sent once (the
outbox lease), which is what lets a restart resume without duplicates or gaps: progress is
simply the outbox counts of ``group_key = "broadcast:<id>"``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from aiogram import Bot
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain import access
from bot.domain.access import Action, Actor
from bot.domain.enums import AgencyKind
from bot.domain.paging import clamp_page
from bot.services import audit
from bot.services.notices import Notice
from bot.services.outbox import enqueue
from bot.services.ports import Notifier
from storage.base import utcnow
from storage.models import Agency, Broadcast
from storage.models.outbox import OutboxStatus
from storage.repositories.agencies import AgencyRepo
from storage.repositories.broadcasts import BroadcastRepo
from storage.repositories.outbox import OutboxRepo

log = logging.getLogger(__name__)
# How long closing waits for a progress refresh under way before cancelling it.
CLOSE_WAIT = 5.0


class EmptyAudience(ValueError):
    pass


class AudienceKind(StrEnum):
    CITIZENS = "citizens"  # citizens only: not the active officers, not the admins
    OFFICERS = "officers"
    AGENCY = "agency"  # the officers of one agency
    # Citizens whose reports concern one area: a kecamatan (its kelurahan and desa included),
    # or one kelurahan or desa (issue 13).
    AREA = "area"


class BroadcastStatus(StrEnum):
    SENDING = "sending"
    DONE = "done"
    STOPPED = "stopped"


class MediaKind(StrEnum):
    PHOTO = "photo"
    DOCUMENT = "document"


@dataclass(frozen=True)
class Audience:
    kind: AudienceKind
    agency_id: int | None = None

    def __post_init__(self) -> None:
        if (self.kind in (AudienceKind.AGENCY, AudienceKind.AREA)) != (self.agency_id is not None):
            raise ValueError("an agency or area audience needs an agency id, and only they")


@dataclass(frozen=True)
class Draft:
    """What the admin composed: Telegram HTML (their own formatting) and at most one file."""

    text: str
    media_kind: MediaKind | None = None
    file_id: str | None = None

    def call(self) -> tuple[str, dict[str, Any]]:
        """The Bot API method and parameters (without chat_id) every recipient gets; the
        preview uses the very same call, so the admin sees exactly what recipients will."""
        if self.media_kind is MediaKind.PHOTO:
            return "sendPhoto", {"photo": self.file_id, "caption": self.text,
                                 "parse_mode": ParseMode.HTML.value}
        if self.media_kind is MediaKind.DOCUMENT:
            return "sendDocument", {"document": self.file_id, "caption": self.text,
                                    "parse_mode": ParseMode.HTML.value}
        return "sendMessage", {"text": self.text, "parse_mode": ParseMode.HTML.value}


def group_key(broadcast_id: int) -> str:
    return f"broadcast:{broadcast_id}"


async def recipients(
    session: AsyncSession, audience: Audience, *, admin_ids: Collection[int]
) -> list[tuple[int, int]]:
    """``(citizen_id, telegram_id)`` of everyone the announcement would reach now. The preview's
    count and the send both come from here, so they agree. ``admin_ids``: the configured
    coordinators, who are no citizens' audience."""
    repo = BroadcastRepo(session)
    if audience.kind is AudienceKind.CITIZENS:
        return await repo.citizens_only(admin_ids)
    if audience.kind is AudienceKind.OFFICERS:
        return await repo.active_officers()
    if audience.kind is AudienceKind.AREA:
        assert audience.agency_id is not None
        area = {audience.agency_id} | await AgencyRepo(session).village_ids_under([audience.agency_id])
        return await repo.citizens_only(admin_ids, concerning=area)
    return await repo.active_officers(audience.agency_id)


async def count_recipients(
    session: AsyncSession, audience: Audience, *, actor: Actor, admin_ids: Collection[int]
) -> int:
    access.ensure(actor, Action.ADMINISTER)
    return len(await recipients(session, audience, admin_ids=admin_ids))


async def audience_agency(session: AsyncSession, agency_id: int, *, actor: Actor) -> Agency | None:
    """The agency whose officers an announcement would reach, if it still exists."""
    access.ensure(actor, Action.ADMINISTER)
    return await AgencyRepo(session).get(agency_id)


AREA_KINDS = (AgencyKind.KECAMATAN, AgencyKind.KELURAHAN, AgencyKind.DESA)


async def area(session: AsyncSession, agency_id: int, *, actor: Actor) -> Agency | None:
    """The kecamatan, kelurahan or desa an area announcement would be about, if it exists."""
    access.ensure(actor, Action.ADMINISTER)
    agency = await AgencyRepo(session).get(agency_id)
    return agency if agency is not None and agency.kind in AREA_KINDS else None


async def area_choices(
    session: AsyncSession, *, actor: Actor, kecamatan_id: int | None = None, page: int = 0,
    per_page: int = 8,
) -> tuple[list[Agency], int, int]:
    """One page of the kecamatan (``kecamatan_id`` None) or of one kecamatan's kelurahan and
    desa: ``(agencies, page, pages)``, the page clamped (a stale button may point past the end)."""
    access.ensure(actor, Action.ADMINISTER)
    repo = AgencyRepo(session)
    if kecamatan_id is None:
        total = await repo.count_by_kind(AgencyKind.KECAMATAN)
        page, pages = clamp_page(page, total, per_page)
        return list(await repo.list_by_kind(AgencyKind.KECAMATAN, offset=page * per_page, limit=per_page)), page, pages
    page, pages = clamp_page(page, await repo.count_children(kecamatan_id), per_page)
    return list(await repo.children(kecamatan_id, offset=page * per_page, limit=per_page)), page, pages


# -- quiet hours ------------------------------------------------------------------------------
@dataclass(frozen=True)
class QuietHours:
    tz: str
    start: time
    end: time

    def release_at(self, now: datetime) -> datetime | None:
        """When a message written at ``now`` may go out: None if now is outside quiet hours."""
        zone = ZoneInfo(self.tz)
        local = now.astimezone(zone)
        t = local.time()
        if self.start <= self.end:
            quiet = self.start <= t < self.end
        else:  # over midnight, e.g. 21:00-07:00
            quiet = t >= self.start or t < self.end
        if not quiet:
            return None
        day = local.date() if t < self.end else local.date() + timedelta(days=1)
        return datetime.combine(day, self.end, zone)


# -- starting and stopping --------------------------------------------------------------------
async def start_broadcast(
    session: AsyncSession,
    draft: Draft,
    audience: Audience,
    *,
    actor: Actor,
    admin_ids: Collection[int],
    progress_chat_id: int | None = None,
    language: str | None = None,
    quiet_hours: QuietHours | None = None,
    now: datetime | None = None,
) -> Broadcast:
    """Write the broadcast and one outbox row per recipient, and commit them together.

    ``quiet_hours`` is given only when the configuration applies them to announcements.
    """
    access.ensure(actor, Action.ADMINISTER)
    now = now or utcnow()
    if audience.agency_id is not None and await AgencyRepo(session).get(audience.agency_id) is None:
        raise EmptyAudience("no such agency")
    if audience.kind is AudienceKind.AREA and await area(session, audience.agency_id or 0, actor=actor) is None:
        raise EmptyAudience("not a kecamatan, kelurahan or desa")
    people = await recipients(session, audience, admin_ids=admin_ids)
    if not people:
        raise EmptyAudience("nobody to send to")
    broadcast = await BroadcastRepo(session).add(
        Broadcast(
            created_by_id=actor.citizen_id,
            audience=audience.kind.value,
            agency_id=audience.agency_id,
            text=draft.text,
            media_kind=draft.media_kind.value if draft.media_kind else None,
            file_id=draft.file_id,
            total=len(people),
            status=BroadcastStatus.SENDING.value,
            progress_chat_id=progress_chat_id,
            language=language,
            created_at=now,
        )
    )
    method, payload = draft.call()
    not_before = quiet_hours.release_at(now) if quiet_hours else None
    key = group_key(broadcast.id)
    for citizen_id, telegram_id in people:
        await enqueue(session, chat_id=telegram_id, method=method, payload=payload,
                      citizen_id=citizen_id, group_key=key, not_before=not_before)
    await audit.record(session, actor, audit.AuditAction.BROADCAST, key,
                       {"audience": audience.kind.value, "agency_id": audience.agency_id,
                        "recipients": len(people), "media": broadcast.media_kind})
    await session.commit()
    return broadcast


async def stop_broadcast(
    session: AsyncSession, broadcast_id: int, *, actor: Actor, now: datetime | None = None,
) -> int | None:
    """Cancel what is not sent yet; returns how many rows were cancelled, None if the
    broadcast does not exist or had already ended. Rows already handed to Telegram finish."""
    access.ensure(actor, Action.ADMINISTER)
    now = now or utcnow()
    repo = BroadcastRepo(session)
    if await repo.get(broadcast_id) is None:
        return None
    if not await repo.finish(broadcast_id, BroadcastStatus.STOPPED.value, now):
        return None  # already done or stopped: the update changed nothing
    cancelled = await OutboxRepo(session).cancel_group(group_key(broadcast_id),
                                                       reason="broadcast stopped")
    await audit.record(session, actor, audit.AuditAction.BROADCAST_STOP, group_key(broadcast_id),
                       {"cancelled": cancelled})
    await session.commit()
    return cancelled


async def history(session: AsyncSession, *, actor: Actor, limit: int = 10
                  ) -> list[tuple[Broadcast, Progress]]:
    access.ensure(actor, Action.ADMINISTER)
    out = []
    for b in await BroadcastRepo(session).recent(limit):
        out.append((b, await progress(session, b)))
    return out


# -- progress ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Progress:
    total: int
    sent: int
    failed: int
    blocked: int
    cancelled: int
    remaining: int
    eta_seconds: float | None

    @property
    def finished(self) -> bool:
        return self.remaining == 0


def compute_progress(
    counts: dict[str, int], *, started_at: datetime, now: datetime, rate: float
) -> Progress:
    """Progress from outbox counts by status. The ETA uses the speed seen so far (flood waits
    included), or the configured rate before anything went out."""
    sent = counts.get(OutboxStatus.SENT.value, 0)
    failed = counts.get(OutboxStatus.FAILED.value, 0)
    blocked = counts.get(OutboxStatus.UNREACHABLE.value, 0)
    cancelled = counts.get(OutboxStatus.CANCELLED.value, 0)
    remaining = counts.get(OutboxStatus.PENDING.value, 0) + counts.get(OutboxStatus.SENDING.value, 0)
    processed = sent + failed + blocked
    elapsed = (now - started_at).total_seconds()
    speed = processed / elapsed if processed and elapsed > 0 else rate
    speed = min(speed, rate) if rate > 0 else speed
    eta = remaining / speed if remaining and speed > 0 else (0.0 if not remaining else None)
    return Progress(total=sum(counts.values()), sent=sent, failed=failed, blocked=blocked,
                    cancelled=cancelled, remaining=remaining, eta_seconds=eta)


async def progress(session: AsyncSession, broadcast: Broadcast, *, now: datetime | None = None,
                   rate: float = 25.0) -> Progress:
    counts = await OutboxRepo(session).counts_by_status(group_key(broadcast.id))
    return compute_progress(counts, started_at=broadcast.created_at, now=now or utcnow(), rate=rate)


@dataclass(frozen=True)
class BroadcastProgress(Notice):
    """The live progress message of an announcement (edited in place, with a stop button while
    it runs)."""

    broadcast: Broadcast
    progress: Progress

    @property
    def running(self) -> bool:
        return self.broadcast.status == BroadcastStatus.SENDING


async def progress_shown_in(session: AsyncSession, broadcast_id: int, chat_id: int, message_id: int) -> None:
    """Remember the message that shows the progress, so a restart edits it rather than
    sending another."""
    await BroadcastRepo(session).set_progress_message(broadcast_id, chat_id, message_id)
    await session.commit()


class BroadcastMonitor:
    """Keeps one edited progress message per running broadcast.

    After a restart ``resume`` restarts the updater of every broadcast still "sending"; the
    outbox rows themselves need nothing, the delivery loop just claims what is left.
    """

    def __init__(
        self,
        bot: Bot,
        session_factory: async_sessionmaker[AsyncSession],
        notifier: Notifier,
        *,
        rate: float = 25.0,
        interval: float = 3.0,
    ) -> None:
        self._bot = bot
        self._session_factory = session_factory
        self._notifier = notifier
        self._rate = rate
        self._interval = interval
        self._tasks: dict[int, asyncio.Task[None]] = {}
        # What each progress message shows now: an edit to the same text is a 400 from
        # Telegram ("message is not modified"), so unchanged progress is not sent.
        self._shown: dict[int, tuple[str, bool]] = {}
        self._closing = asyncio.Event()

    def watch(self, broadcast_id: int, *, shown: str | None = None) -> asyncio.Task[None]:
        """Keep the progress message current; ``shown`` is the text it was sent with."""
        if shown is not None:
            self._shown[broadcast_id] = (shown, True)
        task = self._tasks.get(broadcast_id)
        if task is None or task.done():
            task = asyncio.create_task(self._run(broadcast_id), name=f"broadcast-{broadcast_id}")
            self._tasks[broadcast_id] = task
        return task

    async def resume(self) -> list[int]:
        async with self._session_factory() as session:
            ids = [b.id for b in await BroadcastRepo(session).still_sending()]
        for broadcast_id in ids:
            self.watch(broadcast_id)
        return ids

    async def close(self) -> None:
        tasks = list(self._tasks.values())
        self._tasks.clear()
        self._closing.set()
        # A refresh under way finishes first: cancelled while aiosqlite opens a connection, it
        # leaves that connection's thread to report to an event loop that may be closed by then.
        pending = (await asyncio.wait(tasks, timeout=CLOSE_WAIT))[1] if tasks else set()
        for task in pending:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def refresh(self, broadcast_id: int) -> Progress | None:
        """One update of the progress message; returns None once there is nothing to watch."""
        now = utcnow()
        async with self._session_factory() as session:
            repo = BroadcastRepo(session)
            broadcast = await repo.get(broadcast_id)
            if broadcast is None:
                return None
            state = await progress(session, broadcast, now=now, rate=self._rate)
            if state.finished and broadcast.status == BroadcastStatus.SENDING:
                await repo.finish(broadcast_id, BroadcastStatus.DONE.value, now)
                await session.commit()
                broadcast = await repo.get(broadcast_id)
                assert broadcast is not None
            shown = BroadcastProgress(broadcast, state)
            running = shown.running
            text, markup = self._notifier.render(shown, broadcast.language)
            chat_id, message_id = broadcast.progress_chat_id, broadcast.progress_message_id
            if chat_id is not None and message_id is None:
                # Crashed between committing the broadcast and showing its progress message.
                sent = await self._bot.send_message(chat_id, text, reply_markup=markup)
                await repo.set_progress_message(broadcast_id, chat_id, sent.message_id)
                await session.commit()
                self._shown[broadcast_id] = (text, running)
            elif (chat_id is not None and message_id is not None
                  and self._shown.get(broadcast_id) != (text, running)):
                try:
                    await self._bot.edit_message_text(text=text, chat_id=chat_id,
                                                      message_id=message_id, reply_markup=markup)
                    self._shown[broadcast_id] = (text, running)
                except TelegramBadRequest as exc:
                    if "not modified" not in exc.message:
                        log.warning("broadcast %s: progress edit refused: %s", broadcast_id, exc.message)
                except TelegramAPIError:
                    log.warning("broadcast %s: progress edit failed", broadcast_id, exc_info=True)
        return state if running else None

    async def _run(self, broadcast_id: int) -> None:
        while not self._closing.is_set():
            try:
                state = await self.refresh(broadcast_id)
            except asyncio.CancelledError:
                raise
            except Exception:
                task = asyncio.current_task()
                if task is not None and task.cancelling():
                    # ``close`` cancelled us while the session was closing: SQLAlchemy turns the
                    # cancel into another error (PendingRollbackError). Swallowing it kept this
                    # loop alive and ``close`` waiting for it forever.
                    raise asyncio.CancelledError from None
                log.exception("broadcast %s: progress update failed", broadcast_id)
                state = Progress(0, 0, 0, 0, 0, 1, None)
            if state is None:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), self._interval)
