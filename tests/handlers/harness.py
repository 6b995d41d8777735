"""Drive the real dispatcher like a user, with a Bot whose session records every request.

``Harness`` builds the application with ``build_app`` (the production wiring) on a temporary
SQLite database, swaps the bot's HTTP session for ``RecordingSession`` and feeds updates through
``dp.feed_update``. Nothing leaves the process; every Bot API call is kept in ``requests``.

Telegram can also say no, the way aiogram's own ``tests/mocked_bot.py`` queues answers per
method: ``h.telegram.fail(SendMessage, Fault.blocked())`` makes the next sendMessage fail with
403, raised by aiogram's own response check as from the real server. Strict mode (the default;
``strict=False`` turns it off) adds the refusals Telegram makes by itself: an edit that changes
nothing ("message is not modified") and a second answer to one callback query ("query is too
old").

    async with Harness.create(tmp_path) as h:
        alice = h.user(1001, "Alice")
        await h.send(alice, "/start")
        assert "Selamat datang" in h.last_text(alice)
        await h.press(alice, h.last_message(alice), "some:callback")
"""

from __future__ import annotations

import itertools
import json
from collections import defaultdict, deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, get_origin

from aiogram import Bot
from aiogram.client.session.base import BaseSession
from aiogram.exceptions import ClientDecodeError, TelegramAPIError
from aiogram.methods import (
    AnswerCallbackQuery,
    CreateForumTopic,
    EditMessageCaption,
    EditMessageReplyMarkup,
    EditMessageText,
    GetFile,
    GetMe,
    TelegramMethod,
)
from aiogram.methods.base import TelegramType
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    Chat,
    ChatMemberLeft,
    ChatMemberMember,
    ChatMemberUpdated,
    Document,
    File,
    ForumTopic,
    FSInputFile,
    InlineKeyboardMarkup,
    InputFile,
    Location,
    Message,
    PhotoSize,
    Sticker,
    Update,
    User,
    Video,
    Voice,
)

from bot.app import App, build_app
from bot.config import Settings
from bot.pacing import PaceMiddleware
from storage.base import Base
from tests.files import jpeg_with_exif, pdf_with_author

TEST_TOKEN = "123456789:AAHarnessTokenForTestsOnly_abcdefghij"
BOT_USER = User(id=123456789, is_bot=True, first_name="LAPOR!", username="lapor_test_bot")


@dataclass
class Sent:
    """One message the bot sent (or edited into), as a chat would show it."""

    chat_id: int
    message_id: int
    method: str
    text: str | None
    reply_markup: Any
    request: TelegramMethod

    @property
    def buttons(self) -> list[tuple[str, str | None]]:
        """(label, callback_data) of every inline button, row by row."""
        if not isinstance(self.reply_markup, InlineKeyboardMarkup):
            return []
        return [(b.text, b.callback_data) for row in self.reply_markup.inline_keyboard for b in row]

    def button(self, label_part: str) -> str:
        """callback_data of the first inline button whose label contains ``label_part``."""
        for text, data in self.buttons:
            if label_part.lower() in text.lower() and data:
                return data
        raise AssertionError(f"no button {label_part!r} in {[t for t, _ in self.buttons]}")


@dataclass(frozen=True)
class Fault:
    """An error answer of the Bot API: HTTP status, description, and ``retry_after`` for 429."""

    status: int
    description: str
    retry_after: int | None = None

    @classmethod
    def blocked(cls) -> Fault:
        return cls(403, "Forbidden: bot was blocked by the user")

    @classmethod
    def not_modified(cls) -> Fault:
        return cls(400, "Bad Request: message is not modified: specified new message content and reply markup "
                        "are exactly the same as a current content and reply markup of the message")

    @classmethod
    def query_too_old(cls) -> Fault:
        return cls(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")

    @classmethod
    def flood(cls, retry_after: int) -> Fault:
        return cls(429, f"Too Many Requests: retry after {retry_after}", retry_after)

    @classmethod
    def server_error(cls) -> Fault:
        return cls(502, "Bad Gateway")

    @classmethod
    def gateway_page(cls) -> Fault:
        """What a proxy in front of the Bot API answers when it fails: an HTML page, not JSON."""
        return cls(502, "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway"
                        "</h1></center><hr><center>nginx</center></body></html>")

    def content(self) -> str:
        if self.description.startswith("<html>"):
            return self.description
        parameters = {"retry_after": self.retry_after} if self.retry_after is not None else None
        return json.dumps({"ok": False, "error_code": self.status, "description": self.description,
                           **({"parameters": parameters} if parameters else {})})


_EDITS = (EditMessageText, EditMessageCaption, EditMessageReplyMarkup)


def _as_received(method: TelegramMethod) -> TelegramMethod:
    """A file sent from disk as the bytes Telegram receives: the sender may delete the file
    once the request is done (the export does), and tests read what was sent."""
    files = {name: BufferedInputFile(Path(value.path).read_bytes(), value.filename or "file")
             for name, value in method if isinstance(value, FSInputFile)}
    return method.model_copy(update=files) if files else method


class FakeTelegram:
    """What every session of one harness talks to: the log of requests and Telegram's answers."""

    def __init__(self, *, strict: bool = False) -> None:
        self.strict = strict
        self.requests: list[TelegramMethod] = []
        # What each request returned (or the TelegramAPIError it raised), index for index.
        self.results: list[Any] = []
        self._faults: dict[type[TelegramMethod], deque[tuple[Fault, int | None]]] = defaultdict(deque)
        self._message_ids = itertools.count(1000)
        self._answered: set[str] = set()
        # (chat_id, message_id) -> (text or caption, inline markup) as the chat shows it now.
        self._shown: dict[tuple[int, int], tuple[str | None, InlineKeyboardMarkup | None]] = {}
        # The bytes behind file_ids (what users sent, what the bot uploaded): getFile and the
        # file URL serve them.
        self.files: dict[str, bytes] = {}
        # The names users' documents arrived with: a re-send by file_id shows them again.
        self.file_names: dict[str, str | None] = {}
        # Every file the bot uploaded: (chat_id, file name, bytes, the file_id it got).
        self.uploads: list[tuple[int, str | None, bytes, str]] = []
        self._upload_ids = itertools.count(1)

    def fail(self, method: type[TelegramMethod], fault: Fault, *, times: int = 1, chat_id: int | None = None) -> None:
        """The next ``times`` calls of ``method`` (to ``chat_id``, if given) get ``fault``."""
        self._faults[method].extend([(fault, chat_id)] * times)

    def shown(self, chat_id: int, message_id: int) -> tuple[str | None, InlineKeyboardMarkup | None] | None:
        return self._shown.get((chat_id, message_id))

    def handle(self, session: BaseSession, bot: Bot, method: TelegramMethod) -> Any:
        method = _as_received(method)
        self.requests.append(method)
        fault = self._fault_for(method)
        if fault is not None:
            try:
                session.check_response(bot, method, fault.status, fault.content())
            except (TelegramAPIError, ClientDecodeError) as exc:
                self.results.append(exc)
                raise
            raise AssertionError(f"aiogram accepted the error answer {fault}")
        result = self._answer(method)
        self.results.append(result)
        self._remember(method, result)
        return result

    def _fault_for(self, method: TelegramMethod) -> Fault | None:
        queue = self._faults.get(type(method))
        chat_id = getattr(method, "chat_id", None)
        for i, (fault, for_chat) in enumerate(queue or ()):
            if for_chat is None or str(for_chat) == str(chat_id):
                del queue[i]
                return fault
        if isinstance(method, GetFile) and method.file_id not in self.files:
            return Fault(400, "Bad Request: invalid file_id")
        if not self.strict:
            return None
        if isinstance(method, AnswerCallbackQuery) and method.callback_query_id in self._answered:
            return Fault.query_too_old()
        if isinstance(method, _EDITS) and self._unchanged(method):
            return Fault.not_modified()
        return None

    def _unchanged(self, edit: TelegramMethod) -> bool:
        shown = self._shown.get((int(getattr(edit, "chat_id", 0) or 0), getattr(edit, "message_id", 0) or 0))
        if shown is None:
            return False
        text, markup = shown
        new_markup = _inline(getattr(edit, "reply_markup", None))
        if isinstance(edit, EditMessageText):
            return edit.text == text and new_markup == markup
        if isinstance(edit, EditMessageCaption):
            return edit.caption == text and new_markup == markup
        return new_markup == markup

    def _remember(self, method: TelegramMethod, result: Any) -> None:
        if isinstance(method, AnswerCallbackQuery):
            self._answered.add(method.callback_query_id)
        messages = result if isinstance(result, list) else [result]
        for message in messages:
            if not isinstance(message, Message):
                continue
            key = (message.chat.id, message.message_id)
            text = getattr(method, "text", None) or getattr(method, "caption", None)
            if isinstance(method, EditMessageReplyMarkup) and key in self._shown:
                text = self._shown[key][0]
            self._shown[key] = (text, _inline(getattr(method, "reply_markup", None)))

    def _answer(self, method: TelegramMethod) -> Any:
        returning = method.__returning__
        if isinstance(method, GetMe):
            return BOT_USER
        if isinstance(method, AnswerCallbackQuery):
            return True
        if isinstance(method, CreateForumTopic):
            return ForumTopic(message_thread_id=next(self._message_ids), name=method.name, icon_color=0x6FB9F0)
        if isinstance(method, GetFile):
            return File(file_id=method.file_id, file_unique_id=f"u-{method.file_id}",
                        file_size=len(self.files[method.file_id]), file_path=f"files/{method.file_id}")
        if returning is Message or (
            isinstance(method, (EditMessageText, EditMessageCaption, EditMessageReplyMarkup))
        ):
            return self._message_for(method)
        if get_origin(returning) is list:
            media = getattr(method, "media", [])
            return [self._message_for(method, item.type, item.media) for item in media]
        if returning is bool:
            return True
        return None

    def _message_for(self, method: TelegramMethod, kind: str | None = None, media: Any = None) -> Message:
        chat_id = getattr(method, "chat_id", None) or 0
        message_id = getattr(method, "message_id", None) or next(self._message_ids)
        if kind is None:
            kind = next((k for k in ("photo", "document", "video", "voice") if getattr(method, k, None)), None)
            media = getattr(method, kind, None) if kind else None
        return Message(
            message_id=message_id,
            date=datetime.now(UTC),
            chat=Chat(id=int(chat_id), type="private" if int(chat_id) > 0 else "group"),
            from_user=BOT_USER,
            text=getattr(method, "text", None),
            caption=getattr(method, "caption", None),
            **(self._media(int(chat_id), kind, media) if kind else {}),
        )

    def _media(self, chat_id: int, kind: str, media: Any) -> dict[str, Any]:
        """The file a sent message shows: the same file_id on a re-send, a new one on upload."""
        name = None
        if isinstance(media, InputFile):
            file_id = f"upload-{next(self._upload_ids)}"
            name, content = media.filename, getattr(media, "data", b"")
            self.files[file_id] = content
            self.uploads.append((chat_id, name, content, file_id))
        else:
            file_id = str(media)
        unique = f"u-{file_id}"
        match kind:
            case "photo":
                return {"photo": [PhotoSize(file_id=file_id, file_unique_id=unique, width=1280, height=960)]}
            case "video":
                return {"video": Video(file_id=file_id, file_unique_id=unique, width=640, height=360, duration=1,
                                       file_name=name)}
            case "voice":
                return {"voice": Voice(file_id=file_id, file_unique_id=unique, duration=1)}
            case _:
                return {"document": Document(file_id=file_id, file_unique_id=unique, file_name=name)}


def _inline(markup: Any) -> InlineKeyboardMarkup | None:
    """The inline keyboard a message shows (a reply keyboard belongs to the chat, not to it)."""
    if isinstance(markup, InlineKeyboardMarkup) and markup.inline_keyboard:
        return markup
    return None


class RecordingSession(BaseSession):
    """A Bot API session whose requests go to a ``FakeTelegram``. Each bot gets its own, as in
    production, so request middlewares (the retry on 429) apply to the bot that has them."""

    def __init__(self, telegram: FakeTelegram | None = None) -> None:
        super().__init__()
        self.telegram = telegram or FakeTelegram()

    @property
    def requests(self) -> list[TelegramMethod]:
        return self.telegram.requests

    @property
    def results(self) -> list[Any]:
        return self.telegram.results

    async def close(self) -> None:
        pass

    async def stream_content(self, url: str, *args: Any, **kwargs: Any) -> AsyncIterator[bytes]:
        # The file URL's last part is the path getFile gave: files/<file_id>.
        yield self.telegram.files[url.rsplit("/", 1)[-1]]

    async def make_request(self, bot: Bot, method: TelegramMethod[TelegramType], timeout=None):
        return self.telegram.handle(self, bot, method)

    @classmethod
    def replacing(cls, old: BaseSession, telegram: FakeTelegram) -> RecordingSession:
        """A session for the bot that had ``old``, with ``old``'s request middlewares."""
        new = cls(telegram)
        for middleware in old.middleware:
            # The fake has no flood limits; the pace would only make the tests wait
            # (tests/unit/test_pacing.py and the end-to-end backlog test check it).
            if not isinstance(middleware, PaceMiddleware):
                new.middleware(middleware)
        return new


@dataclass
class Harness:
    app: App
    session: RecordingSession
    _update_ids: Any = field(default_factory=lambda: itertools.count(1))
    _user_message_ids: Any = field(default_factory=lambda: itertools.count(1))

    @classmethod
    @asynccontextmanager
    async def create(cls, tmp_path: Path, *, strict: bool = True, **overrides: Any) -> AsyncIterator[Harness]:
        """The real app on a fresh SQLite file; ``overrides`` are Settings sections as dicts;
        ``strict``: Telegram refuses unchanged edits and second answers, as it does."""
        config: dict[str, Any] = {
            "telegram": {"token": TEST_TOKEN},
            "database": {"url": f"sqlite+aiosqlite:///{tmp_path / 'harness.db'}"},
            "roles": {"admin_ids": [9000]},
        }
        for key, value in overrides.items():
            config[key] = {**config.get(key, {}), **value}
        app = build_app(Settings(**config))
        async with app.engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
        telegram = FakeTelegram(strict=strict)
        session = RecordingSession.replacing(app.bot.session, telegram)
        app.bot.session = session
        # Outbox deliveries are recorded the same way, without the handlers' retry on 429.
        app.delivery.bot.session = RecordingSession.replacing(app.delivery.bot.session, telegram)
        harness = cls(app=app, session=session)
        try:
            yield harness
        finally:
            await app.close()

    # -- users -----------------------------------------------------------------------------
    @staticmethod
    def user(user_id: int, first_name: str = "Warga", **kw: Any) -> User:
        return User(id=user_id, is_bot=False, first_name=first_name, **kw)

    @property
    def telegram(self) -> FakeTelegram:
        return self.session.telegram

    @property
    def requests(self) -> list[TelegramMethod]:
        return self.session.requests

    async def feed(self, update: Update) -> None:
        await self.app.dp.feed_update(self.app.bot, update)

    def _message(self, user: User, *, chat: Chat | None = None, **content: Any) -> Message:
        return Message(
            message_id=next(self._user_message_ids),
            date=datetime.now(UTC),
            chat=chat or Chat(id=user.id, type="private"),
            from_user=user,
            **content,
        )

    # -- group chats -----------------------------------------------------------------------
    @staticmethod
    def group(chat_id: int = -100777, title: str = "Grup Dinas", *, forum: bool = False) -> Chat:
        return Chat(id=chat_id, type="supergroup" if forum else "group", title=title, is_forum=forum or None)

    async def send_in_group(self, user: User, chat: Chat, text: str, *, thread_id: int | None = None,
                            reply_to: Message | None = None) -> Message:
        entities = None
        if text.startswith("/"):
            from aiogram.types import MessageEntity

            entities = [MessageEntity(type="bot_command", offset=0, length=len(text.split()[0]))]
        msg = self._message(user, chat=chat, text=text, entities=entities, message_thread_id=thread_id,
                            is_topic_message=True if thread_id else None, reply_to_message=reply_to)
        await self.feed(Update(update_id=next(self._update_ids), message=msg))
        return msg

    async def press_in_group(self, user: User, chat: Chat, message_id: int, data: str,
                             *, thread_id: int | None = None) -> str:
        cq_id = f"cq-{next(self._update_ids)}"
        shown = self.telegram.shown(chat.id, message_id)
        message = Message(message_id=message_id, date=datetime.now(UTC), chat=chat, from_user=BOT_USER,
                          text="(button message)", reply_markup=shown[1] if shown else None,
                          message_thread_id=thread_id, is_topic_message=True if thread_id else None)
        cq = CallbackQuery(id=cq_id, from_user=user, chat_instance=str(chat.id), data=data, message=message)
        await self.feed(Update(update_id=next(self._update_ids), callback_query=cq))
        return cq_id

    async def bot_membership(self, chat: Chat, by: User, *, added: bool) -> None:
        """Someone adds the bot to the group (``added``) or removes it: my_chat_member."""
        member, left = ChatMemberMember(user=BOT_USER), ChatMemberLeft(user=BOT_USER)
        change = ChatMemberUpdated(chat=chat, from_user=by, date=datetime.now(UTC),
                                   old_chat_member=left if added else member,
                                   new_chat_member=member if added else left)
        await self.feed(Update(update_id=next(self._update_ids), my_chat_member=change))

    async def send_message(self, user: User, **content: Any) -> Message:
        msg = self._message(user, **content)
        await self.feed(Update(update_id=next(self._update_ids), message=msg))
        return msg

    async def send(self, user: User, text: str) -> Message:
        entities = None
        if text.startswith("/"):
            from aiogram.types import MessageEntity

            cmd_len = len(text.split()[0])
            entities = [MessageEntity(type="bot_command", offset=0, length=cmd_len)]
        return await self.send_message(user, text=text, entities=entities)

    async def send_photo(self, user: User, *, file_size: int = 50_000, media_group_id: str | None = None,
                         caption: str | None = None) -> Message:
        n = next(self._user_message_ids)
        sizes = [
            PhotoSize(file_id=f"photo-{n}-s", file_unique_id=f"ph{n}s", width=90, height=90, file_size=1_000),
            PhotoSize(file_id=f"photo-{n}", file_unique_id=f"ph{n}", width=1280, height=960, file_size=file_size),
        ]
        # What a download of the photo gives (Telegram re-encodes photos; the bot cleans them anyway).
        self.telegram.files[f"photo-{n}"] = jpeg_with_exif()
        return await self.send_message(user, photo=sizes, media_group_id=media_group_id, caption=caption)

    async def send_document(self, user: User, file_name: str = "surat.pdf", *, mime_type: str = "application/pdf",
                            file_size: int = 120_000, content: bytes | None = None) -> Message:
        """``content``: the bytes a download gives (default: a PDF naming its author, an EXIF
        JPEG, or a few plain bytes, by ``mime_type``)."""
        n = next(self._user_message_ids)
        if content is None:
            content = {"application/pdf": pdf_with_author, "image/jpeg": jpeg_with_exif}.get(
                mime_type, lambda: b"plain bytes")()
        self.telegram.files[f"doc-{n}"] = content
        self.telegram.file_names[f"doc-{n}"] = file_name
        doc = Document(file_id=f"doc-{n}", file_unique_id=f"dc{n}", file_name=file_name,
                       mime_type=mime_type, file_size=file_size)
        return await self.send_message(user, document=doc)

    async def send_location(self, user: User, latitude: float = -1.2550, longitude: float = 116.8300) -> Message:
        return await self.send_message(user, location=Location(latitude=latitude, longitude=longitude))

    async def send_sticker(self, user: User) -> Message:
        sticker = Sticker(file_id="stk", file_unique_id="stku", type="regular", width=512, height=512,
                          is_animated=False, is_video=False)
        return await self.send_message(user, sticker=sticker)

    async def send_voice(self, user: User) -> Message:
        return await self.send_message(user, voice=Voice(file_id="voc", file_unique_id="vocu", duration=3))

    async def press(self, user: User, message: Sent | Message | int, data: str) -> str:
        """Press an inline button; returns the callback query id (see ``answered``)."""
        message_id = message if isinstance(message, int) else message.message_id
        return await self._press(user, message_id, data, self._buttons_shown(user, message_id))

    async def double_tap(self, user: User, message: Sent | Message | int, data: str) -> tuple[str, str]:
        """Two taps before the first answer arrives: both carry the message as it was then."""
        message_id = message if isinstance(message, int) else message.message_id
        markup = self._buttons_shown(user, message_id)
        return (await self._press(user, message_id, data, markup),
                await self._press(user, message_id, data, markup))

    async def press_together(self, user: User, message: Sent | Message | int, *datas: str) -> list[str]:
        """Several buttons of one message tapped before the first answer arrives (all carry the
        message as it was then), handled in tap order."""
        message_id = message if isinstance(message, int) else message.message_id
        markup = self._buttons_shown(user, message_id)
        return [await self._press(user, message_id, data, markup) for data in datas]

    def _buttons_shown(self, user: User, message_id: int) -> InlineKeyboardMarkup | None:
        # The message as the chat shows it now: its buttons are what handlers may take away.
        _, markup = self.telegram.shown(user.id, message_id) or (None, None)
        return markup

    async def _press(self, user: User, message_id: int, data: str, markup: InlineKeyboardMarkup | None) -> str:
        cq_id = f"cq-{next(self._update_ids)}"
        cq = CallbackQuery(
            id=cq_id,
            from_user=user,
            chat_instance=str(user.id),
            data=data,
            message=Message(
                message_id=message_id,
                date=datetime.now(UTC),
                chat=Chat(id=user.id, type="private"),
                from_user=BOT_USER,
                text="(button message)",
                reply_markup=markup,
            ),
        )
        await self.feed(Update(update_id=next(self._update_ids), callback_query=cq))
        return cq_id

    # -- what the bot did ------------------------------------------------------------------
    def answered(self, callback_query_id: str) -> AnswerCallbackQuery | None:
        """The answer Telegram accepted for this callback query."""
        for r, result in zip(self.session.requests, self.session.results, strict=True):
            if isinstance(r, AnswerCallbackQuery) and r.callback_query_id == callback_query_id:
                if not isinstance(result, TelegramAPIError):
                    return r
        return None

    def answers(self, callback_query_id: str) -> list[AnswerCallbackQuery]:
        """Every attempt to answer this callback query, accepted or not."""
        return [r for r in self.requests if isinstance(r, AnswerCallbackQuery)
                and r.callback_query_id == callback_query_id]

    def failed(self) -> list[tuple[TelegramMethod, TelegramAPIError | ClientDecodeError]]:
        """Requests Telegram refused, with the error aiogram raised."""
        return [(r, result) for r, result in zip(self.session.requests, self.session.results, strict=True)
                if isinstance(result, TelegramAPIError | ClientDecodeError)]

    def sent_to(self, user: User | int) -> list[Sent]:
        """Messages sent or edited in the user's chat, in order."""
        chat_id = user if isinstance(user, int) else user.id
        out: list[Sent] = []
        for r, result in zip(self.session.requests, self.session.results, strict=True):
            if str(getattr(r, "chat_id", "")) != str(chat_id) or isinstance(result, TelegramAPIError):
                continue  # another chat, or refused: the chat never showed it
            text = getattr(r, "text", None) or getattr(r, "caption", None)
            message_id = result.message_id if isinstance(result, Message) else 0
            out.append(Sent(chat_id=chat_id, message_id=message_id,
                            method=type(r).__name__, text=text,
                            reply_markup=getattr(r, "reply_markup", None), request=r))
        return out

    def last(self, user: User | int) -> Sent:
        sent = self.sent_to(user)
        assert sent, "the bot sent nothing to this chat"
        return sent[-1]

    def last_text(self, user: User | int) -> str:
        return self.last(user).text or ""

    def mark(self) -> int:
        """A position in ``requests``; ``since(mark)`` gives what came after it."""
        return len(self.requests)

    def since(self, mark: int) -> list[TelegramMethod]:
        return self.requests[mark:]
