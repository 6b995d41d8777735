"""Writing messages to the outbox, and turning an outbox row back into a Bot API call.

Services call ``enqueue``/``enqueue_message`` inside the transaction that causes the message;
nothing here commits. The delivery worker (``bot.services.delivery``) sends the rows.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from functools import cache
from typing import Any

import aiogram.methods
from aiogram.client.default import Default
from aiogram.enums import ParseMode
from aiogram.methods import TelegramMethod
from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models.outbox import Outbox
from storage.repositories.outbox import OutboxRepo


class UnknownMethodError(ValueError):
    pass


def _squash(name: str) -> str:
    return name.replace("_", "").lower()


@cache
def _method_classes() -> dict[str, type[TelegramMethod[Any]]]:
    """Every Bot API method that takes a ``chat_id``, by squashed name: ``sendmessage``."""
    found: dict[str, type[TelegramMethod[Any]]] = {}
    for name in aiogram.methods.__all__:
        obj = getattr(aiogram.methods, name)
        if (
            isinstance(obj, type)
            and issubclass(obj, TelegramMethod)
            and obj is not TelegramMethod
            and "chat_id" in obj.model_fields
        ):
            found[_squash(obj.__api_method__)] = obj
    return found


def resolve_method(name: str) -> type[TelegramMethod[Any]]:
    """``sendMessage``, ``send_message`` or ``SendMessage`` → ``aiogram.methods.SendMessage``."""
    try:
        return _method_classes()[_squash(name)]
    except KeyError:
        raise UnknownMethodError(f"not a chat-bound Bot API method: {name!r}") from None


def build_method(method: str, payload: dict[str, Any], chat_id: int) -> TelegramMethod[Any]:
    """The aiogram method object for one row; raises ``pydantic.ValidationError`` on a bad
    payload and ``UnknownMethodError`` on an unknown name."""
    return resolve_method(method).model_validate({**payload, "chat_id": chat_id})


def to_json(value: Any) -> Any:
    """Payload values as plain JSON: aiogram objects dumped without ``None`` and without the
    ``Default(...)`` placeholders (the bot's defaults apply again at send time). An explicit
    ``None`` the caller wrote stays: ``parse_mode=None`` means plain text."""
    if isinstance(value, BaseModel):
        value = value.model_dump(exclude_none=True)
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items() if not isinstance(v, Default)}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    return value


async def enqueue(
    session: AsyncSession,
    *,
    chat_id: int,
    method: str,
    payload: dict[str, Any],
    citizen_id: int | None = None,
    group_key: str | None = None,
    not_before: datetime | None = None,
    report_topic_id: int | None = None,
) -> Outbox:
    """Add one Bot API call to the outbox, in the caller's transaction. ``report_topic_id``:
    send it in that report's forum topic (the worker opens the topic first).

    The payload is validated against the aiogram method now, so a malformed message fails in
    the code that wrote it rather than minutes later in the delivery loop.
    """
    cls = resolve_method(method)
    data = to_json(payload)
    data.pop("chat_id", None)
    # In a report's topic the worker adds the thread (it may not be opened yet): a stand-in
    # lets a call that requires one (closeForumTopic) be checked now all the same.
    thread = {"message_thread_id": 1} if report_topic_id is not None else {}
    try:
        cls.model_validate({**thread, **data, "chat_id": chat_id})
    except ValidationError as exc:
        raise ValueError(f"invalid payload for {cls.__api_method__}: {exc}") from exc
    return await OutboxRepo(session).add(
        chat_id=chat_id,
        method=cls.__api_method__,
        payload=data,
        citizen_id=citizen_id,
        group_key=group_key,
        not_before=not_before,
        report_topic_id=report_topic_id,
    )


async def enqueue_message(
    session: AsyncSession,
    chat_id: int,
    text: str,
    reply_markup: BaseModel | dict[str, Any] | None = None,
    *,
    citizen_id: int | None = None,
    group_key: str | None = None,
    not_before: datetime | None = None,
    report_topic_id: int | None = None,
    **params: Any,
) -> Outbox:
    """A ``sendMessage`` in HTML parse mode unless ``parse_mode`` says otherwise. The text must
    already be escaped where it carries user input."""
    payload: dict[str, Any] = {"text": text, "parse_mode": ParseMode.HTML.value, **params}
    if reply_markup is not None:
        payload["reply_markup"] = reply_markup
    return await enqueue(
        session,
        chat_id=chat_id,
        method="sendMessage",
        payload=payload,
        citizen_id=citizen_id,
        group_key=group_key,
        not_before=not_before,
        report_topic_id=report_topic_id,
    )
