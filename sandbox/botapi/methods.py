"""Bot API methods: each takes the server and the request's Params and returns the ``result``.

Errors are raised as ``ApiError`` with the description Telegram uses, so the bot under test
meets the same failures it would meet in production.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from sandbox.botapi.markup import render_text, utf16_len, validate_reply_markup
from sandbox.botapi.models import (
    BOT_IN_GROUP,
    ApiError,
    Chat,
    ForumTopic,
    StoredFile,
    StoredMessage,
    bad_request,
)
from sandbox.botapi.params import Params
from sandbox.botapi.state import file_json

if TYPE_CHECKING:
    from sandbox.botapi.server import BotApiServer

Handler = Callable[["BotApiServer", Params], Awaitable[Any]]
METHODS: dict[str, Handler] = {}

# Methods that put something in front of the user: refused for a user who blocked the bot.
SEND_METHODS = {
    "sendmessage",
    "sendphoto",
    "senddocument",
    "sendvideo",
    "sendvoice",
    "sendaudio",
    "sendanimation",
    "sendsticker",
    "sendmediagroup",
    "sendlocation",
    "sendchataction",
    "copymessage",
    "forwardmessage",
}
# Telegram's six topic icon colours (https://core.telegram.org/bots/api#createforumtopic).
TOPIC_COLORS = (0x6FB9F0, 0xFFD67E, 0xCB86DB, 0x8EEE98, 0xFF93B2, 0xFB6F5F)

_CHAT_ACTIONS = {
    "typing",
    "upload_photo",
    "record_video",
    "upload_video",
    "record_voice",
    "upload_voice",
    "upload_document",
    "choose_sticker",
    "find_location",
    "record_video_note",
    "upload_video_note",
}
_COMMAND = re.compile(r"^[a-z0-9_]{1,32}$")
_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the same "
    "as a current content and reply markup of the message"
)
_QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
_MAX_UPLOAD = 50 * 1024 * 1024
_MAX_DOWNLOAD = 20 * 1024 * 1024


def method(name: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        METHODS[name.lower()] = fn
        return fn

    return register


# -- bot, updates, webhook, commands --------------------------------------------------------


@method("getMe")
async def get_me(server: BotApiServer, p: Params) -> Any:
    return {
        **server.state.bot_user,
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
    }


@method("getUpdates")
async def get_updates(server: BotApiServer, p: Params) -> Any:
    state = server.state
    if state.webhook.get("url"):
        raise ApiError(
            409,
            "Conflict: can't use getUpdates method while webhook is active; "
            "use deleteWebhook to delete the webhook first",
        )
    # Telegram ends an older long poll when a newer one arrives: two consumers are a bug.
    state.poll_generation += 1
    generation = state.poll_generation
    state.bump()
    offset = p.int("offset")
    limit = min(max(p.int("limit") or 100, 1), 100)
    timeout = max(p.int("timeout") or 0, 0)
    allowed = p.json("allowed_updates")
    if allowed is not None:
        state.allowed_updates = list(allowed)
    if offset:
        state.confirm_updates(offset)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        if generation != state.poll_generation:
            raise ApiError(
                409, "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
            )
        seen = state.version
        ready = state.deliverable_updates(limit)
        remaining = deadline - loop.time()
        if ready or remaining <= 0 or state.closing:
            return ready
        await state.wait_change(seen, remaining)


@method("deleteWebhook")
async def delete_webhook(server: BotApiServer, p: Params) -> Any:
    server.state.webhook = {}
    if p.bool("drop_pending_updates"):
        server.state.updates.clear()
    return True


@method("setWebhook")
async def set_webhook(server: BotApiServer, p: Params) -> Any:
    url = p.str("url")
    if url and not url.startswith("https://"):
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    # Recorded; the fake calls out only when a test gave it targets (server.forward_webhook), as
    # the load balancer behind the public URL would. getUpdates then answers 409 as Telegram does.
    server.state.webhook = {
        "url": url,
        "allowed_updates": p.json("allowed_updates"),
        "secret_token": p.str("secret_token"),
        "max_connections": p.int("max_connections"),
    } if url else {}
    return True


@method("getWebhookInfo")
async def get_webhook_info(server: BotApiServer, p: Params) -> Any:
    info: dict[str, Any] = {
        "url": server.state.webhook.get("url") or "",
        "has_custom_certificate": False,
        "pending_update_count": len(server.state.updates),
    }
    if server.state.webhook.get("allowed_updates"):
        info["allowed_updates"] = server.state.webhook["allowed_updates"]
    return info


def _scope_key(p: Params) -> tuple[str, str]:
    scope = p.json("scope") or {"type": "default"}
    if not isinstance(scope, dict) or "type" not in scope:
        raise bad_request("can't parse BotCommandScope JSON object")
    return json.dumps(scope, sort_keys=True), p.str("language_code") or ""


@method("setMyCommands")
async def set_my_commands(server: BotApiServer, p: Params) -> Any:
    commands = p.json("commands")
    if not isinstance(commands, list):
        raise bad_request("can't parse commands JSON object")
    if len(commands) > 100:
        raise bad_request("BOT_COMMANDS_TOO_MUCH")
    for c in commands:
        if not isinstance(c, dict) or not _COMMAND.match(str(c.get("command", "")).lower()):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(str(c.get("description", ""))) <= 256:
            raise bad_request("command description must be non-empty")
    server.state.commands[_scope_key(p)] = [
        {"command": c["command"].lower(), "description": c["description"]} for c in commands
    ]
    return True


@method("getMyCommands")
async def get_my_commands(server: BotApiServer, p: Params) -> Any:
    return server.state.commands.get(_scope_key(p), [])


@method("deleteMyCommands")
async def delete_my_commands(server: BotApiServer, p: Params) -> Any:
    server.state.commands.pop(_scope_key(p), None)
    return True


@method("setChatMenuButton")
async def set_chat_menu_button(server: BotApiServer, p: Params) -> Any:
    server.state.menu_buttons[p.int("chat_id")] = p.json("menu_button") or {"type": "default"}
    return True


@method("getChatMenuButton")
async def get_chat_menu_button(server: BotApiServer, p: Params) -> Any:
    return server.state.menu_buttons.get(p.int("chat_id"), {"type": "commands"})


@method("setMyDescription")
@method("setMyShortDescription")
@method("setMyName")
async def ack(server: BotApiServer, p: Params) -> Any:
    return True


@method("getChat")
async def get_chat(server: BotApiServer, p: Params) -> Any:
    chat = server.state.get_chat(p.chat_id())
    gifts = dict.fromkeys(
        ("unlimited_gifts", "limited_gifts", "unique_gifts", "premium_subscription", "gifts_from_channels"), False
    )
    return {**chat.to_api(), "accent_color_id": 0, "max_reaction_count": 11, "accepted_gift_types": gifts}


@method("getChatMember")
async def get_chat_member(server: BotApiServer, p: Params) -> Any:
    chat = server.state.get_chat(p.chat_id())
    user_id = p.int("user_id", required=True)
    if user_id == server.state.bot_user["id"]:
        return bot_member(server.state.bot_user, chat.bot_status)
    user = server.state.users.get(user_id or 0)
    if user is None:
        raise bad_request("PARTICIPANT_ID_INVALID")
    if chat.type == "private":
        return {"user": user.to_api(), "status": "member"}
    status = "member" if user.id in chat.members else "left"
    return {"user": user.to_api(), "status": status}


def bot_member(bot_user: dict[str, Any], status: str) -> dict[str, Any]:
    """The bot as a ChatMember of a group, in ``status``; an admin with every right."""
    bot = dict(bot_user)
    if status == "administrator":
        rights = {key: True for key in (
            "can_manage_chat", "can_delete_messages", "can_manage_video_chats", "can_restrict_members",
            "can_promote_members", "can_change_info", "can_invite_users", "can_post_stories",
            "can_edit_stories", "can_delete_stories", "can_pin_messages", "can_manage_topics")}
        return {"user": bot, "status": "administrator", "can_be_edited": False, "is_anonymous": False, **rights}
    if status == "kicked":
        return {"user": bot, "status": "kicked", "until_date": 0}
    return {"user": bot, "status": status}


# -- forum topics ---------------------------------------------------------------------------


def _forum(server: BotApiServer, p: Params) -> Chat:
    """A forum supergroup where the bot may manage topics (an admin with can_manage_topics)."""
    chat = _writable(server, p.chat_id())
    if not chat.is_forum:
        raise bad_request("the chat is not a forum")
    if chat.bot_status != "administrator":
        raise bad_request("not enough rights to create a topic")
    return chat


def _topic_name(p: Params, *, required: bool = True) -> str | None:
    name = p.str("name", required=required)
    if name is not None and not 1 <= utf16_len(name) <= 128:
        raise bad_request("TOPIC_TITLE_EMPTY" if not name else "topic name is too long")
    return name


def _topic(chat: Chat, p: Params) -> ForumTopic:
    topic = chat.topics.get(p.int("message_thread_id", required=True) or 0)
    if topic is None:
        raise bad_request("message thread not found")
    return topic


@method("createForumTopic")
async def create_forum_topic(server: BotApiServer, p: Params) -> Any:
    chat = _forum(server, p)
    name = _topic_name(p)
    assert name is not None
    color = p.int("icon_color")
    if color is None:
        color = TOPIC_COLORS[len(chat.topics) % len(TOPIC_COLORS)]
    elif color not in TOPIC_COLORS:
        raise bad_request("invalid icon color specified")
    server.rate_limiter.check(chat.id, group=True)
    topic = server.state.add_topic(chat, name, color, by_bot=True, sender_id=server.state.bot_user["id"])
    return {"message_thread_id": topic.message_thread_id, "name": topic.name, "icon_color": topic.icon_color}


@method("editForumTopic")
async def edit_forum_topic(server: BotApiServer, p: Params) -> Any:
    chat = _forum(server, p)
    topic = _topic(chat, p)
    name = _topic_name(p, required=False)
    if name is None or name == topic.name:
        raise bad_request("TOPIC_NOT_MODIFIED")
    topic.name = name
    server.state.bump()
    return True


def _topic_closer(closing: bool) -> Handler:
    async def close(server: BotApiServer, p: Params) -> Any:
        chat = _forum(server, p)
        topic = _topic(chat, p)
        if topic.closed == closing:
            raise bad_request("TOPIC_NOT_MODIFIED")
        topic.closed = closing
        server.state.bump()
        return True

    return close


method("closeForumTopic")(_topic_closer(True))
method("reopenForumTopic")(_topic_closer(False))


@method("deleteForumTopic")
async def delete_forum_topic(server: BotApiServer, p: Params) -> Any:
    chat = _forum(server, p)
    topic = _topic(chat, p)
    del chat.topics[topic.message_thread_id]
    for msg in server.state.messages.get(chat.id, ()):
        if msg.message_thread_id == topic.message_thread_id:
            server.state.delete_message(msg)
    return True


# -- sending --------------------------------------------------------------------------------


def _reply_to(server: BotApiServer, p: Params, chat_id: int) -> int | None:
    params = p.json("reply_parameters") or {}
    message_id = params.get("message_id") if isinstance(params, dict) else None
    if message_id is None:
        message_id = p.int("reply_to_message_id")
    if message_id is None:
        return None
    if server.state.find_message(chat_id, int(message_id)) is None:
        if params.get("allow_sending_without_reply") or p.bool("allow_sending_without_reply"):
            return None
        raise bad_request("message to be replied not found")
    return int(message_id)


def _markup(p: Params) -> dict[str, Any] | None:
    markup = p.json("reply_markup")
    if isinstance(markup, str):
        raise bad_request("can't parse reply keyboard markup JSON object")
    validate_reply_markup(markup)
    return markup


def _caption(server: BotApiServer, p: Params) -> tuple[str | None, list[dict[str, Any]]]:
    return render_text(
        p.str("caption"),
        p.str("parse_mode"),
        p.json("caption_entities"),
        limit=server.limits.max_caption,
        caption=True,
    )


def _writable(server: BotApiServer, chat_id: int) -> Chat:
    """The chat, if the bot may post in it: a group it left or was removed from answers 403."""
    chat = server.state.get_chat(chat_id)
    if chat.is_group and chat.bot_status == "kicked":
        raise ApiError(403, f"Forbidden: bot was kicked from the {chat.type} chat")
    if chat.is_group and chat.bot_status not in BOT_IN_GROUP:
        raise ApiError(403, f"Forbidden: bot is not a member of the {chat.type} chat")
    return chat


def _thread(chat: Chat, p: Params) -> int | None:
    """``message_thread_id``: a topic of a forum supergroup; a closed one only for an
    administrator bot (Telegram lets the group's admins write in a closed topic)."""
    thread = p.int("message_thread_id")
    if thread is None:
        return None
    if not chat.is_forum:
        raise bad_request("message thread not found")
    topic = chat.topics.get(thread)
    if topic is None:
        raise bad_request("message thread not found")
    if topic.closed and chat.bot_status != "administrator":
        raise bad_request("TOPIC_CLOSED")
    return thread


def _deliver(server: BotApiServer, chat_id: int, kind: str, p: Params, **fields: Any) -> StoredMessage:
    chat = _writable(server, chat_id)
    thread = _thread(chat, p)
    server.rate_limiter.check(chat_id, group=chat.is_group)
    return server.state.add_message(
        chat_id, from_bot=True, sender_id=server.state.bot_user["id"], kind=kind, message_thread_id=thread,
        **fields,
    )


@method("sendMessage")
async def send_message(server: BotApiServer, p: Params) -> Any:
    chat_id = p.chat_id()
    server.state.get_chat(chat_id)
    text, entities = render_text(
        p.get("text") if p.get("text") != "" else None,
        p.str("parse_mode"),
        p.json("entities"),
        limit=server.limits.max_text,
    )
    markup = _markup(p)
    reply_to = _reply_to(server, p, chat_id)
    msg = _deliver(
        server, chat_id, "text", p, text=text, entities=entities, reply_markup=markup, reply_to_message_id=reply_to
    )
    return server.state.message_json(msg)


def resolve_file(
    server: BotApiServer, p: Params, field: str, kind: str, value: Any = None
) -> StoredFile | list[dict[str, Any]]:
    """An uploaded file (stored anew) or an existing file_id; photos come back as size lists."""
    state = server.state
    value = p.get(field) if value is None else value
    upload = p.upload_for(field, value)
    if upload is not None:
        if len(upload.content) > _MAX_UPLOAD:
            raise ApiError(413, "Request Entity Too Large")
        if kind == "photo":
            return state.store_photo(upload.content, 1280, 960)
        return state.store_file(kind, upload.content, file_name=upload.filename, mime_type=upload.content_type)
    if not isinstance(value, str) or not value:
        raise bad_request(f"there is no {field} in the request")
    if value.startswith(("http://", "https://")):
        # No internet here: pretend the download worked with an empty file.
        if kind == "photo":
            return state.store_photo(b"", 1280, 960)
        return state.store_file(kind, b"", file_name=value.rsplit("/", 1)[-1] or None)
    stored = state.files.get(value)
    if stored is None:
        raise bad_request("wrong file identifier/HTTP URL specified")
    if (stored.kind == "photo") != (kind == "photo"):
        raise bad_request("type of file mismatch")
    if kind == "photo":
        return state.photo_json(value)
    return stored


def _media_fields(kind: str, file: StoredFile | list[dict[str, Any]]) -> dict[str, Any]:
    if kind == "photo":
        assert isinstance(file, list)
        return {"photo": file}
    assert isinstance(file, StoredFile)
    extra: dict[str, Any] = {}
    if kind == "video":
        extra = {"width": file.width or 640, "height": file.height or 360, "duration": 1}
    elif kind in ("voice", "audio"):
        extra = {"duration": 1}
    elif kind == "sticker":
        extra = {"type": "regular", "width": 512, "height": 512, "is_animated": False, "is_video": False}
    return {kind: file_json(file, **extra)}


def _media_sender(kind: str) -> Handler:
    async def send(server: BotApiServer, p: Params) -> Any:
        chat_id = p.chat_id()
        server.state.get_chat(chat_id)
        caption, caption_entities = _caption(server, p)
        markup = _markup(p)
        reply_to = _reply_to(server, p, chat_id)
        file = resolve_file(server, p, kind, kind)
        msg = _deliver(
            server,
            chat_id,
            kind,
            p,
            caption=caption,
            caption_entities=caption_entities,
            media=_media_fields(kind, file),
            reply_markup=markup,
            reply_to_message_id=reply_to,
        )
        return server.state.message_json(msg)

    return send


for _kind in ("photo", "document", "video", "voice", "audio", "animation", "sticker"):
    method(f"send{_kind.capitalize()}")(_media_sender(_kind))


@method("sendMediaGroup")
async def send_media_group(server: BotApiServer, p: Params) -> Any:
    chat_id = p.chat_id()
    chat = server.state.get_chat(chat_id)
    media = p.json("media")
    if not isinstance(media, list):
        raise bad_request("can't parse media JSON object")
    if not 2 <= len(media) <= 10:
        raise bad_request("media group must include 2-10 items")
    kinds = {item.get("type") for item in media if isinstance(item, dict)}
    if len(kinds & {"document", "audio"}) and len(kinds) > 1:
        raise bad_request("documents and audio can't be mixed with other media types in an album")
    reply_to = _reply_to(server, p, chat_id)
    prepared = []
    for item in media:
        if not isinstance(item, dict) or item.get("type") not in ("photo", "video", "document", "audio"):
            raise bad_request("can't parse InputMedia JSON object")
        caption, caption_entities = render_text(
            item.get("caption"),
            item.get("parse_mode"),
            item.get("caption_entities"),
            limit=server.limits.max_caption,
            caption=True,
        )
        file = resolve_file(server, p, "media", item["type"], item.get("media"))
        prepared.append((item["type"], caption, caption_entities, file))
    _writable(server, chat_id)
    thread = _thread(chat, p)
    # An album is one send as far as the flood limits go.
    server.rate_limiter.check(chat_id, group=chat.is_group)
    group_id = str(secrets.randbelow(10**17) + 10**17)
    messages = [
        server.state.add_message(
            chat_id,
            from_bot=True,
            sender_id=server.state.bot_user["id"],
            kind=kind,
            caption=caption,
            caption_entities=caption_entities,
            media=_media_fields(kind, file),
            media_group_id=group_id,
            reply_to_message_id=reply_to,
            message_thread_id=thread,
        )
        for kind, caption, caption_entities, file in prepared
    ]
    return [server.state.message_json(m) for m in messages]


@method("sendLocation")
async def send_location(server: BotApiServer, p: Params) -> Any:
    chat_id = p.chat_id()
    server.state.get_chat(chat_id)
    lat, lon = p.float("latitude", required=True), p.float("longitude", required=True)
    assert lat is not None and lon is not None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise bad_request("wrong location specified")
    markup = _markup(p)
    msg = _deliver(
        server, chat_id, "location", p, media={"location": {"latitude": lat, "longitude": lon}}, reply_markup=markup
    )
    return server.state.message_json(msg)


@method("sendChatAction")
async def send_chat_action(server: BotApiServer, p: Params) -> Any:
    chat_id = p.chat_id()
    server.state.get_chat(chat_id)
    action = p.str("action", required=True)
    if action not in _CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    server.state.chat_actions[chat_id] = (action, asyncio.get_running_loop().time())
    return True


def _source(server: BotApiServer, p: Params, what: str) -> StoredMessage:
    msg = server.state.find_message(p.chat_id("from_chat_id"), p.int("message_id", required=True) or 0)
    if msg is None:
        raise bad_request(f"message to {what} not found")
    return msg


@method("copyMessage")
async def copy_message(server: BotApiServer, p: Params) -> Any:
    chat_id = p.chat_id()
    server.state.get_chat(chat_id)
    src = _source(server, p, "copy")
    caption, caption_entities = src.caption, src.caption_entities
    if "caption" in p and src.kind != "text":
        caption, caption_entities = _caption(server, p)
    markup = _markup(p)
    msg = _deliver(
        server,
        chat_id,
        src.kind,
        p,
        text=src.text,
        entities=list(src.entities),
        caption=caption,
        caption_entities=list(caption_entities),
        media=dict(src.media),
        reply_markup=markup,
        reply_to_message_id=_reply_to(server, p, chat_id),
    )
    return {"message_id": msg.message_id}


@method("forwardMessage")
async def forward_message(server: BotApiServer, p: Params) -> Any:
    chat_id = p.chat_id()
    server.state.get_chat(chat_id)
    src = _source(server, p, "forward")
    sender = server.state.bot_user if src.from_bot else server.state.users[src.sender_id].to_api()
    msg = _deliver(
        server,
        chat_id,
        src.kind,
        p,
        text=src.text,
        entities=list(src.entities),
        caption=src.caption,
        caption_entities=list(src.caption_entities),
        media=dict(src.media),
        forward_origin={"type": "user", "sender_user": sender, "date": src.date},
    )
    return server.state.message_json(msg)


# -- editing and deleting -------------------------------------------------------------------


def _editable(server: BotApiServer, p: Params) -> StoredMessage:
    if p.get("inline_message_id"):
        raise bad_request("MESSAGE_ID_INVALID")
    msg = server.state.find_message(p.chat_id(), p.int("message_id", required=True) or 0)
    if msg is None:
        raise bad_request("message to edit not found")
    if not msg.from_bot:
        raise bad_request("message can't be edited")
    return msg


def _inline_markup(p: Params) -> dict[str, Any] | None:
    markup = _markup(p)
    if markup is not None and "inline_keyboard" not in markup:
        raise bad_request("inline keyboard expected")
    # An empty keyboard and no keyboard are the same thing to Telegram.
    return markup if markup and markup["inline_keyboard"] else None


def _same_entities(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> bool:
    def key(e: dict[str, Any]) -> str:
        return json.dumps(e, sort_keys=True)

    return sorted(map(key, a)) == sorted(map(key, b))


@method("editMessageText")
async def edit_message_text(server: BotApiServer, p: Params) -> Any:
    msg = _editable(server, p)
    text, entities = render_text(
        p.get("text") if p.get("text") != "" else None,
        p.str("parse_mode"),
        p.json("entities"),
        limit=server.limits.max_text,
    )
    markup = _inline_markup(p)
    if msg.kind != "text":
        raise bad_request("there is no text in the message to edit")
    if text == msg.text and _same_entities(entities, msg.entities) and markup == msg.reply_markup:
        raise bad_request(_NOT_MODIFIED)
    server.state.edit_message(msg, text=text, entities=entities, reply_markup=markup)
    return server.state.message_json(msg)


@method("editMessageCaption")
async def edit_message_caption(server: BotApiServer, p: Params) -> Any:
    msg = _editable(server, p)
    caption, caption_entities = _caption(server, p)
    markup = _inline_markup(p)
    if msg.kind in ("text", "location", "sticker"):
        raise bad_request("there is no caption in the message to edit")
    if caption == msg.caption and _same_entities(caption_entities, msg.caption_entities) and markup == msg.reply_markup:
        raise bad_request(_NOT_MODIFIED)
    server.state.edit_message(msg, caption=caption, caption_entities=caption_entities, reply_markup=markup)
    return server.state.message_json(msg)


@method("editMessageReplyMarkup")
async def edit_message_reply_markup(server: BotApiServer, p: Params) -> Any:
    msg = _editable(server, p)
    markup = _inline_markup(p)
    if markup == msg.reply_markup:
        raise bad_request(_NOT_MODIFIED)
    server.state.edit_message(msg, reply_markup=markup)
    return server.state.message_json(msg)


@method("deleteMessage")
async def delete_message(server: BotApiServer, p: Params) -> Any:
    chat_id = p.chat_id()
    server.state.get_chat(chat_id)
    msg = server.state.find_message(chat_id, p.int("message_id", required=True) or 0)
    if msg is None:
        raise bad_request("message to delete not found")
    server.state.delete_message(msg)
    return True


@method("deleteMessages")
async def delete_messages(server: BotApiServer, p: Params) -> Any:
    chat_id = p.chat_id()
    server.state.get_chat(chat_id)
    ids = p.json("message_ids")
    if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
        raise bad_request("message_ids must include 1-100 identifiers")
    for message_id in ids:
        msg = server.state.find_message(chat_id, int(message_id))
        if msg is not None:
            server.state.delete_message(msg)
    return True


# -- callbacks and files --------------------------------------------------------------------


@method("answerCallbackQuery")
async def answer_callback_query(server: BotApiServer, p: Params) -> Any:
    cq = server.state.callbacks.get(p.str("callback_query_id", required=True) or "")
    if cq is None or cq.answer is not None or cq.expired:
        raise bad_request(_QUERY_TOO_OLD)
    text = p.str("text")
    if text is not None and utf16_len(text) > server.limits.max_callback_answer:
        raise bad_request("MESSAGE_TOO_LONG")
    cq.answer = {
        "text": text,
        "show_alert": p.bool("show_alert"),
        "url": p.str("url"),
        "cache_time": p.int("cache_time") or 0,
    }
    if cq.timer is not None:
        cq.timer.cancel()
    server.state.bump()
    return True


@method("getFile")
async def get_file(server: BotApiServer, p: Params) -> Any:
    stored = server.state.files.get(p.str("file_id", required=True) or "")
    if stored is None:
        raise bad_request("invalid file_id")
    if stored.file_size > _MAX_DOWNLOAD:
        raise bad_request("file is too big")
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": stored.file_size,
        "file_path": stored.file_path,
    }
