"""The delivery loop: claims due outbox rows, sends them within Telegram's limits, records what
Telegram answered.

Delivery is at-least-once. A row is leased (``sending`` + ``claimed_until``) in one commit, sent,
and its result committed right after the call returns; a crash in between leaves the row
leased, and once the lease runs out it is claimed and sent again.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.methods import CreateForumTopic
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services import file_cleaning
from bot.services.outbox import UnknownMethodError, build_method
from bot.services.ratelimit import ChatPacer, RateLimiter, jittered_backoff
from storage.base import utcnow
from storage.models.outbox import Outbox
from storage.repositories.group_chats import GroupChatRepo
from storage.repositories.outbox import OutboxRepo

log = logging.getLogger(__name__)

# A revoked token fails every call; wait rather than burn every row's attempts.
_UNAUTHORIZED_PAUSE = 60.0


@dataclass(frozen=True, slots=True)
class _Job:
    """What the worker needs of a claimed row, detached from the session that loaded it."""

    id: int
    chat_id: int
    citizen_id: int | None
    method: str
    payload: dict[str, Any]
    attempts: int
    report_topic_id: int | None = None

    @classmethod
    def of(cls, row: Outbox) -> _Job:
        return cls(row.id, row.chat_id, row.citizen_id, row.method, dict(row.payload), row.attempts,
                   row.report_topic_id)


# Calls on a report's topic itself rather than messages in it: they never open a topic, and one
# that is gone (deleted, refused) or already as asked leaves nothing to do.
_TOPIC_CALLS = frozenset({"closeForumTopic", "reopenForumTopic"})


def _topic_gone(description: str) -> bool:
    text = description.lower()
    return "thread not found" in text or "topic_closed" in text or "topic_deleted" in text


def _message_id(result: Any) -> int | None:
    # sendMediaGroup answers with a list of messages; copyMessage with a bare MessageId.
    if isinstance(result, list):
        result = result[0] if result else None
    return getattr(result, "message_id", None)


class DeliveryWorker:
    def __init__(
        self,
        bot: Bot,
        session_factory: async_sessionmaker[AsyncSession],
        *,
        global_rate: float = 25.0,
        per_chat_interval: float = 1.0,
        batch: int = 50,
        lease: timedelta = timedelta(seconds=60),
        max_attempts: int = 8,
        backoff_base: timedelta = timedelta(seconds=10),
        backoff_cap: timedelta = timedelta(minutes=10),
        max_in_flight: int = 8,
        clock: Callable[[], datetime] = utcnow,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        rng: random.Random | None = None,
        pacer: ChatPacer | None = None,
    ) -> None:
        self.bot = bot
        # Shared with the handlers' direct replies: together they keep each chat's pace.
        self._pacer = pacer
        self._session_factory = session_factory
        self._batch = batch
        self._lease = lease
        self._max_attempts = max_attempts
        self._backoff_base = backoff_base.total_seconds()
        self._backoff_cap = backoff_cap.total_seconds()
        self._max_in_flight = max_in_flight
        self._clock = clock
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._limiter = RateLimiter(
            global_rate, per_chat_interval, clock=self._seconds, sleep=sleep
        )
        self._wake = asyncio.Event()
        self._origin = clock()

    def _seconds(self) -> float:
        # Seconds since start rather than since 1970: small floats keep slot arithmetic exact
        # to the microsecond.
        return (self._clock() - self._origin).total_seconds()

    def wake(self) -> None:
        """Look for work now instead of after the idle sleep; call after committing rows."""
        self._wake.set()

    async def run_forever(self, stop_event: asyncio.Event, idle_sleep: float = 1.0) -> None:
        while not stop_event.is_set():
            # Cleared before the claim, so a wake() during the batch is not lost.
            self._wake.clear()
            if self._limiter.paused():
                # A flood wait: sleep it out, but let a shutdown interrupt it.
                pause = self._limiter.paused_until - self._seconds()
                await self._idle(stop_event, pause, wakeable=False)
                continue
            try:
                handled = await self.run_once()
            except Exception:
                log.exception("delivery batch failed")
                handled = 0
            if not handled:
                await self._idle(stop_event, idle_sleep)

    async def _idle(
        self, stop_event: asyncio.Event, seconds: float, *, wakeable: bool = True
    ) -> None:
        waiters = [
            asyncio.ensure_future(stop_event.wait()),
            asyncio.ensure_future(self._sleep(seconds)),
        ]
        if wakeable:
            waiters.append(asyncio.ensure_future(self._wake.wait()))
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    async def run_once(self) -> int:
        """Claim one batch and send it; returns how many rows were claimed."""
        await self._limiter.wait_pause()
        claimed_at = self._clock()
        async with self._session_factory() as session:
            rows = await OutboxRepo(session).claim_due(claimed_at, self._batch, self._lease)
            jobs = [_Job.of(row) for row in rows]
            await session.commit()
        if not jobs:
            return 0
        # Stop dispatching well before the lease runs out, or another worker could claim and
        # send the same row while we still hold it.
        deadline = (claimed_at + self._lease / 2 - self._origin).total_seconds()
        # One row per chat per batch (see claim_due); chats free now go before chats still in
        # their per-chat gap, so a chat that was just written to does not hold up the others.
        now = (claimed_at - self._origin).total_seconds()
        jobs.sort(key=lambda j: (max(now, self._limiter.key_ready_at(j.chat_id)), j.id))
        in_flight = asyncio.Semaphore(self._max_in_flight)
        tasks: list[asyncio.Task[None]] = []
        unsent: list[_Job] = []
        for index, job in enumerate(jobs):
            await in_flight.acquire()
            if not self._may_dispatch(deadline):
                unsent = jobs[index:]
                in_flight.release()
                break
            await self._limiter.acquire(job.chat_id)
            if not self._may_dispatch(deadline):
                unsent = jobs[index:]
                in_flight.release()
                break
            tasks.append(asyncio.create_task(self._deliver(job, in_flight)))
        await asyncio.gather(*tasks)
        if unsent:
            await self._write(lambda repo: repo.release(j.id for j in unsent))
        return len(jobs)

    def _may_dispatch(self, deadline: float) -> bool:
        return not self._limiter.paused() and self._seconds() < deadline

    async def _deliver(self, job: _Job, in_flight: asyncio.Semaphore) -> None:
        try:
            await self._send_and_record(job)
        except Exception:
            # The row stays leased and is sent again once the lease expires.
            log.exception("recording delivery of outbox row %s failed", job.id)
        finally:
            in_flight.release()

    async def _topic_thread(self, job: _Job) -> int | None:
        """The forum topic a row about a report goes to, opened now if it is the report's first
        message in that group (rows of one chat go out one at a time, in order, so the topic is
        opened once). A group that refuses topics (the bot is not an admin with the right to
        manage them, or it is no forum) gets the report's messages in its General topic."""
        assert job.report_topic_id is not None
        async with self._session_factory() as session:
            topic = await GroupChatRepo(session).topic_by_id(job.report_topic_id)
        if topic is None or topic.failed_at is not None:
            return None
        if topic.message_thread_id is not None or job.method in _TOPIC_CALLS:
            return topic.message_thread_id
        try:
            created = await self.bot(CreateForumTopic(chat_id=job.chat_id, name=topic.name))
        except TelegramBadRequest as exc:
            log.warning("group %s refused a topic for report #%s: %s", job.chat_id, topic.report_id, exc.message)
            now = self._clock()
            await self._write_topic(lambda repo: repo.topic_failed(topic.id, now))
            return None
        thread = created.message_thread_id
        await self._write_topic(lambda repo: repo.topic_opened(topic.id, thread))
        return thread

    async def _write_topic(self, change: Callable[[GroupChatRepo], Awaitable[object]]) -> None:
        async with self._session_factory() as session:
            await change(GroupChatRepo(session))
            await session.commit()

    async def _send_and_record(self, job: _Job) -> None:
        if job.report_topic_id is not None:
            try:
                thread = await self._topic_thread(job)
            except TelegramRetryAfter as exc:
                self._limiter.pause(exc.retry_after)
                next_at = self._clock() + timedelta(seconds=exc.retry_after)
                reason = exc.message
                await self._write(lambda repo: repo.mark_retry(job.id, next_at, reason, count_attempt=False))
                return
            except Exception as exc:
                await self._retry(job, exc)
                return
            if thread is not None:
                job = replace(job, payload={**job.payload, "message_thread_id": thread})
            elif job.method in _TOPIC_CALLS:
                # No topic to close or reopen: the group refused topics, or it was never opened.
                await self._write(lambda repo: repo.mark_sent(job.id, self._clock(), None))
                return
        payload, prepared = job.payload, None
        try:
            if file_cleaning.needs_preparing(payload):
                # An anonymous report's files: downloaded and cleaned now, inside the row's lease.
                prepared = await file_cleaning.prepare(self.bot, self._session_factory, job.method, payload)
                payload = prepared.payload
            call = build_method(job.method, payload, job.chat_id)
        except file_cleaning.CleaningFailed as exc:
            log.error("outbox row %s: a file could not be cleaned: %s", job.id, exc)
            error = f"cleaning failed: {exc}"
            await self._write(lambda repo: repo.mark_failed(job.id, error, count_attempt=False))
            return
        except (TelegramBadRequest, TelegramNotFound) as exc:
            # getFile refused the original (gone, or over the 20 MB download limit).
            log.error("outbox row %s: the original file could not be fetched: %s", job.id, exc.message)
            reason = f"download refused: {exc.message}"
            await self._write(lambda repo: repo.mark_failed(job.id, reason))
            return
        except (ValidationError, UnknownMethodError) as exc:
            log.error("outbox row %s has an invalid %s payload", job.id, job.method)
            error = f"invalid payload: {exc}"
            await self._write(lambda repo: repo.mark_failed(job.id, error, count_attempt=False))
            return
        except Exception as exc:
            # The download failed (network, 5xx): like a failed send, later.
            await self._retry(job, exc)
            return
        if self._pacer is not None:
            await self._pacer.acquire(job.chat_id)
        try:
            result = await self.bot(call)
        except TelegramRetryAfter as exc:
            # Flood control is per bot, not per chat: hold everything, then retry this row
            # without counting it as a failure.
            self._limiter.pause(exc.retry_after)
            next_at = self._clock() + timedelta(seconds=exc.retry_after)
            log.warning("flood control: pausing delivery for %ss", exc.retry_after)
            reason = exc.message
            await self._write(lambda repo: repo.mark_retry(job.id, next_at, reason, count_attempt=False))
        except TelegramMigrateToChat as exc:
            # The group became a supergroup: same conversation, new id.
            reason, new_chat_id = exc.message, exc.migrate_to_chat_id
            await self._write(
                lambda repo: repo.mark_retry(job.id, self._clock(), reason, count_attempt=False, chat_id=new_chat_id)
            )
        except TelegramForbiddenError as exc:
            log.info("outbox row %s: recipient unreachable", job.id)
            now, reason = self._clock(), exc.message
            await self._write(
                lambda repo: repo.mark_unreachable(job.id, now, reason, chat_id=job.chat_id, citizen_id=job.citizen_id)
            )
        except (TelegramBadRequest, TelegramNotFound, TelegramEntityTooLarge) as exc:
            if job.method in _TOPIC_CALLS and ("TOPIC_NOT_MODIFIED" in exc.message or _topic_gone(exc.message)):
                # Already closed (or open), or deleted by the members: nothing left to do.
                log.info("outbox row %s: %s needs no doing: %s", job.id, job.method, exc.message)
                await self._write(lambda repo: repo.mark_sent(job.id, self._clock(), None))
                return
            if job.report_topic_id is not None and _topic_gone(exc.message):
                # Members deleted or closed the report's topic: its messages go to General now.
                now, reason, topic_id = self._clock(), exc.message, job.report_topic_id
                await self._write_topic(lambda repo: repo.topic_failed(topic_id, now))
                await self._write(lambda repo: repo.mark_retry(job.id, now, reason, count_attempt=False))
                return
            # Sending it again would get the same answer; keep the reason for the admin.
            log.warning("outbox row %s rejected by Telegram: %s", job.id, exc.message)
            reason = exc.message
            await self._write(lambda repo: repo.mark_failed(job.id, reason))
        except TelegramUnauthorizedError as exc:
            log.error("bot token rejected by Telegram; pausing delivery")
            self._limiter.pause(_UNAUTHORIZED_PAUSE)
            now, reason = self._clock(), exc.message
            await self._write(lambda repo: repo.mark_retry(job.id, now, reason, count_attempt=False))
        except Exception as exc:
            # Network errors, timeouts, 5xx, undecodable answers, anything unexpected: later.
            await self._retry(job, exc)
        else:
            now = self._clock()
            async with self._session_factory() as session:
                if prepared is not None:
                    await file_cleaning.remember(session, prepared, result)
                await OutboxRepo(session).mark_sent(job.id, now, _message_id(result))
                await session.commit()

    async def _retry(self, job: _Job, exc: Exception) -> None:
        error = f"{type(exc).__name__}: {exc}"
        attempts = job.attempts + 1
        if attempts >= self._max_attempts:
            log.warning("outbox row %s failed after %s attempts: %s", job.id, attempts, error)
            await self._write(lambda repo: repo.mark_failed(job.id, error))
            return
        next_at = self._clock() + timedelta(seconds=self.backoff(attempts))
        await self._write(lambda repo: repo.mark_retry(job.id, next_at, error))

    def backoff(self, attempts: int) -> float:
        return jittered_backoff(attempts, self._backoff_base, self._backoff_cap, self._rng)

    async def _write(self, change: Callable[[OutboxRepo], Awaitable[object]]) -> None:
        async with self._session_factory() as session:
            await change(OutboxRepo(session))
            await session.commit()
