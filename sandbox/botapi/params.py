"""Read a Bot API request the three ways clients send it: query string, JSON, or form data.

aiogram always posts form data (multipart once a file is attached) with complex fields such as
``reply_markup`` serialised as JSON strings, and files referenced as ``attach://<part name>``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from sandbox.botapi.models import bad_request

# Fields whose values are JSON objects or arrays; in form data they arrive as JSON strings.
JSON_FIELDS = {
    "reply_markup",
    "entities",
    "caption_entities",
    "media",
    "scope",
    "commands",
    "allowed_updates",
    "link_preview_options",
    "reply_parameters",
    "menu_button",
    "message_ids",
}


@dataclass(frozen=True)
class Upload:
    filename: str
    content_type: str | None
    content: bytes


class Params:
    def __init__(self, values: dict[str, Any], uploads: dict[str, Upload]) -> None:
        self.values = values
        self.uploads = uploads

    def for_log(self) -> dict[str, Any]:
        logged = dict(self.values)
        for name, up in self.uploads.items():
            logged[name] = {"upload": up.filename, "size": len(up.content)}
        return logged

    def get(self, name: str, default: Any = None) -> Any:
        return self.values.get(name, default)

    def __contains__(self, name: str) -> bool:
        return name in self.values

    def str(self, name: str, *, required: bool = False) -> str | None:
        value = self.values.get(name)
        if value is None or value == "":
            if required:
                raise bad_request(f"{name} is empty")
            return None
        return str(value)

    def int(self, name: str, *, required: bool = False) -> int | None:
        value = self.values.get(name)
        if value is None or value == "":
            if required:
                raise bad_request(f"{name} is empty")
            return None
        if isinstance(value, bool):
            raise bad_request(f"field \"{name}\" must be of type Integer")
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request(f"field \"{name}\" must be of type Integer") from None

    def float(self, name: str, *, required: bool = False) -> float | None:
        value = self.values.get(name)
        if value is None or value == "":
            if required:
                raise bad_request(f"{name} is empty")
            return None
        try:
            return float(value)
        except (TypeError, ValueError):
            raise bad_request(f"field \"{name}\" must be of type Number") from None

    def bool(self, name: str) -> bool:
        value = self.values.get(name)
        if isinstance(value, str):
            return value.strip().lower() in ("true", "1")
        return bool(value)

    def json(self, name: str) -> Any:
        value = self.values.get(name)
        if isinstance(value, str):
            if value == "":
                return None
            try:
                return json.loads(value)
            except ValueError:
                what = "reply keyboard markup" if name == "reply_markup" else name
                raise bad_request(f"can't parse {what} JSON object") from None
        return value

    def chat_id(self, name: str = "chat_id") -> int:
        value = self.values.get(name)
        if value is None or value == "":
            raise bad_request(f"{name} is empty")
        try:
            return int(value)
        except (TypeError, ValueError):
            # "@channelusername": the fake knows no public chats.
            raise bad_request("chat not found") from None

    def chat_id_or_none(self) -> int | None:
        try:
            return int(self.values["chat_id"])
        except (KeyError, TypeError, ValueError):
            return None

    def upload_for(self, name: str, value: Any) -> Upload | None:
        """The uploaded file a field refers to: ``attach://part`` or a file part of that name."""
        if isinstance(value, str) and value.startswith("attach://"):
            upload = self.uploads.get(value.removeprefix("attach://"))
            if upload is None:
                raise bad_request(f"file {value} not found in the request")
            return upload
        return self.uploads.get(name)


async def read_params(request: web.Request) -> Params:
    values: dict[str, Any] = dict(request.query)
    uploads: dict[str, Upload] = {}
    if request.method == "POST" and request.can_read_body:
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise bad_request("can't parse JSON encoded request") from None
            if not isinstance(body, dict):
                raise bad_request("JSON request must be an object")
            values.update(body)
        else:
            form = await request.post()
            for name, value in form.items():
                if isinstance(value, web.FileField):
                    uploads[name] = Upload(value.filename, value.content_type, value.file.read())
                else:
                    values[name] = value
    for name in JSON_FIELDS & values.keys():
        value = values[name]
        if isinstance(value, str) and value[:1] in ("{", "["):
            try:
                values[name] = json.loads(value)
            except ValueError:
                pass  # left as a string; the handler reports it in Telegram's words
    return Params(values, uploads)
