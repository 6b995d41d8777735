"""The received-update journal wired into aiogram (bot/services/update_journal.py says why).

- Polling: ``JournalingDispatcher`` stores each update from getUpdates before handing it on;
  aiogram confirms an update's offset only when asking for the next ones, which is after that.
- Webhook: ``JournalWebhookHandler`` stores the update before handling it and answers 200 only
  after the handling (503 while another process holds it, so Telegram asks again later).
- Both: ``JournalMiddleware`` claims the update (skipping one handled or in hand), renews the
  claim while the handler runs and marks it done; ``JournalKeeper`` replays at start what a
  dead process left, sweeps now and then, and at shutdown waits (bounded) for running handlers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot, Dispatcher
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.methods import GetUpdates, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import TelegramObject, Update
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bot import unit_of_work
from bot.callback_answers import AnswerOnce
from bot.services.update_journal import Claim, Seen, UpdateJournal

log = logging.getLogger(__name__)

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]

# Seconds a round of the journal's upkeep may take to finish at shutdown before it is cancelled.
UPKEEP_STOP = 10.0

# Set in the data of an update the keeper replays: it holds the claim already (its ``Claim``).
CLAIMED = "journal_claimed"


def _payload(update: Update) -> dict[str, Any]:
    return update.model_dump(mode="json", exclude_none=True, by_alias=True)


async def _until_stored(call: Callable[[], Awaitable[Seen]], update_id: int) -> Seen:
    """A database that is away is waited for: the update is not confirmed to Telegram before."""
    delay = 0.5
    while True:
        try:
            return await call()
        except Exception as exc:
            log.warning("cannot store update %s (%s: %s); trying again in %.0fs",
                        update_id, type(exc).__name__, str(exc).splitlines()[0] if str(exc) else "", delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 15.0)


class JournalingDispatcher(Dispatcher):
    journal: UpdateJournal | None = None
    journal_middleware: JournalMiddleware | None = None

    async def _polling(self, bot: Bot, *args: Any, **kwargs: Any) -> None:
        if not any(isinstance(m, _RecordBatches) for m in bot.session.middleware):
            bot.session.middleware(_RecordBatches(self))
        if self.journal is None:
            await super()._polling(bot, *args, **kwargs)
            return
        async with self.journal.polling():
            await super()._polling(bot, *args, **kwargs)

    async def record_batch(self, updates: list[Update]) -> None:
        """A getUpdates answer, stored and claimed in one statement before any of it is handled
        (one commit per batch, not per update); ``_listen_updates`` then skips recording them."""
        if self.journal is None or not updates:
            return
        journal = self.journal
        # As Telegram sent them when the session kept that (bot/telegram_session.py): dumping each
        # validated update back to JSON cost ~0.1 ms of CPU per update.
        raw = getattr(updates, "raw", None)
        rows = ([(u.update_id, r) for u, r in zip(updates, raw, strict=True)] if raw is not None
                else [(u.update_id, _payload(u)) for u in updates])
        won = await _until_stored(lambda: journal.record_claimed_batch(rows), updates[0].update_id)
        for uid in won:
            if self.journal_middleware is not None:
                self.journal_middleware.hold(uid)  # renewed while it waits for a handling slot

    async def _listen_updates(self, bot: Bot, *args: Any, **kwargs: Any) -> AsyncGenerator[Update, None]:  # type: ignore[override]
        async for update in super()._listen_updates(bot, *args, **kwargs):
            middleware = self.journal_middleware
            if self.journal is not None and not (middleware is not None and update.update_id in middleware.held):
                # Not recorded with its batch (stored before: a redelivery): look at it alone.
                seen = await _until_stored(
                    lambda u=update: self.journal.record_claimed(u.update_id, _payload(u)), update.update_id)
                if seen is Seen.OURS and middleware is not None:
                    middleware.hold(update.update_id)
                elif seen is not Seen.NEW:
                    log.info("update %s is %s; not handled again", update.update_id, seen.value)
                    continue
            yield update


class _RecordBatches(BaseRequestMiddleware):
    """Stores each getUpdates answer in the journal as soon as it arrives (polling only)."""

    def __init__(self, dp: JournalingDispatcher) -> None:
        self.dp = dp

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Any:
        result = await make_request(bot, method)
        if isinstance(method, GetUpdates) and isinstance(result, list):
            await self.dp.record_batch(result)
        return result


class JournalMiddleware(BaseMiddleware):
    """Outer update middleware, outside the database session and the citizen lookup."""

    def __init__(self, journal: UpdateJournal, answers: AnswerOnce | None = None) -> None:
        self.journal = journal
        self.answers = answers
        self.in_flight: set[int] = set()
        # Claimed when stored (polling), waiting for a free handling slot: renewed like the
        # running ones, so the sweep does not take them for a dead process's.
        self.held: set[int] = set()
        self._idle = asyncio.Event()
        self._idle.set()

    def hold(self, update_id: int) -> None:
        self.held.add(update_id)

    @property
    def claimed(self) -> set[int]:
        return self.in_flight | self.held

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        assert isinstance(event, Update)
        uid = event.update_id
        claim: Claim | None = data.pop(CLAIMED, None)
        held = claim is not None or uid in self.held
        self.held.discard(uid)
        if not held:
            claim = await self._claim(event)
            if claim is None:
                log.info("update %s already handled or in hand; skipped", uid)
                return UNHANDLED
        if self.answers is not None and event.callback_query is not None:
            # Held since it was stored (polling): received just now. Claimed: the journal knows
            # when, and whether an earlier handling answered the button.
            self.answers.begin(event.callback_query.id, uid, claim)
        self.in_flight.add(uid)
        self._idle.clear()
        # "Done" is written in the update's own last transaction (bot/unit_of_work.py): one
        # commit fewer per update, and the mark commits with the work it vouches for.
        finish = _FinishInUnitOfWork(self.journal, uid)
        data.setdefault(unit_of_work.FINAL_WRITES, []).append(finish)
        try:
            result = await handler(event, data)
        except asyncio.CancelledError:
            await self._quietly(self.journal.release(uid))
            raise
        except BaseException:
            # The error handler told the user; handling it again would fail the same way.
            if not finish.committed:
                await self._quietly(self.journal.finish(uid))
            raise
        finally:
            self.in_flight.discard(uid)
            if not self.in_flight:
                self._idle.set()
        if not finish.committed:  # no unit of work ran (a filtered update) or its commit failed
            await self._quietly(self.journal.finish(uid))
        return result

    async def _claim(self, event: Update) -> Claim | None:
        uid = event.update_id
        claim = await _until_claimed(lambda: self.journal.claim(uid), uid)
        if claim is not None:
            return claim
        # Not recorded yet (a webhook or a test feeding the dispatcher directly), or taken.
        seen = await _until_stored(lambda: self.journal.record(uid, _payload(event)), uid)
        return await _until_claimed(lambda: self.journal.claim(uid), uid) if seen is Seen.NEW else None

    async def _quietly(self, work: Awaitable[None]) -> None:
        # A lost "done" only means a replay that finds the work done (state guards, stale buttons).
        try:
            await work
        except Exception as exc:
            log.warning("update journal not updated: %s: %s", type(exc).__name__, exc)

    async def drained(self, timeout: float) -> bool:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), timeout)
        return not self.in_flight


class _FinishInUnitOfWork:
    def __init__(self, journal: UpdateJournal, update_id: int) -> None:
        self.journal = journal
        self.update_id = update_id
        self.committed = False

    async def __call__(self, session: AsyncSession) -> None:
        await self.journal.finish_in(session, self.update_id)

    def done(self) -> None:
        self.committed = True


async def _until_claimed(call: Callable[[], Awaitable[Claim | None]], update_id: int) -> Claim | None:
    delay = 0.5
    while True:
        try:
            return await call()
        except Exception as exc:
            log.warning("cannot claim update %s (%s); trying again in %.0fs", update_id, type(exc).__name__, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 15.0)


class JournalKeeper:
    """Replays orphans, renews running claims, prunes old rows; drains at shutdown."""

    def __init__(self, dp: Dispatcher, journal: UpdateJournal, middleware: JournalMiddleware) -> None:
        self.dp = dp
        self.journal = journal
        self.middleware = middleware
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._pruned_at = 0.0

    async def replay(self, bot: Bot, *, take_over: bool) -> int:
        """Handle what was stored but never finished, oldest first, one at a time."""
        orphans = await self.journal.orphans(take_over=take_over)
        replayed = 0
        for orphan in orphans:
            claim = await self.journal.claim(orphan.update_id, take_over=take_over)
            if claim is None:
                continue
            log.info("update %s was not finished by a previous run; handling it now", orphan.update_id)
            replayed += 1
            update = Update.model_validate(orphan.payload, context={"bot": bot})
            try:
                await self.dp.feed_update(bot, update, **{CLAIMED: claim})
            except Exception:
                log.exception("replaying update %s failed", orphan.update_id)
        return replayed

    def start(self, bot: Bot) -> None:
        self._stopping = asyncio.Event()
        self._task = asyncio.create_task(self._run(bot), name="update-journal")

    async def _run(self, bot: Bot) -> None:
        period = self.journal.lease.total_seconds() / 3
        while not await self._stopped_within(period):
            try:
                await self.journal.renew(sorted(self.middleware.claimed))
                await self.replay(bot, take_over=False)
                if time.monotonic() - self._pruned_at > 3600:
                    self._pruned_at = time.monotonic()
                    await self.journal.prune()
            except Exception as exc:  # a database away for a while: next round
                log.warning("update journal upkeep failed: %s: %s", type(exc).__name__, exc)

    async def _stopped_within(self, seconds: float) -> bool:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)
        return self._stopping.is_set()

    async def stop(self, drain_timeout: float) -> None:
        """Let running handlers finish (at most ``drain_timeout``) before the session closes."""
        if not await self.middleware.drained(drain_timeout):
            log.warning("%s update(s) still running at shutdown; the next start handles them again",
                        len(self.middleware.in_flight))
        if self._task is not None:
            # Told to stop, and its round let finish: cancelled in the middle of a statement, the
            # round's session could not roll back on the way out, that error replaced the
            # cancellation, the loop went on and the process never stopped (a SIGTERM during a
            # round, bench/concurrency.py). Cancelled only if the round outlasts UPKEEP_STOP.
            self._stopping.set()
            try:
                await asyncio.wait_for(asyncio.shield(self._task), UPKEEP_STOP)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
            self._task = None


class JournalWebhookHandler(SimpleRequestHandler):
    def __init__(self, *args: Any, journal: UpdateJournal, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.journal = journal

    async def close(self) -> None:
        # aiogram closes the bot session when the web app shuts down, while handlers may still
        # run; App.close closes it once they are done.
        pass

    async def _handle_request(self, bot: Bot, request: web.Request) -> web.Response:
        raw = await request.json(loads=bot.session.json_loads)
        uid = int(raw["update_id"])
        # A database that is away answers 500 here: Telegram keeps the update and asks again.
        seen = await self.journal.record(uid, raw)
        if seen is Seen.DONE:
            return web.json_response({})
        if seen is Seen.BUSY:
            return web.Response(status=503, text="being handled; ask again later")
        result = await self.dispatcher.feed_webhook_update(bot, raw, **self.data)
        return web.Response(body=self._build_response_writer(bot=bot, result=result))
