"""Every button answered once, whichever life of the process handles its update, and never with
an answer Telegram would refuse.

Telegram refuses a second answer to a callback query, and any answer once the query is too old
(400 "query is too old and response timeout expired or query ID is invalid"). Its time limit is
not documented; the sandbox server keeps 10 s from the press (``Limits.callback_answer_timeout``).
Two ways the bot broke the rule:

- a replay: after a kill between the button's answer and the update's last commit, the journal
  (bot/journal.py) handed the update back at the next start, and the handler answered again
  (its use case, already done, refused as "the report is now ..."); the error handler then
  apologised with a third answer. The sandbox counted two refused answers.
- one handling answering twice: the error handler's apology after the handler had answered.

So the request middleware ``AnswerOnce`` knows each callback update being handled (``begin``, from
the journal middleware: when it was received, and whether an earlier handling answered it) and:

- lets the first answer through and records it in the journal at once (``received_update.
  callback_answered_at``): in a commit of its own on the update's session when nothing of the
  update is written and uncommitted (its use case committed, or it has only read so far), else
  with the update's next commit (an update holds one pool connection at most, bot/unit_of_work.py);
- does not send a second answer, nor one to a query received more than ``ANSWER_WINDOW`` ago:
  the handler goes on as if it had answered (its other work still happens, once);
- takes Telegram's "too old" refusal as the end of the query, not as the handler's failure.

What remains: a kill between Telegram's "ok" and the mark's commit (one await), after which the
replay answers again and Telegram refuses it; and a button whose handling died before answering
and was replayed too late: Telegram stops its spinner by itself.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramBadRequest
from aiogram.methods import AnswerCallbackQuery, TelegramMethod
from aiogram.methods.base import TelegramType

from bot.services.update_journal import Claim, UpdateJournal
from storage.base import utcnow
from storage.unit_of_work import alone, current_session, only_read

log = logging.getLogger(__name__)

# Past this since the update was received, an answer is certainly refused: the sandbox's 10 s
# (Telegram's limit is of that order) less a second for the way from the press to the journal.
ANSWER_WINDOW = timedelta(seconds=9)

# How Telegram refuses an answer to a query that is over (answered, or too old).
_QUERY_OVER = ("query is too old", "query ID is invalid")


@dataclass(slots=True)
class _Query:
    update_id: int
    received_at: datetime
    answered: bool


class AnswerOnce(BaseRequestMiddleware):
    """The handler bot's request middleware (outermost: retries of an answer happen inside)."""

    def __init__(self, journal: UpdateJournal, *, clock: Callable[[], datetime] = utcnow,
                 size: int = 10_000) -> None:
        self._journal = journal
        self._clock = clock
        self._size = size
        # The callback queries of recent updates, by id; the error handler answers after the
        # update's middlewares have returned, so an entry outlives its handling for a while.
        self._queries: OrderedDict[str, _Query] = OrderedDict()

    def begin(self, query_id: str, update_id: int, claim: Claim | None) -> None:
        """A callback update is about to be handled; ``claim``: the journal's facts about it
        (None: received just now, by this process)."""
        if claim is None:
            query = _Query(update_id, self._clock(), answered=False)
        else:
            query = _Query(update_id, claim.received_at, answered=claim.callback_answered_at is not None)
        self._queries[query_id] = query
        self._queries.move_to_end(query_id)
        while len(self._queries) > self._size:
            self._queries.popitem(last=False)

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Any:
        query = self._queries.get(method.callback_query_id) if isinstance(method, AnswerCallbackQuery) else None
        if query is None:
            return await make_request(bot, method)
        if query.answered:
            log.info("update %s: its button was answered already; not answered again", query.update_id)
            return True
        if self._clock() - query.received_at > ANSWER_WINDOW:
            log.info("update %s: its button is too old to answer", query.update_id)
            return True
        try:
            result = await make_request(bot, method)
        except TelegramBadRequest as exc:
            if not any(phrase in exc.message for phrase in _QUERY_OVER):
                raise
            log.warning("update %s: Telegram no longer takes an answer to its button (%s)",
                        query.update_id, exc.message)
            result = True
        query.answered = True
        await self._remember(query.update_id)
        return result

    async def _remember(self, update_id: int) -> None:
        session = current_session()
        try:
            if session is None:  # outside the update's unit of work (the error handler)
                await self._journal.mark_answered(update_id)
            elif await only_read(session):
                # A commit of its own: the update's work so far was committed by its use case,
                # or was only reading.
                async with alone(session):
                    await self._journal.mark_answered_in(session, update_id)
            else:
                # The update has written and not committed yet: the mark goes with that work.
                await self._journal.mark_answered_in(session, update_id)
        except Exception as exc:  # the answer is out; a lost mark only risks a refused repeat
            log.warning("update %s: its answer not recorded in the journal: %s: %s",
                        update_id, type(exc).__name__, exc)
