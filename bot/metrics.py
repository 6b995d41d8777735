"""Prometheus metrics of one process: what an operator watches (docs/deploy.md lists them).

Counters are kept by two middlewares, one on the dispatcher (every update: its type, outcome and
handling time) and one on each Bot API session (every request by result); the scheduler counts
job runs. The gauges about data (outbox depth, open and overdue reports) are read from the
database when ``/metrics`` is scraped (``bot/services/health.py``), so every process reports
the same truth, not its own share of it.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.exceptions import (
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import TelegramObject, Update
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from bot.logs import chat_hash, chat_var, report_var, update_id_var

# Handler time buckets: a reply should take tens of milliseconds; seconds mean trouble.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    """A registry of its own per application (tests build several in one process)."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        self.updates = Counter("lapor_updates", "Updates handled, by type and outcome "
                               "(handled, unhandled, error)", ["type", "outcome"], registry=r)
        self.update_seconds = Histogram("lapor_update_handling_seconds", "Time to handle an update",
                                        ["type"], buckets=LATENCY_BUCKETS, registry=r)
        self.telegram_requests = Counter(
            "lapor_telegram_requests", "Bot API requests by client (replies: handlers' direct "
            "answers; delivery: the outbox worker) and result (ok, 429, 403, 4xx, 5xx, network)",
            ["client", "result"], registry=r)
        self.job_runs = Counter("lapor_job_runs", "Scheduled job runs by job and outcome (ok, failed)",
                                ["job", "outcome"], registry=r)
        self.outbox_pending = Gauge("lapor_outbox_pending", "Messages waiting in the outbox", registry=r)
        self.outbox_oldest_age = Gauge("lapor_outbox_oldest_pending_age_seconds",
                                       "Age of the oldest message waiting in the outbox (0: none)",
                                       registry=r)
        self.reports_open = Gauge("lapor_reports_open", "Open reports by status", ["status"], registry=r)
        self.reports_overdue = Gauge("lapor_reports_overdue",
                                     "Open reports past their verification or follow-up deadline",
                                     registry=r)
        # When the Bot API last answered anything: readiness need not ask it again soon after.
        self.telegram_last_ok: float | None = None

    def job_finished(self, job: str, ok: bool) -> None:
        self.job_runs.labels(job, "ok" if ok else "failed").inc()

    def set_snapshot(self, snapshot: Any) -> None:
        """The data gauges from a ``bot.services.health.Snapshot``."""
        self.outbox_pending.set(snapshot.outbox_pending)
        self.outbox_oldest_age.set(snapshot.outbox_oldest_age_seconds)
        self.reports_open.clear()
        for status, count in snapshot.open_by_status.items():
            self.reports_open.labels(status).set(count)
        self.reports_overdue.set(snapshot.overdue)

    def render(self) -> bytes:
        return generate_latest(self.registry)


def _result(exc: BaseException) -> str:
    if isinstance(exc, TelegramRetryAfter):
        return "429"
    if isinstance(exc, TelegramForbiddenError):
        return "403"
    if isinstance(exc, TelegramServerError):
        return "5xx"
    if isinstance(exc, TelegramNetworkError):
        return "network"
    return "4xx"


class TelegramMetricsMiddleware(BaseRequestMiddleware):
    """Counts every request a Bot session makes (register it last: it sees each attempt)."""

    def __init__(self, metrics: Metrics, client: str) -> None:
        self.metrics = metrics
        self.client = client

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        try:
            response = await make_request(bot, method)
        except Exception as exc:
            self.metrics.telegram_requests.labels(self.client, _result(exc)).inc()
            if not isinstance(exc, TelegramNetworkError | TelegramServerError):
                self.metrics.telegram_last_ok = time.monotonic()  # it answered, if only "no"
            raise
        self.metrics.telegram_requests.labels(self.client, "ok").inc()
        self.metrics.telegram_last_ok = time.monotonic()
        return response


Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class UpdateMetricsMiddleware(BaseMiddleware):
    """Outer middleware on ``dp.update``: times each update, counts its outcome, and sets the
    log context (update id, hashed chat) for everything logged while it is handled."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        kind = event.event_type if isinstance(event, Update) else type(event).__name__
        update_id_var.set(event.update_id if isinstance(event, Update) else None)
        chat = data.get("event_chat")
        chat_var.set(chat_hash(chat.id) if chat is not None else None)
        report_var.set(None)
        started = time.perf_counter()
        outcome = "error"
        try:
            result = await handler(event, data)
            outcome = "unhandled" if result is UNHANDLED else "handled"
            return result
        finally:
            self.metrics.updates.labels(kind, outcome).inc()
            self.metrics.update_seconds.labels(kind).observe(time.perf_counter() - started)
