"""JSON control API under ``/_sandbox/``: the same simulated users and readers, over HTTP.

Meant for the sandbox web page: read chats, long-poll ``/_sandbox/poll?since=<version>`` for
changes, post as a user, press buttons, and show violations and the request log.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from sandbox.botapi.models import ApiError, SimUser, StoredMessage

if TYPE_CHECKING:
    from sandbox.botapi.server import BotApiServer

_MAX_POLL = 30.0

Route = Callable[[web.Request], Awaitable[web.StreamResponse]]


def add_control_routes(app: web.Application, server: BotApiServer) -> None:
    api = _ControlApi(server)
    r = app.router
    r.add_get("/_sandbox/state", _guard(api.state))
    r.add_get("/_sandbox/poll", _guard(api.poll))
    r.add_post("/_sandbox/users", _guard(api.add_user))
    r.add_post("/_sandbox/users/{user_id}/block", _guard(api.block))
    r.add_post("/_sandbox/users/{user_id}/unblock", _guard(api.unblock))
    r.add_get("/_sandbox/chats/{chat_id}/messages", _guard(api.messages))
    r.add_post("/_sandbox/chats/{chat_id}/send", _guard(api.send))
    r.add_post("/_sandbox/chats/{chat_id}/press", _guard(api.press))
    r.add_get("/_sandbox/callbacks/{cq_id}", _guard(api.callback))
    r.add_get("/_sandbox/violations", _guard(api.violations))
    r.add_get("/_sandbox/requests", _guard(api.requests))
    r.add_post("/_sandbox/faults", _guard(api.add_fault))
    r.add_get("/_sandbox/files/{file_id}", _guard(api.file))


def _guard(fn: Route) -> Route:
    async def route(request: web.Request) -> web.StreamResponse:
        try:
            return await fn(request)
        except (KeyError, LookupError, ValueError, TypeError) as e:
            return web.json_response({"ok": False, "error": f"{type(e).__name__}: {e}"}, status=400)
        except PermissionError as e:  # a member writing in a closed topic
            return web.json_response({"ok": False, "error": str(e)}, status=403)
        except ApiError as e:
            return web.json_response({"ok": False, "error": e.description}, status=e.code)

    return route


def message_view(msg: StoredMessage) -> dict[str, Any]:
    data = msg.to_dict()
    data["buttons"] = msg.inline_keyboard
    return data


class _ControlApi:
    def __init__(self, server: BotApiServer) -> None:
        self.server = server
        self.st = server.state

    async def _body(self, request: web.Request) -> dict[str, Any]:
        body = await request.json() if request.can_read_body else {}
        if not isinstance(body, dict):
            raise ValueError("the body must be a JSON object")
        return body

    def _user(self, body: dict[str, Any]) -> SimUser:
        if isinstance(body.get("user"), dict):
            return SimUser.from_dict(body["user"])
        return self.st.users[int(body["user_id"])]

    async def state(self, request: web.Request) -> web.StreamResponse:
        chats = []
        for chat in self.st.chats.values():
            msgs = self.st.messages.get(chat.id, [])
            action = self.st.chat_actions.get(chat.id)
            chats.append(
                {
                    "id": chat.id,
                    "type": chat.type,
                    "title": chat.title,
                    "user": dataclasses.asdict(chat.user) if chat.user else None,
                    "message_count": len(msgs),
                    "last_version": max((m.version for m in msgs), default=0),
                    "last_action": action[0] if action else None,
                    "blocked": chat.id in self.st.blocked,
                    "is_forum": chat.is_forum,
                    "bot_status": chat.bot_status if chat.is_group else None,
                    "members": sorted(chat.members),
                    "topics": [dataclasses.asdict(t) for t in chat.topics.values()],
                }
            )
        return web.json_response(
            {
                "version": self.st.version,
                "bot": self.st.bot_user,
                "chats": chats,
                "violation_count": len(self.st.violations),
                "pending_updates": len(self.st.updates),
            }
        )

    async def poll(self, request: web.Request) -> web.StreamResponse:
        since = int(request.query.get("since", "0"))
        timeout = min(float(request.query.get("timeout", "25")), _MAX_POLL)
        return web.json_response({"version": await self.st.wait_change(since, timeout)})

    async def add_user(self, request: web.Request) -> web.StreamResponse:
        user = self.server.add_user(SimUser.from_dict(await self._body(request)))
        return web.json_response({"ok": True, "user": dataclasses.asdict(user)})

    async def block(self, request: web.Request) -> web.StreamResponse:
        self.server.block_user(int(request.match_info["user_id"]))
        return web.json_response({"ok": True})

    async def unblock(self, request: web.Request) -> web.StreamResponse:
        self.server.unblock_user(int(request.match_info["user_id"]))
        return web.json_response({"ok": True})

    async def messages(self, request: web.Request) -> web.StreamResponse:
        chat_id = int(request.match_info["chat_id"])
        since = int(request.query.get("since", "0"))
        msgs = [message_view(m) for m in self.server.chat(chat_id) if m.version > since]
        return web.json_response({"version": self.st.version, "messages": msgs})

    async def send(self, request: web.Request) -> web.StreamResponse:
        chat_id = int(request.match_info["chat_id"])
        body = await self._body(request)
        user = self._user(body)
        target = None if chat_id == user.id else chat_id
        kind = body.get("type", "text")
        s = self.server
        # In a forum: the topic written in; a reply to a message (in a group, how a bot with
        # privacy mode on hears a member).
        thread = int(body["thread_id"]) if body.get("thread_id") is not None else None
        reply_to = int(body["reply_to"]) if body.get("reply_to") is not None else None
        sent: StoredMessage | list[StoredMessage]
        if kind == "text":
            sent = await s.user_sends_text(user, str(body["text"]), chat_id=target, thread_id=thread,
                                           reply_to=reply_to)
        elif kind == "command":
            sent = await s.user_sends_command(user, str(body["command"]), str(body.get("args", "")), chat_id=target,
                                              thread_id=thread)
        elif kind == "photo":
            sent = await s.user_sends_photo(user, body.get("caption"), chat_id=target)
        elif kind == "document":
            sent = await s.user_sends_document(
                user,
                body.get("file_name", "dokumen.pdf"),
                body.get("mime_type", "application/pdf"),
                int(body.get("size", 50_000)),
                caption=body.get("caption"),
                chat_id=target,
            )
        elif kind == "album":
            sent = await s.user_sends_album(user, int(body.get("n_photos", 3)), body.get("caption"), chat_id=target)
        elif kind == "location":
            sent = await s.user_sends_location(user, float(body["lat"]), float(body["lon"]), chat_id=target)
        elif kind == "sticker":
            sent = await s.user_sends_sticker(user, body.get("emoji", "👍"), chat_id=target)
        elif kind == "voice":
            sent = await s.user_sends_voice(user, int(body.get("duration", 3)), chat_id=target)
        else:
            raise ValueError(f"unknown message type {kind!r}")
        sent_list = sent if isinstance(sent, list) else [sent]
        return web.json_response({"ok": True, "messages": [message_view(m) for m in sent_list]})

    async def press(self, request: web.Request) -> web.StreamResponse:
        chat_id = int(request.match_info["chat_id"])
        body = await self._body(request)
        user = self._user(body)
        cq_id = await self.server.user_presses(
            user,
            int(body["message_id"]),
            str(body["callback_data"]),
            chat_id=None if chat_id == user.id else chat_id,
        )
        return web.json_response({"ok": True, "callback_query_id": cq_id})

    async def callback(self, request: web.Request) -> web.StreamResponse:
        cq = self.st.callbacks[request.match_info["cq_id"]]
        return web.json_response({"answer": cq.answer, "expired": cq.expired, "data": cq.data})

    async def violations(self, request: web.Request) -> web.StreamResponse:
        return web.json_response([dataclasses.asdict(v) for v in self.st.violations])

    async def requests(self, request: web.Request) -> web.StreamResponse:
        since = int(request.query.get("since", "0"))
        entries = self.st.sent_requests[since:]
        return web.json_response(
            {"next": since + len(entries), "requests": [dataclasses.asdict(e) for e in entries]},
            dumps=_dumps,
        )

    async def add_fault(self, request: web.Request) -> web.StreamResponse:
        body = await self._body(request)
        self.server.faults.add(
            method=body.get("method"),
            chat_id=body.get("chat_id"),
            kind=body.get("kind", "5xx"),
            times=int(body.get("times", 1)),
            retry_after=int(body.get("retry_after", 5)),
            deliver=bool(body.get("deliver", False)),
            hang=float(body.get("hang", 3600.0)),
        )
        return web.json_response({"ok": True, "pending": len(self.server.faults.pending)})

    async def file(self, request: web.Request) -> web.StreamResponse:
        stored = self.st.files[request.match_info["file_id"]]
        return web.Response(body=stored.content, content_type=stored.mime_type or "application/octet-stream")


def _dumps(obj: Any) -> str:
    return json.dumps(obj, default=str)
