"""Sending the queued webhook deliveries: signed JSON POSTs, retried with backoff.

Each delivery is leased (``sending`` + ``claimed_until``), posted, and its outcome recorded
right after: a 2xx is delivered; 410 Gone stops for good; anything else (another status, a
timeout, a refused connection) is retried later, ever more slowly, until ``max_attempts``,
then recorded as failed. At-least-once, like the Telegram outbox: receivers deduplicate on
``X-Lapor-Event-Id``.

The signature (``X-Lapor-Signature: sha256=<hex>``) is the HMAC-SHA256, keyed with the
target's secret, of ``<X-Lapor-Timestamp>.<body>``: the timestamp inside the signed bytes lets a
receiver refuse replays of old deliveries.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import aiohttp
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import WebhookSettings
from bot.services.ratelimit import jittered_backoff
from storage.base import utcnow
from storage.repositories.webhooks import DELIVERED, FAILED, PENDING, WebhookRepo

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Lapor-Signature"
TIMESTAMP_HEADER = "X-Lapor-Timestamp"
EVENT_HEADER = "X-Lapor-Event"
EVENT_ID_HEADER = "X-Lapor-Event-Id"
BATCH = 20
IN_FLIGHT = 4


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    """What a receiver does (shown in the README; the tests' receiving server uses it)."""
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


@dataclass(frozen=True, slots=True)
class _Job:
    id: int
    target: str
    event: str
    event_id: str
    body: str
    attempts: int


class WebhookWorker:
    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        settings: WebhookSettings,
        *,
        clock: Callable[[], datetime] = utcnow,
        rng: random.Random | None = None,
    ) -> None:
        self._session_factory = session_factory
        self._settings = settings
        self._targets = {t.name: t for t in settings.targets}
        self._clock = clock
        self._rng = rng or random.Random()
        # Long enough for the request and its bookkeeping: a lease that runs out mid-send
        # would let another process post the same delivery again.
        self._lease = timedelta(seconds=settings.timeout_seconds * 3 + 30)

    async def run_forever(self, stop: asyncio.Event, idle: float = 2.0) -> None:
        timeout = aiohttp.ClientTimeout(total=self._settings.timeout_seconds)
        async with aiohttp.ClientSession(timeout=timeout) as http:
            while not stop.is_set():
                try:
                    handled = await self.run_once(http)
                except Exception:
                    log.exception("webhook batch failed")
                    handled = 0
                if not handled:
                    try:
                        await asyncio.wait_for(stop.wait(), idle)
                    except TimeoutError:
                        pass

    async def run_once(self, http: aiohttp.ClientSession) -> int:
        async with self._session_factory() as session:
            rows = await WebhookRepo(session).claim_due(self._clock(), BATCH, self._lease)
            jobs = [_Job(r.id, r.target, r.event, r.event_id, r.body, r.attempts) for r in rows]
            await session.commit()
        gate = asyncio.Semaphore(IN_FLIGHT)

        async def one(job: _Job) -> None:
            async with gate:
                try:
                    await self._deliver(http, job)
                except Exception:
                    # The row stays leased and is tried again once the lease runs out.
                    log.exception("recording webhook delivery %s failed", job.id)

        await asyncio.gather(*(one(j) for j in jobs))
        return len(jobs)

    async def _deliver(self, http: aiohttp.ClientSession, job: _Job) -> None:
        target = self._targets.get(job.target)
        if target is None:
            await self._record(job.id, status=FAILED, last_error="target no longer configured")
            return
        body = job.body.encode()
        timestamp = str(int(self._clock().timestamp()))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "lapor-bot-webhook",
            EVENT_HEADER: job.event,
            EVENT_ID_HEADER: job.event_id,
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(target.secret.get_secret_value(), timestamp, body),
        }
        attempts = job.attempts + 1
        code: int | None = None
        try:
            async with http.post(target.url, data=body, headers=headers, allow_redirects=False) as resp:
                code = resp.status
                error = None if 200 <= code < 300 else f"HTTP {code} {resp.reason or ''}".strip()
        except (aiohttp.ClientError, TimeoutError) as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
        now = self._clock()
        if error is None:
            await self._record(job.id, status=DELIVERED, attempts=attempts, last_status_code=code,
                               last_error=None, delivered_at=now)
            return
        # A receiver saying the endpoint is gone for good is not asked again.
        if code == 410 or attempts >= self._settings.max_attempts:
            log.warning("webhook delivery %s to %s failed after %s attempts: %s", job.id, job.target, attempts, error)
            await self._record(job.id, status=FAILED, attempts=attempts, last_status_code=code, last_error=error)
            return
        delay = jittered_backoff(attempts, self._settings.backoff_base_seconds,
                                 self._settings.backoff_cap_seconds, self._rng)
        await self._record(job.id, status=PENDING, attempts=attempts, last_status_code=code, last_error=error,
                           next_attempt_at=now + timedelta(seconds=delay))

    async def _record(self, delivery_id: int, **values: object) -> None:
        async with self._session_factory() as session:
            await WebhookRepo(session).record(delivery_id, **values)
            await session.commit()
