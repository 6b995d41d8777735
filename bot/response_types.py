"""Keeps aiogram's response classes alive, so that pydantic builds each one once per process.

aiogram validates every Bot API answer as ``Response[method.__returning__]``. pydantic keeps
parametrised generic classes only weakly (a ``WeakValueDictionary``), and these classes sit in
reference cycles, so each garbage collection dropped them and the next answer rebuilt the class's
whole schema: under load 332 rebuilds for 2,562 answers, about a sixth of the bot's CPU (issue 15,
cProfile of bench/concurrency.py). Holding a reference here keeps them cached.
"""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType

# One class per return type a method of ours has: a few dozen at most.
_PINNED: dict[Any, type] = {}


def pinned_response_type(returning: Any) -> type:
    if (held := _PINNED.get(returning)) is None:
        held = _PINNED[returning] = Response[returning]  # type: ignore[index]
    return held


class PinResponseTypes(BaseRequestMiddleware):
    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        pinned_response_type(method.__returning__)
        return await make_request(bot, method)
