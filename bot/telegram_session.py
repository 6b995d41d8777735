"""The HTTP session to the Bot API: aiogram's, with a lighter body for a request without files.

aiogram builds every request as aiohttp's ``FormData``, which makes a multipart writer (a random
boundary from ``os.urandom``, its headers) for each one, then sends a request without files
urlencoded all the same. Two or three requests per form step paid for it (issue 15, py-spy of
bench/concurrency.py). Here such a request's fields are encoded directly, the same body and
content type as aiohttp sends; a request with files goes through aiogram's own path.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType
from aiohttp import FormData
from aiohttp.payload import BytesPayload


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
