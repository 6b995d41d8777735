"""Metrics middlewares and log lines: what an operator reads must be right and name nobody."""

from __future__ import annotations

import json
import logging

import pytest
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import SendMessage

from bot import logs
from bot.metrics import Metrics, TelegramMetricsMiddleware

METHOD = SendMessage(chat_id=1, text="x")


@pytest.mark.parametrize(("exc", "result"), [
    (TelegramRetryAfter(METHOD, "Too Many Requests", 3), "429"),
    (TelegramForbiddenError(METHOD, "Forbidden: bot was blocked by the user"), "403"),
    (TelegramServerError(METHOD, "Bad Gateway"), "5xx"),
    (TelegramNetworkError(METHOD, "connection reset"), "network"),
    (TelegramBadRequest(METHOD, "Bad Request: chat not found"), "4xx"),
])
async def test_each_bot_api_failure_is_counted_by_its_kind(exc, result):
    metrics = Metrics()
    middleware = TelegramMetricsMiddleware(metrics, "delivery")

    async def make_request(bot, method):
        raise exc

    with pytest.raises(type(exc)):
        await middleware(make_request, None, METHOD)
    assert metrics.telegram_requests.labels("delivery", result)._value.get() == 1
    # A refusal is still an answer: the Bot API is reachable. A 5xx or no connection is not.
    assert (metrics.telegram_last_ok is not None) == (result in ("429", "403", "4xx"))


async def test_a_successful_request_is_counted_ok():
    metrics = Metrics()

    async def make_request(bot, method):
        return "fine"

    assert await TelegramMetricsMiddleware(metrics, "replies")(make_request, None, METHOD) == "fine"
    assert metrics.telegram_requests.labels("replies", "ok")._value.get() == 1
    assert metrics.telegram_last_ok is not None


def _record(msg: str) -> logging.LogRecord:
    record = logging.LogRecord("lapor", logging.WARNING, __file__, 1, msg, (), None)
    logs.ContextFilter().filter(record)
    return record


def test_json_lines_carry_the_update_the_hashed_chat_and_the_report(monkeypatch):
    monkeypatch.setattr(logs, "_hash_key", b"k1")
    tokens = [logs.update_id_var.set(4242), logs.chat_var.set(logs.chat_hash(6409011234)),
              logs.report_var.set("LPR-ABCD-EFGH")]
    try:
        line = logs.JsonFormatter().format(_record("reply failed"))
    finally:
        for var, token in zip((logs.update_id_var, logs.chat_var, logs.report_var), tokens, strict=True):
            var.reset(token)
    entry = json.loads(line)
    assert entry["update_id"] == 4242 and entry["report"] == "LPR-ABCD-EFGH"
    assert entry["message"] == "reply failed" and entry["level"] == "WARNING"
    assert "6409011234" not in line and len(entry["chat"]) == 12


def test_chat_hashes_are_stable_and_keyed(monkeypatch):
    monkeypatch.setattr(logs, "_hash_key", b"k1")
    first = logs.chat_hash(6409011234)
    assert logs.chat_hash(6409011234) == first and logs.chat_hash(6409011235) != first
    logs.set_hash_key("123:another-bot-token")
    assert logs.chat_hash(6409011234) != first  # another deployment, another hash


def test_lines_outside_an_update_have_no_context_fields():
    entry = json.loads(logs.JsonFormatter().format(_record("scheduler started")))
    assert not {"update_id", "chat", "report"} & entry.keys()


def test_configure_leaves_a_host_s_own_logging_alone():
    root = logging.getLogger()
    foreign = logging.NullHandler()
    saved = root.handlers[:]
    root.handlers[:] = [foreign]
    try:
        logs.configure(logging.INFO, "json")
        assert root.handlers == [foreign]
    finally:
        root.handlers[:] = saved


async def test_the_catch_up_sweep_counts_each_job_it_ran(caplog):
    from datetime import UTC, datetime

    from bot.jobs.base import JobContext
    from bot.scheduler import run_all_jobs

    seen: list[tuple[str, bool]] = []

    async def fine(ctx):
        return 1

    async def broken(ctx):
        raise RuntimeError("boom")

    ctx = JobContext(None, None, None, None, datetime.now(UTC), on_job=lambda name, ok: seen.append((name, ok)))
    await run_all_jobs(ctx, (fine, broken))
    assert seen == [("fine", True), ("broken", False)]
    metrics = Metrics()
    for name, ok in seen:
        metrics.job_finished(name, ok)
    assert metrics.job_runs.labels("broken", "failed")._value.get() == 1
