"""Plain data kept by the fake Bot API server: users, chats, messages, files, logs, limits."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


class ApiError(Exception):
    """An error answered to the bot in Telegram's shape ``{"ok": false, ...}``."""

    def __init__(self, code: int, description: str, *, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error_code": self.code, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(reason: str) -> ApiError:
    return ApiError(400, f"Bad Request: {reason}")


@dataclass(frozen=True)
class SimUser:
    """A simulated Telegram user; in a private chat the chat id is the user id."""

    id: int
    first_name: str = "Test"
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = "id"

    def to_api(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SimUser:
        known = {"id", "first_name", "last_name", "username", "language_code"}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class ForumTopic:
    """A topic of a forum supergroup; its id is the id of the service message that opened it."""

    message_thread_id: int
    name: str
    icon_color: int
    closed: bool = False


# What a bot in a group may be: Telegram's ChatMember statuses.
BOT_IN_GROUP = ("member", "administrator")


@dataclass
class Chat:
    id: int
    type: str  # "private", "group" or "supergroup"
    user: SimUser | None = None  # the other party of a private chat
    title: str | None = None
    members: set[int] = field(default_factory=set)
    # A supergroup with topics (https://core.telegram.org/bots/api#chat is_forum).
    is_forum: bool = False
    # The bot's own membership in a group: "member", "administrator", "left" or "kicked".
    bot_status: str = "member"
    topics: dict[int, ForumTopic] = field(default_factory=dict)
    # Members who are the group's administrators: they (and an administrator bot) still write in
    # a closed topic; everyone else is refused there, as in Telegram.
    admins: set[int] = field(default_factory=set)

    @property
    def is_group(self) -> bool:
        return self.type in ("group", "supergroup")

    def to_api(self) -> dict[str, Any]:
        if self.type == "private" and self.user is not None:
            data = {"id": self.id, "type": "private", "first_name": self.user.first_name}
            for key in ("last_name", "username"):
                if getattr(self.user, key) is not None:
                    data[key] = getattr(self.user, key)
            return data
        data = {"id": self.id, "type": self.type, "title": self.title or str(self.id)}
        if self.is_forum:
            data["is_forum"] = True
        return data


@dataclass
class StoredMessage:
    """One message as it stands now; edits update it in place and keep the old text in history."""

    chat_id: int
    message_id: int
    from_bot: bool
    sender_id: int
    date: int
    kind: str  # text, photo, document, video, location, sticker, voice, ...
    text: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    caption: str | None = None
    caption_entities: list[dict[str, Any]] = field(default_factory=list)
    media: dict[str, Any] = field(default_factory=dict)  # Bot API fields, e.g. {"photo": [...]}
    reply_markup: dict[str, Any] | None = None
    media_group_id: str | None = None
    reply_to_message_id: int | None = None
    # The forum topic it belongs to (None: a chat without topics, or a forum's General topic).
    message_thread_id: int | None = None
    # Service messages: {"forum_topic_created": {...}}, {"new_chat_members": [...]}, ...
    service: dict[str, Any] = field(default_factory=dict)
    forward_origin: dict[str, Any] | None = None
    edit_date: int | None = None
    deleted: bool = False
    version: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)

    @property
    def inline_keyboard(self) -> list[list[dict[str, Any]]]:
        if self.reply_markup and "inline_keyboard" in self.reply_markup:
            return self.reply_markup["inline_keyboard"]
        return []

    def callback_data(self) -> list[str]:
        return [b["callback_data"] for row in self.inline_keyboard for b in row if "callback_data" in b]

    def button_texts(self) -> list[str]:
        return [b["text"] for row in self.inline_keyboard for b in row]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    kind: str  # photo, document, video, voice, sticker, ...
    content: bytes
    file_path: str
    file_name: str | None = None
    mime_type: str | None = None
    width: int | None = None
    height: int | None = None

    @property
    def file_size(self) -> int:
        return len(self.content)


@dataclass(frozen=True)
class Violation:
    """Something the bot did that Telegram would refuse or that leaves a user waiting."""

    method: str
    chat_id: int | None
    description: str
    time: float


@dataclass(frozen=True)
class SentRequest:
    method: str
    params: dict[str, Any]
    ok: bool
    time: float
    status: int = 200
    description: str | None = None


@dataclass(frozen=True)
class Limits:
    """What the server enforces. ``Limits.off()`` keeps validation but drops the rate limits."""

    rate_limits: bool = True
    per_chat_rate: float = 1.0  # messages per second, refilled continuously
    per_chat_burst: int = 3
    global_rate: float = 30.0
    global_burst: int = 30
    group_per_minute: int = 20
    callback_answer_timeout: float = 10.0
    max_text: int = 4096
    max_caption: int = 1024
    max_callback_answer: int = 200

    @classmethod
    def off(cls, **overrides: Any) -> Limits:
        return cls(rate_limits=False, **overrides)
