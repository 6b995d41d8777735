"""Log lines that can be followed through one update without naming anyone.

Each line may carry the update it belongs to, the chat as a keyed hash (the same chat always
gives the same hash in one deployment, so its lines can be followed, but the hash does not lead
back to a Telegram id without the bot token) and the report's tracking id. The values live in
context variables: set by the update middleware and by the casework services when they load a
report, and seen by every log call made while handling that update, in the same task.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from contextvars import ContextVar
from datetime import UTC, datetime

update_id_var: ContextVar[int | None] = ContextVar("lapor_update_id", default=None)
chat_var: ContextVar[str | None] = ContextVar("lapor_chat", default=None)
report_var: ContextVar[str | None] = ContextVar("lapor_report", default=None)

_hash_key = b"lapor-bot"


def set_hash_key(secret: str) -> None:
    """Key the chat hashes with a deployment secret (the bot token): without it a hash of a
    ten-digit id could be reversed by trying them all."""
    global _hash_key
    _hash_key = hashlib.sha256(secret.encode()).digest()


def chat_hash(chat_id: int) -> str:
    return hmac.new(_hash_key, str(chat_id).encode(), hashlib.sha256).hexdigest()[:12]


def bind_report(tracking_id: str | None) -> None:
    """The report this update is about, for the log lines that follow."""
    report_var.set(tracking_id)


class ContextFilter(logging.Filter):
    """Copies the context variables onto every record (for either format)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.update_id = update_id_var.get()
        record.chat = chat_var.get()
        record.report = report_var.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in ("update_id", "chat", "report"):
            value = getattr(record, key, None)
            if value is not None:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class _OurHandler(logging.StreamHandler):
    """The handler this module installed (so a second call reformats it, and a host that set up
    logging itself, pytest for one, is left alone as ``logging.basicConfig`` would)."""


def configure(level: int, log_format: str = "text") -> None:
    """Install (or, once the settings are known, re-format) the root handler."""
    root = logging.getLogger()
    ours = [h for h in root.handlers if isinstance(h, _OurHandler)]
    if root.handlers and not ours:
        return
    root.setLevel(level)
    if not ours:
        ours = [_OurHandler()]
        ours[0].addFilter(ContextFilter())
        root.addHandler(ours[0])
    ours[0].setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
