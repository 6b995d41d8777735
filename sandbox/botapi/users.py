"""Simulated users: what a person does in the Telegram app, turned into updates for the bot.

Used by the end-to-end tests and by the sandbox web page (through the control API).
"""

from __future__ import annotations

import asyncio
import re
import secrets
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sandbox.botapi.markup import utf16_len
from sandbox.botapi.models import BOT_IN_GROUP, Limits, SimUser, StoredMessage
from sandbox.botapi.state import CallbackQueryState, file_json

if TYPE_CHECKING:
    from sandbox.botapi.state import BotApiState

_LEADING_COMMAND = re.compile(r"^/[A-Za-z0-9_]{1,32}(@[A-Za-z0-9_]+)?")


def _fake_bytes(size: int, header: bytes = b"") -> bytes:
    return (header + b"\0" * max(0, size - len(header)))[: max(size, len(header))]


def _fake_photo(size: int, width: int, height: int) -> bytes:
    """A real JPEG, as Telegram always delivers a photo (the bot may download and re-encode
    it), padded to ``size``: decoders stop at the end-of-image marker."""
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), (90, 140, 200)).save(out, "JPEG", quality=60)
    return _fake_bytes(size, out.getvalue())


def _fake_document(size: int, mime_type: str) -> bytes:
    """A real PDF for a PDF (padded inside its metadata, so readers still find its end), else
    zeros."""
    if mime_type != "application/pdf":
        return _fake_bytes(size)
    import io

    from pypdf import PdfWriter

    def pdf(padding: int) -> bytes:
        writer = PdfWriter()
        writer.add_blank_page(595, 842)
        writer.add_metadata({"/Padding": "x" * padding})
        out = io.BytesIO()
        writer.write(out)
        return out.getvalue()

    padding = 0
    for _ in range(3):  # the padding's length is all that changes: converges at once
        data = pdf(padding)
        if len(data) == size:
            return data
        padding += size - len(data)
        if padding < 0:
            return _fake_bytes(size)  # smaller than any PDF: the bytes alone will do
    return data


class UserSimulation:
    state: BotApiState
    limits: Limits
    privacy_mode: bool = True

    def _chat_for(self, user: SimUser, chat_id: int | None) -> int:
        self.state.add_user(user)
        if chat_id is None:
            return user.id
        chat = self.state.get_chat(chat_id)
        if chat.is_group and user.id not in chat.members:
            raise LookupError(f"{user.first_name} ({user.id}) is not a member of {chat.title!r}")
        return chat_id

    def _user_message(
        self, user: SimUser, chat_id: int | None, kind: str, *, thread_id: int | None = None, **fields: Any
    ) -> StoredMessage:
        target = self._chat_for(user, chat_id)
        chat = self.state.chats[target]
        if thread_id is not None and thread_id not in chat.topics:
            raise LookupError(f"no topic {thread_id} in {chat.title!r}")
        if thread_id is not None and chat.topics[thread_id].closed and user.id not in chat.admins:
            # Telegram's app offers no input field there; only the group's admins may write.
            raise PermissionError(f"TOPIC_CLOSED: {user.first_name} may not write in a closed topic")
        msg = self.state.add_message(
            target, from_bot=False, sender_id=user.id, kind=kind, message_thread_id=thread_id, **fields
        )
        if self.bot_sees(msg):
            self.state.push_update("message", self.state.message_json(msg))
        return msg

    def bot_sees(self, msg: StoredMessage) -> bool:
        """Whether a user's message reaches the bot. In a group with privacy mode on (the
        default; getMe says ``can_read_all_group_messages: false``) a bot that is not an admin
        gets only commands (not those addressed to another bot) and replies to its own
        messages; an admin bot gets everything; a bot not in the group gets nothing.
        https://core.telegram.org/bots/features#privacy-mode"""
        chat = self.state.chats[msg.chat_id]
        if not chat.is_group:
            return True
        if chat.bot_status not in BOT_IN_GROUP:
            return False
        if chat.bot_status == "administrator" or not self.privacy_mode:
            return True
        command = _LEADING_COMMAND.match(msg.text or msg.caption or "")
        if command is not None:
            addressed = command.group(1)
            return addressed is None or addressed[1:].lower() == str(self.state.bot_user["username"]).lower()
        if msg.reply_to_message_id is not None:
            replied = self.state.find_message(msg.chat_id, msg.reply_to_message_id)
            # A topic's first message is not a reply target in this sense, even when the bot
            # opened the topic: a message in the topic is not a reply to the bot.
            return replied is not None and replied.from_bot and replied.kind != "service"
        return False

    async def user_sends_text(
        self,
        user: SimUser,
        text: str,
        *,
        chat_id: int | None = None,
        reply_to: int | None = None,
        thread_id: int | None = None,
    ) -> StoredMessage:
        """``thread_id``: the forum topic it is written in (a reply inherits its target's)."""
        entities = []
        m = _LEADING_COMMAND.match(text)
        if m:
            entities.append({"type": "bot_command", "offset": 0, "length": utf16_len(m.group(0))})
        if reply_to is not None and thread_id is None and chat_id is not None:
            replied = self.state.find_message(chat_id, reply_to)
            thread_id = replied.message_thread_id if replied is not None else None
        return self._user_message(
            user, chat_id, "text", thread_id=thread_id, text=text, entities=entities, reply_to_message_id=reply_to
        )

    async def user_sends_command(
        self,
        user: SimUser,
        command: str,
        args: str = "",
        *,
        chat_id: int | None = None,
        thread_id: int | None = None,
    ) -> StoredMessage:
        text = "/" + command.lstrip("/") + (f" {args}" if args else "")
        return await self.user_sends_text(user, text, chat_id=chat_id, thread_id=thread_id)

    async def user_sends_photo(
        self,
        user: SimUser,
        caption: str | None = None,
        size: tuple[int, int] = (1280, 960),
        *,
        chat_id: int | None = None,
        media_group_id: str | None = None,
        file_size: int = 120_000,
        content: bytes | None = None,
    ) -> StoredMessage:
        """``content``: the picture's real bytes (the sandbox page uploads one); else fabricated."""
        data = content if content is not None else _fake_photo(file_size, *size)
        photo = self.state.store_photo(data, *size)
        return self._user_message(
            user, chat_id, "photo", caption=caption, media={"photo": photo}, media_group_id=media_group_id
        )

    async def user_sends_document(
        self,
        user: SimUser,
        file_name: str = "dokumen.pdf",
        mime_type: str = "application/pdf",
        size: int = 50_000,
        *,
        caption: str | None = None,
        chat_id: int | None = None,
        content: bytes | None = None,
    ) -> StoredMessage:
        stored = self.state.store_file(
            "document", content if content is not None else _fake_document(size, mime_type), file_name=file_name,
            mime_type=mime_type
        )
        return self._user_message(user, chat_id, "document", caption=caption, media={"document": file_json(stored)})

    async def user_sends_album(
        self, user: SimUser, n_photos: int = 3, caption: str | None = None, *, chat_id: int | None = None
    ) -> list[StoredMessage]:
        """Telegram delivers an album as separate messages sharing a media_group_id."""
        group_id = str(secrets.randbelow(10**17) + 10**17)
        return [
            await self.user_sends_photo(
                user, caption if i == 0 else None, chat_id=chat_id, media_group_id=group_id
            )
            for i in range(n_photos)
        ]

    async def user_sends_location(
        self, user: SimUser, lat: float, lon: float, *, chat_id: int | None = None
    ) -> StoredMessage:
        return self._user_message(user, chat_id, "location", media={"location": {"latitude": lat, "longitude": lon}})

    async def user_sends_sticker(
        self, user: SimUser, emoji: str = "👍", *, chat_id: int | None = None
    ) -> StoredMessage:
        stored = self.state.store_file("sticker", _fake_bytes(2_000, b"RIFF"), mime_type="image/webp")
        sticker = file_json(
            stored, type="regular", width=512, height=512, is_animated=False, is_video=False, emoji=emoji
        )
        sticker.pop("mime_type", None)
        return self._user_message(user, chat_id, "sticker", media={"sticker": sticker})

    async def user_sends_voice(self, user: SimUser, duration: int = 3, *, chat_id: int | None = None) -> StoredMessage:
        stored = self.state.store_file("voice", _fake_bytes(duration * 4_000, b"OggS"), mime_type="audio/ogg")
        return self._user_message(user, chat_id, "voice", media={"voice": file_json(stored, duration=duration)})

    async def user_presses(
        self,
        user: SimUser,
        message_id: int,
        callback_data: str,
        *,
        chat_id: int | None = None,
        check_button: bool = True,
    ) -> str:
        """Press an inline button; returns the callback query id.

        ``check_button=False`` sends data the keyboard does not offer, as a forged client could.
        """
        target = self._chat_for(user, chat_id)
        msg = self.state.find_message(target, message_id)
        if msg is None:
            raise LookupError(f"no message {message_id} in chat {target}")
        if check_button and callback_data not in msg.callback_data():
            raise LookupError(f"message {message_id} has no button {callback_data!r}; it has {msg.callback_data()}")
        cq_id = str(secrets.randbits(62))
        cq = CallbackQueryState(cq_id, user, target, message_id, callback_data, time.time())
        self.state.callbacks[cq_id] = cq
        cq.timer = asyncio.get_running_loop().call_later(
            self.limits.callback_answer_timeout, self._callback_expired, cq_id
        )
        self.state.push_update(
            "callback_query",
            {
                "id": cq_id,
                "from": user.to_api(),
                "message": self.state.message_json(msg),
                "chat_instance": str(abs(hash((self.state.bot_user["id"], target)))),
                "data": callback_data,
            },
        )
        return cq_id

    def _callback_expired(self, cq_id: str) -> None:
        cq = self.state.callbacks[cq_id]
        if cq.answer is None:
            cq.expired = True
            self.state.record_violation(
                "answerCallbackQuery",
                cq.chat_id,
                f"callback query {cq_id} (data {cq.data!r}) was not answered within "
                f"{self.limits.callback_answer_timeout:g} s; the user's button keeps spinning",
            )

    async def wait_callback_answer(self, cq_id: str, timeout: float = 10) -> dict[str, Any]:
        """The bot's answerCallbackQuery arguments (text, show_alert, url, cache_time)."""
        cq = self.state.callbacks[cq_id]
        return await self.state.wait_until(lambda: cq.answer, timeout)

    def chat(self, chat_id: int) -> list[StoredMessage]:
        """Every message of the chat in order, as it stands now (deleted ones flagged)."""
        return list(self.state.messages.get(chat_id, ()))

    def bot_messages(self, chat_id: int, *, include_deleted: bool = False) -> list[StoredMessage]:
        return [m for m in self.chat(chat_id) if m.from_bot and (include_deleted or not m.deleted)]

    async def wait_for_bot_message(
        self, chat_id: int, predicate: Callable[[StoredMessage], bool] | None = None, timeout: float = 10
    ) -> StoredMessage:
        """The next bot message in the chat not yet returned by this method (matching ``predicate``).

        Counting from the last one handed out, not from the call, so a reply that arrived before
        the test started waiting is not missed.
        """
        return await self.state.wait_until(lambda: self.state.next_bot_message(chat_id, predicate), timeout)

    async def wait_until(self, condition: Callable[[], Any], timeout: float = 10) -> Any:
        """Wait until ``condition()`` returns something truthy; re-checked after every change."""
        return await self.state.wait_until(lambda: condition() or None, timeout)
