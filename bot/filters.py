"""Role filters for the audience routers (``handlers/__init__.py``): the parent router of an
audience carries one, for messages and callback queries alike.

They ask ``bot.domain.access`` about the ``actor`` the middleware read from the database for this
very update, so a revoked officer or a removed admin is turned away at once. They only route:
services ask the access rules again, because callback data can be forged.

``run_sync_filters_inline``: the dispatcher's plain-function filters run on the event loop, and
a button's payload is unpacked once per update and class (``unpacked``).
"""

from __future__ import annotations

from typing import Any, TypeVar

from aiogram import F, Router
from aiogram.dispatcher.event.handler import FilterObject
from aiogram.filters import Filter
from aiogram.filters.callback_data import CallbackData, CallbackQueryFilter
from aiogram.filters.logic import _LogicFilter
from aiogram.types import CallbackQuery, Message, TelegramObject

from bot.domain import access
from bot.domain.access import Action, Actor

# One object for every router that serves private chats only: a router flattened into a parent
# that checks it already does not check it again for each handler (bot/routing.py).
PRIVATE_CHAT = F.chat.type == "private"


def not_command(message: Message) -> bool:
    """A form step's typed answer, not a command: a command (``/batal``, ``/start``) passes on
    to its own handler and the step stays where it was."""
    return not (message.text or "").startswith("/")


class IsAdmin(Filter):
    async def __call__(self, event: TelegramObject, actor: Actor | None = None, **_: Any) -> bool:
        return actor is not None and access.allows(actor, Action.ADMINISTER)


class IsOfficer(Filter):
    async def __call__(self, event: TelegramObject, actor: Actor | None = None, **_: Any) -> bool:
        return actor is not None and access.allows(actor, Action.WORK_INBOX)


def run_sync_filters_inline(root: Router) -> None:
    """Make every plain-function filter of ``root`` and its routers run on the event loop.

    aiogram hands a filter that is not a coroutine to a worker thread (``asyncio.to_thread``
    in ``CallableObject.call``), and every magic filter (``F.chat.type == "private"``,
    ``F.text``) is one: a citizen's step passed a dozen of them on its way through the
    routers, each a hand-over to the thread pool and a wake-up of the loop, for an attribute
    read (issue 15: the largest part of the routers' share of a step's CPU). Ours are all such
    reads (magic filters, ``_not_command``); none blocks.

    Every ``SomeCb.filter(...)`` becomes ``_unpacked_once``'s: see ``unpacked``.
    """
    for router in root.chain_tail:
        for observer in router.observers.values():
            for handler in (observer._handler, *observer.handlers):
                for filter_object in handler.filters or ():
                    _inline(filter_object)


def _inline(filter_object: FilterObject) -> None:
    callback = filter_object.callback
    if isinstance(callback, _LogicFilter):  # and_f, or_f, ~F...: filters inside a filter
        for inner in getattr(callback, "targets", None) or (callback.target,):  # type: ignore[attr-defined]
            _inline(inner)
    if isinstance(callback, CallbackQueryFilter):
        filter_object.callback = _unpacked_once(callback)
        return
    if filter_object.awaitable:
        return

    async def inline(*args: Any, **kwargs: Any) -> Any:
        return callback(*args, **kwargs)

    filter_object.callback = inline
    filter_object.awaitable = True


Payload = TypeVar("Payload", bound=CallbackData)


class _LastQuery:
    """The button press whose payload was unpacked last, and what it unpacked to, by class."""

    query: CallbackQuery | None = None
    payloads: dict[type[CallbackData], CallbackData | None] = {}


def unpacked(cls: type[Payload], query: CallbackQuery) -> Payload | None:
    """``cls.unpack(query.data)``, or None where that raises; one object per update and class.

    A button press passed the payload filter of every button handler before its own: each one
    unpacked it again, a pydantic model each time (~14 µs), and one of another prefix raised
    (~5 µs, the message formatted); an intake button met a dozen of them, and ``CurrentFormButton``
    unpacked it once more (issue 15, py-spy of bench/concurrency.py). Another prefix is now
    refused by a string comparison, and the payload unpacked for the last press is given to every
    filter (and so to the handler) that asks for it. Updates interleave at awaits: a press that
    finds another one's payloads here unpacks its own again; nothing is shared between two.
    """
    data = query.data
    if not data or data.partition(cls.__separator__)[0] != cls.__prefix__:
        return None  # what ``unpack`` refuses first (its "Bad prefix")
    if _LastQuery.query is not query:
        _LastQuery.query, _LastQuery.payloads = query, {}
    if cls not in _LastQuery.payloads:
        try:
            _LastQuery.payloads[cls] = cls.unpack(data)
        except (TypeError, ValueError):
            _LastQuery.payloads[cls] = None
    return _LastQuery.payloads[cls]  # type: ignore[return-value]


def _unpacked_once(payload_filter: CallbackQueryFilter) -> Any:
    """What ``CallbackQueryFilter.__call__`` does, with ``unpacked``."""
    cls, rule = payload_filter.callback_data, payload_filter.rule

    async def payload_filter_once(query: TelegramObject, *_: Any, **__: Any) -> bool | dict[str, Any]:
        if not isinstance(query, CallbackQuery):
            return False
        payload = unpacked(cls, query)
        if payload is None or not (rule is None or rule.resolve(payload)):
            return False
        return {"callback_data": payload}

    return payload_filter_once
