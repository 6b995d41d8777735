"""The sandbox page: static files at ``/`` and the few routes the page needs beyond the Bot API
server's control API (who one can be, uploads of real files, the command menu of a chat)."""

from __future__ import annotations

import dataclasses
import json
import struct
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from sandbox.botapi.control import message_view

if TYPE_CHECKING:
    from sandbox.app import Sandbox

TOKEN_PLACEHOLDER = "{{sandbox_token}}"
STATIC_DIR = Path(__file__).resolve().parent / "static"
# Telegram's own ceilings for what a user can send: photos 10 MB, other files far more, but the
# page keeps everything in memory, so one limit for both.
MAX_UPLOAD = 20 * 1024 * 1024
_PHOTO_TYPES = {"image/jpeg", "image/png", "image/gif", "image/webp"}


def add_page_routes(app: web.Application, sandbox: Sandbox) -> None:
    page = _Page(sandbox)
    r = app.router
    r.add_get("/", page.index)
    r.add_static("/static/", STATIC_DIR, append_version=False)
    r.add_get("/_sandbox/people", page.people)
    r.add_post("/_sandbox/people/citizens", page.add_citizen)
    r.add_get("/_sandbox/chats/{chat_id}/commands", page.commands)
    r.add_post("/_sandbox/chats/{chat_id}/upload", page.upload)


def _user_json(user: Any) -> dict[str, Any]:
    data = dataclasses.asdict(user)
    data["name"] = " ".join(p for p in (user.first_name, user.last_name) if p)
    return data


class _Page:
    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    async def index(self, request: web.Request) -> web.StreamResponse:
        # The page carries this start's token for app.js to send back (sandbox/guard.py).
        html = (STATIC_DIR / "index.html").read_text(encoding="utf-8").replace(
            TOKEN_PLACEHOLDER, self.sandbox.token)
        return web.Response(text=html, content_type="text/html",
                            headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})

    async def people(self, request: web.Request) -> web.StreamResponse:
        people = self.sandbox.people
        if people is None:
            return web.json_response({"ok": False, "error": "the sandbox is still starting"}, status=503)
        return web.json_response(
            {
                "admin": _user_json(people.admin),
                "officers": [
                    {**_user_json(o.user), "agency_id": o.agency_id, "agency_name": o.agency_name,
                     "agency_code": o.agency_code}
                    for o in people.officers
                ],
                "citizens": [_user_json(u) for u in people.citizens],
                "groups": [
                    {"id": g.chat_id, "title": g.title, "agency_name": g.agency_name,
                     "members": [_user_json(m) for m in g.members]}
                    for g in people.groups
                ],
                "bot": self.sandbox.server.state.bot_user,
            }
        )

    async def add_citizen(self, request: web.Request) -> web.StreamResponse:
        return web.json_response({"ok": True, "user": _user_json(self.sandbox.add_citizen())})

    async def commands(self, request: web.Request) -> web.StreamResponse:
        """The menu Telegram would show in this chat: the chat's own scope, else the default, in
        the user's language when the bot set one for it (Telegram's resolution order)."""
        chat_id = int(request.match_info["chat_id"])
        user = self.sandbox.server.state.users.get(int(request.query.get("user_id", chat_id)))
        lang = (user.language_code or "") if user else ""
        stored = self.sandbox.server.state.commands
        chat_scope = json.dumps({"type": "chat", "chat_id": chat_id}, sort_keys=True)
        kind = "all_private_chats" if chat_id > 0 else "all_group_chats"
        for scope in (chat_scope, json.dumps({"type": kind}, sort_keys=True),
                      json.dumps({"type": "default"}, sort_keys=True)):
            for language in (lang, ""):
                if (scope, language) in stored:
                    return web.json_response({"commands": stored[(scope, language)]})
        return web.json_response({"commands": []})

    async def upload(self, request: web.Request) -> web.StreamResponse:
        """A file chosen on disk, sent by the user: pictures as a photo, the rest as a document."""
        chat_id = int(request.match_info["chat_id"])
        try:
            form = await request.post()
        except ValueError as exc:
            return web.json_response({"ok": False, "error": str(exc)}, status=400)
        upload = form.get("file")
        if not isinstance(upload, web.FileField):
            return web.json_response({"ok": False, "error": "no file in the form"}, status=400)
        content = upload.file.read(MAX_UPLOAD + 1)
        if len(content) > MAX_UPLOAD:
            return web.json_response({"ok": False, "error": "file too large for the sandbox"}, status=413)
        users = self.sandbox.server.state.users
        try:
            user = users[int(str(form.get("user_id", chat_id)))]
        except (KeyError, ValueError):
            return web.json_response({"ok": False, "error": "unknown user"}, status=400)
        caption = str(form.get("caption") or "") or None
        target = None if chat_id == user.id else chat_id
        mime = upload.content_type or "application/octet-stream"
        server = self.sandbox.server
        as_photo = mime in _PHOTO_TYPES and str(form.get("as", "auto")) != "document"
        if as_photo:
            size = image_size(content) or (1280, 960)
            msg = await server.user_sends_photo(user, caption, size, chat_id=target, content=content)
        else:
            msg = await server.user_sends_document(
                user, upload.filename or "file", mime, caption=caption, chat_id=target, content=content
            )
        return web.json_response({"ok": True, "messages": [message_view(msg)]})


def image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of a PNG, GIF or JPEG from its header, without an imaging library."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        return struct.unpack(">II", data[16:24])
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        return struct.unpack("<HH", data[6:10])
    if data[:2] == b"\xff\xd8":
        i = 2
        while i + 9 < len(data):
            if data[i] != 0xFF:
                return None
            marker = data[i + 1]
            length = struct.unpack(">H", data[i + 2:i + 4])[0]
            # SOF0..SOF15 carry the frame size, except DHT (C4), JPG (C8) and DAC (CC).
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                height, width = struct.unpack(">HH", data[i + 5:i + 9])
                return width, height
            i += 2 + length
    return None
