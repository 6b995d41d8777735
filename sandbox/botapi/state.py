"""Everything the fake server remembers, with a version counter so readers can wait for changes.

Both the Bot API handlers and the simulated users write here; tests and the sandbox web page
read chats from here and wait on ``wait_change`` instead of polling on a timer.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sandbox.botapi.models import (
    Chat,
    ForumTopic,
    SentRequest,
    SimUser,
    StoredFile,
    StoredMessage,
    Violation,
    bad_request,
)

T = TypeVar("T")

_EXTENSIONS = {"photo": "jpg", "video": "mp4", "voice": "oga", "sticker": "webp"}


@dataclass
class CallbackQueryState:
    id: str
    user: SimUser
    chat_id: int
    message_id: int
    data: str
    created: float
    answer: dict[str, Any] | None = None
    expired: bool = False
    timer: asyncio.TimerHandle | None = field(default=None, repr=False)


class BotApiState:
    def __init__(self, bot_user: dict[str, Any]) -> None:
        self.bot_user = bot_user
        self.users: dict[int, SimUser] = {}
        self.chats: dict[int, Chat] = {}
        self.messages: dict[int, list[StoredMessage]] = {}
        self._message_ids: dict[int, itertools.count[int]] = {}
        self.files: dict[str, StoredFile] = {}
        self._files_by_path: dict[str, StoredFile] = {}
        # A photo is several sizes; any of their file_ids re-sends the whole set.
        self.photo_sets: dict[str, list[str]] = {}
        self._file_counter = itertools.count(1)
        self.updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(100_001)
        self.allowed_updates: list[str] | None = None
        self.poll_generation = 0
        self.callbacks: dict[str, CallbackQueryState] = {}
        self.violations: list[Violation] = []
        self.sent_requests: list[SentRequest] = []
        # Called with every request as it is recorded: a crowd of simulated users waits on its
        # own chat this way instead of every waiter re-checking on every change.
        self.request_listeners: list[Callable[[SentRequest], None]] = []
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.menu_buttons: dict[int | None, dict[str, Any]] = {}
        self.webhook: dict[str, Any] = {}
        self.blocked: set[int] = set()
        self.chat_actions: dict[int, tuple[str, float]] = {}
        self._bot_cursor: dict[int, int] = {}
        self.version = 0
        self._waiters: list[asyncio.Future[None]] = []
        self.closing = False

    # -- change notification --------------------------------------------------------------

    def bump(self) -> int:
        self.version += 1
        waiters, self._waiters = self._waiters, []
        for fut in waiters:
            if not fut.done():
                fut.set_result(None)
        return self.version

    async def wait_change(self, since: int, timeout: float) -> int:
        """Return once ``version`` exceeds ``since`` or the timeout passes; returns the version."""
        if self.version > since or timeout <= 0 or self.closing:
            return self.version
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(fut)
        try:
            await asyncio.wait_for(fut, timeout)
        except TimeoutError:
            pass
        return self.version

    async def wait_until(self, check: Callable[[], T | None], timeout: float) -> T:
        """Re-run ``check`` after every change until it returns something other than None."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            seen = self.version
            result = check()
            if result is not None:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0 or self.closing:
                raise TimeoutError(f"condition not met within {timeout} s")
            await self.wait_change(seen, remaining)

    # -- chats and users -------------------------------------------------------------------

    def add_user(self, user: SimUser) -> Chat:
        self.users[user.id] = user
        chat = self.chats.get(user.id)
        if chat is None:
            chat = self.chats[user.id] = Chat(id=user.id, type="private", user=user)
            self.messages[user.id] = []
            self.bump()
        else:
            chat.user = user
        return chat

    def add_group(
        self,
        chat_id: int,
        title: str,
        members: list[SimUser],
        *,
        supergroup: bool = False,
        forum: bool = False,
        bot_status: str = "member",
        admins: Sequence[SimUser] = (),
    ) -> Chat:
        """A group with the bot in it (``bot_status``: "member", "administrator", or "left" for
        a group the bot is still to be added to). A forum is always a supergroup. ``admins``:
        members who administer the group."""
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        for member in members:
            self.users[member.id] = member
        chat = self.chats[chat_id] = Chat(
            id=chat_id,
            type="supergroup" if supergroup or forum else "group",
            title=title,
            members={m.id for m in members},
            is_forum=forum,
            bot_status=bot_status,
            admins={a.id for a in admins},
        )
        self.messages.setdefault(chat_id, [])
        self.bump()
        return chat

    def add_topic(self, chat: Chat, name: str, icon_color: int, *, by_bot: bool, sender_id: int) -> ForumTopic:
        """Open a topic: Telegram posts a service message whose id becomes the topic's id."""
        created = {"name": name, "icon_color": icon_color}
        msg = self.add_message(chat.id, from_bot=by_bot, sender_id=sender_id, kind="service",
                               service={"forum_topic_created": created})
        msg.message_thread_id = msg.message_id
        topic = chat.topics[msg.message_id] = ForumTopic(msg.message_id, name, icon_color)
        return topic

    def get_chat(self, chat_id: int) -> Chat:
        chat = self.chats.get(chat_id)
        if chat is None:
            raise bad_request("chat not found")
        return chat

    # -- messages --------------------------------------------------------------------------

    def add_message(self, chat_id: int, *, from_bot: bool, sender_id: int, kind: str, **fields: Any) -> StoredMessage:
        counter = self._message_ids.setdefault(chat_id, itertools.count(1))
        msg = StoredMessage(
            chat_id=chat_id,
            message_id=next(counter),
            from_bot=from_bot,
            sender_id=sender_id,
            date=int(time.time()),
            kind=kind,
            **fields,
        )
        self.messages.setdefault(chat_id, []).append(msg)
        msg.version = self.bump()
        return msg

    def find_message(self, chat_id: int, message_id: int) -> StoredMessage | None:
        for msg in self.messages.get(chat_id, ()):
            if msg.message_id == message_id and not msg.deleted:
                return msg
        return None

    def edit_message(self, msg: StoredMessage, **changes: Any) -> None:
        msg.history.append(
            {
                "text": msg.text,
                "entities": msg.entities,
                "caption": msg.caption,
                "caption_entities": msg.caption_entities,
                "reply_markup": msg.reply_markup,
                "edit_date": msg.edit_date,
            }
        )
        for key, value in changes.items():
            setattr(msg, key, value)
        msg.edit_date = int(time.time())
        msg.version = self.bump()

    def delete_message(self, msg: StoredMessage) -> None:
        msg.deleted = True
        msg.version = self.bump()

    def next_bot_message(
        self, chat_id: int, predicate: Callable[[StoredMessage], bool] | None
    ) -> StoredMessage | None:
        """The first bot message after the ones already handed out by this method."""
        cursor = self._bot_cursor.get(chat_id, 0)
        for msg in self.messages.get(chat_id, ()):
            if msg.from_bot and msg.message_id > cursor and (predicate is None or predicate(msg)):
                self._bot_cursor[chat_id] = msg.message_id
                return msg
        return None

    def message_json(self, msg: StoredMessage, *, with_reply: bool = True) -> dict[str, Any]:
        chat = self.chats[msg.chat_id]
        data: dict[str, Any] = {"message_id": msg.message_id, "date": msg.date, "chat": chat.to_api()}
        if msg.from_bot:
            data["from"] = dict(self.bot_user)
        else:
            data["from"] = self.users[msg.sender_id].to_api()
        if msg.text is not None:
            data["text"] = msg.text
            if msg.entities:
                data["entities"] = msg.entities
        if msg.caption is not None:
            data["caption"] = msg.caption
            if msg.caption_entities:
                data["caption_entities"] = msg.caption_entities
        data.update(msg.media)
        data.update(msg.service)
        if msg.message_thread_id is not None and chat.is_forum:
            data["message_thread_id"] = msg.message_thread_id
            data["is_topic_message"] = True
        if msg.media_group_id:
            data["media_group_id"] = msg.media_group_id
        if msg.forward_origin:
            data["forward_origin"] = msg.forward_origin
        if msg.edit_date:
            data["edit_date"] = msg.edit_date
        # Telegram only ever echoes inline keyboards back inside a Message.
        if msg.reply_markup and "inline_keyboard" in msg.reply_markup:
            data["reply_markup"] = msg.reply_markup
        reply_to = msg.reply_to_message_id
        if reply_to is None and "message_thread_id" in data and msg.message_thread_id != msg.message_id:
            # In a topic, a message that replies to nothing replies to the topic's first message
            # (https://core.telegram.org/bots/api#message reply_to_message, forum topics).
            reply_to = msg.message_thread_id
        if with_reply and reply_to:
            replied = self.find_message(msg.chat_id, reply_to)
            if replied is not None:
                data["reply_to_message"] = self.message_json(replied, with_reply=False)
        return data

    # -- updates ---------------------------------------------------------------------------

    def push_update(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        update = {"update_id": next(self._update_ids), kind: payload}
        self.updates.append(update)
        self.bump()
        return update

    def confirm_updates(self, offset: int) -> None:
        if offset < 0:
            self.updates = self.updates[offset:]
        else:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]

    def deliverable_updates(self, limit: int) -> list[dict[str, Any]]:
        """Pending updates the bot asked for; ones of other types are dropped, as Telegram does."""
        if self.allowed_updates:
            allowed = set(self.allowed_updates)
            self.updates = [u for u in self.updates if _update_type(u) in allowed]
        else:
            # Not set (or []) means every type but these, per the Bot API docs.
            excluded = {"chat_member", "message_reaction", "message_reaction_count"}
            self.updates = [u for u in self.updates if _update_type(u) not in excluded]
        return self.updates[:limit]

    # -- files -----------------------------------------------------------------------------

    def store_file(
        self,
        kind: str,
        content: bytes,
        *,
        file_name: str | None = None,
        mime_type: str | None = None,
        width: int | None = None,
        height: int | None = None,
    ) -> StoredFile:
        n = next(self._file_counter)
        ext = _EXTENSIONS.get(kind) or (file_name.rsplit(".", 1)[-1] if file_name and "." in file_name else "bin")
        folder = {"photo": "photos", "video": "videos", "voice": "voice", "sticker": "stickers"}.get(kind, "documents")
        stored = StoredFile(
            file_id=f"{kind.upper()}-{n}-{secrets.token_urlsafe(12)}",
            file_unique_id=f"U{n}{secrets.token_hex(4)}",
            kind=kind,
            content=content,
            file_path=f"{folder}/file_{n}.{ext}",
            file_name=file_name,
            mime_type=mime_type,
            width=width,
            height=height,
        )
        self.files[stored.file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    def file_by_path(self, path: str) -> StoredFile | None:
        return self._files_by_path.get(path)

    def store_photo(self, content: bytes, width: int, height: int) -> list[dict[str, Any]]:
        """Fabricate the size ladder Telegram makes of a photo; the largest keeps the bytes."""
        sizes: list[StoredFile] = []
        for side in (90, 320, 800):
            if side < max(width, height):
                scale = side / max(width, height)
                w, h = max(1, round(width * scale)), max(1, round(height * scale))
                part = content[: max(1, len(content) * side // max(width, height))]
                sizes.append(self.store_file("photo", part, width=w, height=h))
        sizes.append(self.store_file("photo", content, width=width, height=height))
        ids = [s.file_id for s in sizes]
        for file_id in ids:
            self.photo_sets[file_id] = ids
        return self.photo_json(sizes[-1].file_id)

    def photo_json(self, file_id: str) -> list[dict[str, Any]]:
        return [photo_size_json(self.files[i]) for i in self.photo_sets[file_id]]

    # -- logs ------------------------------------------------------------------------------

    def record_violation(self, method: str, chat_id: int | None, description: str) -> None:
        self.violations.append(Violation(method, chat_id, description, time.time()))
        self.bump()

    def record_request(self, entry: SentRequest) -> None:
        self.sent_requests.append(entry)
        for listener in self.request_listeners:
            listener(entry)
        self.bump()


def _update_type(update: dict[str, Any]) -> str:
    return next(k for k in update if k != "update_id")


def photo_size_json(f: StoredFile) -> dict[str, Any]:
    return {
        "file_id": f.file_id,
        "file_unique_id": f.file_unique_id,
        "width": f.width or 0,
        "height": f.height or 0,
        "file_size": f.file_size,
    }


def file_json(f: StoredFile, **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"file_id": f.file_id, "file_unique_id": f.file_unique_id, "file_size": f.file_size}
    if f.file_name:
        data["file_name"] = f.file_name
    if f.mime_type:
        data["mime_type"] = f.mime_type
    data.update(extra)
    return data
