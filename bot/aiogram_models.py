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
