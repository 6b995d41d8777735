"""The HTTP session to the Bot API: aiogram's, with a lighter body for a request without files.

aiogram builds every request as aiohttp's ``FormData``, which makes a multipart writer (a random
boundary from ``os.urandom``, its headers) for each one, then sends a request without files
urlencoded all the same. Two or three requests per form step paid for it (issue 15, py-spy of
bench/concurrency.py). Here such a request's fields are encoded directly, the same body and
content type as aiohttp sends; a request with files goes through aiogram's own path.

A getUpdates answer is validated one update at a time, letting the event loop run between two:
aiogram validated the whole batch (up to 100 updates) in one go, which held every running
handler up for tens of milliseconds when the bot was behind (issue 15).
"""

from __future__ import annotations

import asyncio
from http import HTTPStatus
from typing import Any, cast
from urllib.parse import urlencode

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.exceptions import ClientDecodeError
from aiogram.methods import GetUpdates, Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import Update
from aiohttp import FormData
from aiohttp.payload import BytesPayload
from pydantic import ValidationError

# Held here: pydantic keeps a parametrised class only weakly (bot/response_types.py says why).
_RAW_UPDATES = Response[list[Any]]


class FormSession(AiohttpSession):
    def build_form_data(self, bot: Bot, method: TelegramMethod[TelegramType]) -> FormData | BytesPayload:  # type: ignore[override]
        files: dict[str, Any] = {}
        fields = []
        for key, value in method.model_dump(warnings=False).items():
            value = self.prepare_value(value, bot=bot, files=files)
            if value:  # what aiogram leaves out
                fields.append((key, value))
        if files:
            return super().build_form_data(bot, method)
        # What aiohttp's FormData sends for fields without files (FormData._gen_form_urlencoded).
        return BytesPayload(urlencode(fields, doseq=True).encode(), content_type="application/x-www-form-urlencoded")

    async def make_request(self, bot: Bot, method: TelegramMethod[TelegramType], timeout: int | None = None
                           ) -> TelegramType:
        result = await super().make_request(bot, method, timeout)
        if isinstance(method, GetUpdates):
            return cast(TelegramType, await updates_one_by_one(bot, cast(list[Any], result)))
        return result

    def check_response(self, bot: Bot, method: TelegramMethod[TelegramType], status_code: int, content: str
                       ) -> Response[TelegramType]:
        if isinstance(method, GetUpdates) and HTTPStatus.OK <= status_code <= HTTPStatus.IM_USED:
            try:
                answer = self.json_loads(content)
            except Exception:  # aiogram's own check below says what was wrong
                answer = None
            if isinstance(answer, dict) and answer.get("ok") is True and isinstance(answer.get("result"), list):
                # The updates as they came; make_request validates them one by one.
                return cast(Response[TelegramType], _RAW_UPDATES.model_construct(ok=True, result=answer["result"]))
        return super().check_response(bot, method, status_code, content)


class UpdateBatch(list[Update]):
    """A getUpdates answer: its updates, and ``raw``, each as Telegram sent it (the same order)."""

    __slots__ = ("raw",)

    def __init__(self, raw: list[Any]) -> None:
        super().__init__()
        self.raw = raw


async def updates_one_by_one(bot: Bot, raw: list[Any]) -> UpdateBatch:
    updates = UpdateBatch(raw)
    for item in raw:
        if updates:
            await asyncio.sleep(0)  # what is ready to run runs between two updates
        try:
            updates.append(Update.model_validate(item, context={"bot": bot}))
        except ValidationError as exc:
            raise ClientDecodeError("Failed to deserialize object", exc, item) from exc
    return updates
