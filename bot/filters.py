"""Role filters for the audience routers (``handlers/__init__.py``): the parent router of an
audience carries one, for messages and callback queries alike.

They ask ``bot.domain.access`` about the ``actor`` the middleware read from the database for this
very update, so a revoked officer or a removed admin is turned away at once. They only route:
services ask the access rules again, because callback data can be forged.

``run_sync_filters_inline``: the dispatcher's plain-function filters run on the event loop.
"""

from __future__ import annotations

from typing import Any

from aiogram import Router
from aiogram.dispatcher.event.handler import FilterObject
from aiogram.filters import Filter
from aiogram.filters.logic import _LogicFilter
from aiogram.types import Message, TelegramObject

from bot.domain import access
from bot.domain.access import Action, Actor


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
    if filter_object.awaitable:
        return

    async def inline(*args: Any, **kwargs: Any) -> Any:
        return callback(*args, **kwargs)

    filter_object.callback = inline
    filter_object.awaitable = True
