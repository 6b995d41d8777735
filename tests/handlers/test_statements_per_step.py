"""What one step of the citizen's form costs the database (issue 15): a handful of statements.

Counted with SQLAlchemy's ``before_cursor_execute`` on the app's engine while a citizen walks the
onboarding and a whole complaint through the real dispatcher, each update fed as polling feeds
it (stored and claimed by the journal in one statement, then handled). A step used to cost 11
statements in 5 transactions (the journal's record, get, claim and finish; the FSM's read and
three writes; the citizen, the officer lookup); the bounds below fail a regression. Nor does a
step hand anything to a worker thread (the routers' filters did, a dozen times).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

import aiosqlite
from aiogram.types import Update
from sqlalchemy import event

from bot.journal import _payload
from tests.handlers.harness import Harness
from tests.handlers.intake_helpers import tap

# Statements per update, the journal included. A form step: the journal's record (claimed in
# the same statement), the FSM row, the citizen with the cache generation, the step and its
# answers written before the question goes out, then the "question sent" mark and the
# journal's "done" in the update's last commit. Who is an officer comes from the process cache.
STEP_BOUND = 6
BOUNDS = {
    # A newcomer: the citizen row is created (the generation read with the missing row), their roles read.
    "/start": 6,
    # Onboarding steps change the citizen, not the form.
    "language": 5,
    "consent": 5,
    # Beside the form, the marker of a too-long description sent in parts (its own FSM row).
    "body": 7,
    # Filing: the daily limit, a free tracking id, the report, its event, the webhook targets,
    # the admins for their notice, the notice in the outbox, the form's row deleted.
    "submit": 12,
}
# Committed transactions per update: the journal's record, the step before its question, the
# update's end.
COMMIT_BOUND = 3
# A tapped button costs one statement and one commit more: its answer is recorded in the journal
# as soon as it is out, so that a replay after a crash does not answer it again
# (bot/callback_answers.py).
ANSWER_MARK = 1
TAPPED = {"language", "consent", "kind", "agency", "date", "privacy", "files", "submit"}


@contextmanager
def counting(engine) -> Iterator[dict[str, list[str]]]:
    seen: dict[str, list[str]] = {"statements": [], "commits": [], "trips": []}
    execute = aiosqlite.Connection._execute

    async def trip(connection, fn, *args, **kwargs):
        # A hand-over to aiosqlite's thread and back, the dearest part of a statement (issue 15).
        seen["trips"].append(getattr(fn, "__name__", repr(fn)))
        return await execute(connection, fn, *args, **kwargs)

    def before(conn, cursor, statement, parameters, context, executemany) -> None:
        seen["statements"].append(" ".join(statement.split())[:100])

    def commit(conn) -> None:
        seen["commits"].append("commit")

    event.listen(engine.sync_engine, "before_cursor_execute", before)
    event.listen(engine.sync_engine, "commit", commit)
    aiosqlite.Connection._execute = trip  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        aiosqlite.Connection._execute = execute  # type: ignore[method-assign]
        event.remove(engine.sync_engine, "before_cursor_execute", before)
        event.remove(engine.sync_engine, "commit", commit)


def as_polling(h: Harness) -> None:
    """Feed updates the way ``JournalingDispatcher`` does: recorded and claimed first."""
    feed = h.feed
    middleware = h.app.dp.journal_middleware
    journal = h.app.dp.journal

    async def polled(update: Update) -> None:
        await journal.record_claimed(update.update_id, _payload(update))
        middleware.hold(update.update_id)
        await feed(update)

    h.feed = polled  # type: ignore[method-assign]


WALK = [
    ("/start", lambda h, u: h.send(u, "/start")),
    ("language", lambda h, u: tap(h, u, "Bahasa Indonesia")),
    ("consent", lambda h, u: tap(h, u, "Setuju")),
    ("/lapor", lambda h, u: h.send(u, "/lapor")),
    ("kind", lambda h, u: tap(h, u, "Pengaduan")),
    ("agency", lambda h, u: tap(h, u, "Tidak tahu")),
    ("title", lambda h, u: h.send(u, "Air PDAM mati di RT 05")),
    ("body", lambda h, u: h.send(u, "Sudah tiga hari air PDAM di RT 05 Kelurahan Nenang mati, keruh.")),
    ("date", lambda h, u: tap(h, u, "Kemarin")),
    ("privacy", lambda h, u: tap(h, u, "Biasa")),
    ("location", lambda h, u: h.send(u, "Jl. Propinsi km 3, Penajam")),
    ("files", lambda h, u: tap(h, u, "Lewati")),
    ("submit", lambda h, u: tap(h, u, "Kirim")),
]


async def walk_counted(h: Harness, user) -> dict[str, dict[str, list[str]]]:
    counts = {}
    for name, step in WALK:
        with counting(h.app.engine) as seen:
            await step(h, user)
        counts[name] = seen
    assert "LPR-" in h.last_text(user)
    return counts


@contextmanager
def thread_hops(monkeypatch) -> Iterator[list[str]]:
    """What the update's handling hands to a worker thread through ``asyncio.to_thread``."""
    hops: list[str] = []
    to_thread = asyncio.to_thread

    async def recorded(func, /, *args, **kwargs):
        hops.append(repr(getattr(func, "func", func)))
        return await to_thread(func, *args, **kwargs)

    monkeypatch.setattr(asyncio, "to_thread", recorded)
    yield hops


async def test_a_form_step_costs_a_handful_of_statements(tmp_path, monkeypatch):
    async with Harness.create(tmp_path) as h:
        as_polling(h)
        await walk_counted(h, h.user(1000, "Warm"))  # the first walk fills the process caches
        with thread_hops(monkeypatch) as hops:
            counts = await walk_counted(h, h.user(1001, "Alice"))

    # aiogram runs a filter that is a plain function (every F.… magic filter) in a worker
    # thread; bot/filters.py runs them on the loop, a hand-over per filter cost more than the
    # filter (issue 15).
    assert hops == []

    for name, seen in counts.items():
        extra = ANSWER_MARK if name in TAPPED else 0
        assert len(seen["statements"]) <= BOUNDS.get(name, STEP_BOUND) + extra, (name, seen["statements"])
        assert len(seen["commits"]) <= COMMIT_BOUND + extra, (name, seen["statements"])
        # The update's statements and commits run on the loop's thread (storage/sqlite_driver.py),
        # and so do the journal's record of the batch and its commit, marked short (INLINE).
        assert seen["trips"] == [], (name, seen["trips"])
    # Only a newcomer's roles are read from the database; the rest come from the process cache.
    assert [name for name, seen in counts.items() if any("FROM officer" in s for s in seen["statements"])] == [
        "/start"]
