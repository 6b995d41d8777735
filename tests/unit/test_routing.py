"""bot/routing.flatten: the same handler for every update, through fewer routers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from aiogram import BaseMiddleware, F, Router
from aiogram.types import Chat, Message

from bot.filters import PRIVATE_CHAT
from bot.routing import flatten


def _message(text: str, chat_type: str = "private") -> Message:
    return Message(message_id=1, date=datetime.now(UTC), chat=Chat(id=1, type=chat_type), text=text)


def _tree(calls: list[str]) -> Router:
    """A parent (private chats only) with its own handler and two children, the first guarded by a
    filter of its own, the second with a child of its own."""

    def handler(name: str) -> Any:
        async def handle(message: Message) -> None:
            calls.append(name)
        return handle

    parent = Router(name="parent")
    parent.message.filter(PRIVATE_CHAT)
    parent.message.register(handler("parent"), F.text == "parent")
    guarded = Router(name="guarded")
    guarded.message.filter(PRIVATE_CHAT, F.text.startswith("g"))
    guarded.message.register(handler("guarded"))
    second = Router(name="second")
    second.message.register(handler("second"), F.text.startswith("s"))
    leaf = Router(name="leaf")
    leaf.message.register(handler("leaf"))
    second.include_router(leaf)
    parent.include_routers(guarded, second)
    return parent


@pytest.mark.parametrize("text", ["parent", "go", "so", "other"])
async def test_each_message_reaches_the_handler_it_reached_in_the_nested_tree(text: str):
    nested_calls: list[str] = []
    await _tree(nested_calls).propagate_event("message", _message(text))
    flat_calls: list[str] = []
    flat = flatten(_tree(flat_calls))
    await flat.propagate_event("message", _message(text))

    assert flat.sub_routers == []
    assert flat_calls == nested_calls
    assert nested_calls == [{"parent": "parent", "go": "guarded", "so": "second", "other": "leaf"}[text]]


async def test_the_parents_filter_still_guards_every_moved_handler_and_is_checked_once():
    calls: list[str] = []
    flat = flatten(_tree(calls))
    await flat.propagate_event("message", _message("go", chat_type="group"))
    assert calls == []
    guarded_handler = flat.message.handlers[1]
    # The child's own filter stays in front of its handler; the one its parent checks is not repeated.
    assert [f.magic is PRIVATE_CHAT for f in guarded_handler.filters] == [False]


def test_a_router_whose_middleware_would_be_lost_is_refused():
    class Nothing(BaseMiddleware):
        async def __call__(self, handler: Any, event: Any, data: dict[str, Any]) -> Any:
            return await handler(event, data)

    parent, child = Router(), Router()
    child.message.middleware(Nothing())
    parent.include_router(child)
    with pytest.raises(ValueError, match="middlewares"):
        flatten(parent)
