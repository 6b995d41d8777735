"""aiogram's Telegram types built when first used instead of all at import (issue 15).

``import aiogram.types`` ends by calling ``model_rebuild`` on each of its ~450 pydantic models
with one namespace of every type (their annotations are forward references), and each rebuild
generates again the schema of every nested model not built yet: about 9 s of CPU on the shared
2-core machine and ~100 MB of the idle process, for models of which the bot uses a few dozen.
pydantic can build a model on first use (as with ``defer_build``) if the model carries the
namespace its references need: ``defer_aiogram_builds`` keeps aiogram's namespace on each type
(``__pydantic_parent_namespace__``, where pydantic looks when it completes a model) instead of
building it. Nothing else changes: a type is built, once, the first time it validates or dumps
(the first update of a kind costs ~0.3 s more, once per process).

``tests/unit/test_aiogram_models.py`` completes every aiogram type and method this way, so an
aiogram upgrade that breaks it fails there rather than on the first such update in production.
"""

from __future__ import annotations

import sys
from typing import Any

from pydantic import BaseModel


def defer_aiogram_builds() -> bool:
    """Import ``aiogram.types`` with its models left to build on first use. Call it before
    anything imports aiogram; afterwards (aiogram already imported, all built) it does nothing
    and returns False."""
    if "aiogram.types" in sys.modules:
        return False
    rebuild = BaseModel.__dict__["model_rebuild"]

    def keep_namespace(cls: type[BaseModel], *, _types_namespace: dict[str, Any] | None = None,
                       **kwargs: Any) -> bool | None:
        # Only aiogram's own loop at the end of aiogram/types/__init__.py; any other rebuild runs.
        if _types_namespace is None or not cls.__module__.startswith("aiogram.types."):
            return rebuild.__func__(cls, _types_namespace=_types_namespace, **kwargs)
        # pydantic resolves a model's references in its module's globals, also when the model is
        # built nested inside another (Response[Message] builds Message's schema); these modules
        # import the types they refer to only for type checkers. Added, never replaced.
        module = vars(sys.modules[cls.__module__])
        for name, value in _types_namespace.items():
            module.setdefault(name, value)
        return None

    BaseModel.model_rebuild = classmethod(keep_namespace)  # type: ignore[method-assign,assignment]
    try:
        import aiogram.types  # noqa: F401
    finally:
        BaseModel.model_rebuild = rebuild  # type: ignore[method-assign]
    return True


def build_everyday_types() -> None:
    """Build, before the first update, the types and answers every conversation uses: an update,
    a message, a button press, the sends and edits of a form step. Without it, the first of each
    after a start was built while a citizen waited (a second or more on a loaded machine); the
    other ~400 types stay unbuilt. A no-op when aiogram's types were built eagerly."""
    from aiogram import methods, types

    from bot.response_types import pinned_response_type

    # Nested ones first: a built type's schema is reused by those that contain it.
    for model in (types.User, types.Chat, types.MessageEntity, types.InlineKeyboardMarkup,
                  types.ReplyKeyboardMarkup, types.ReplyKeyboardRemove, types.Message, types.CallbackQuery,
                  types.Update):
        model.model_rebuild()
    for method in (methods.GetMe, methods.GetUpdates, methods.SendMessage, methods.EditMessageText,
                   methods.EditMessageReplyMarkup, methods.AnswerCallbackQuery, methods.DeleteMessage,
                   methods.SendPhoto, methods.SendDocument, methods.SendMediaGroup, methods.CopyMessage,
                   methods.SetMyCommands):
        method.model_rebuild()
        pinned_response_type(method.__returning__).model_rebuild()


def _bind_bot(self: Any, context: Any, /) -> None:
    # What pydantic's wrapper around ``BotContextController.model_post_init`` ends with: the
    # private attributes are ``{"_bot": <the bot in the validation context, or None>}``.
    if getattr(self, "__pydantic_private__", None) is None:
        object.__setattr__(self, "__pydantic_private__", {"_bot": context.get("bot") if context else None})


def _wraps_only(post_init: Any, aiograms: Any) -> bool:
    """``post_init`` is pydantic's wrapper around aiogram's, or around a subclass's wrapper of it
    (pydantic wraps the inherited one again in every subclass: a ``Message`` initialised its
    private attributes once per class between it and ``BotContextController``)."""
    seen = 0
    while post_init is not aiograms and seen < 20:
        post_init = getattr(post_init, "__wrapped__", None)
        if post_init is None:
            return False
        seen += 1
    return post_init is aiograms


def bind_bot_directly() -> int:
    """Give every aiogram type and method a lighter ``model_post_init``; returns how many.

    Each Telegram object aiogram makes (an update and everything in it, every answer, every
    button and keyboard we build, every request) runs, after validation, pydantic's generic
    initialisation of private attributes (defaults looked up and copied one by one) and then
    aiogram's, which sets its one private attribute, the bot, through ``BaseModel.__setattr__``.
    pydantic wraps it again in every subclass, so a ``Message`` ran that initialisation once per
    class between it and ``BotContextController``. Together about half the CPU of validating a
    ``sendMessage`` answer (~175 -> 88 µs) and of building a button (16 -> 7 µs) on the shared
    machine (issue 15, py-spy of bench/concurrency.py). ``_bind_bot`` sets the same dictionary at
    once. A class whose private attributes are not just ``_bot``, or whose ``model_post_init`` is
    not aiogram's, keeps its own (``tests/unit/test_aiogram_models.py`` fails if aiogram's types
    stop being all alike).
    """
    from aiogram.client.context_controller import BotContextController

    aiograms = getattr(BotContextController.__dict__["model_post_init"], "__wrapped__", None)
    if aiograms is None:  # not pydantic's wrapper: pydantic changed, leave everything as it is
        return 0
    bound = 0
    seen: set[type] = set()
    todo: list[type] = [BotContextController]
    while todo:
        cls = todo.pop()
        if cls in seen:
            continue
        seen.add(cls)
        todo.extend(cls.__subclasses__())
        post_init = cls.__dict__.get("model_post_init")
        if post_init is _bind_bot:
            continue
        if _wraps_only(post_init, aiograms) and set(cls.__private_attributes__) == {"_bot"}:
            cls.model_post_init = _bind_bot  # type: ignore[method-assign]
            bound += 1
    return bound
