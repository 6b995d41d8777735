"""What the use cases need from the outside world and do not own: telling people.

A service decides that something happened and who must hear of it (a ``Notice`` to each
``Recipient``); the presentation layer decides the words, the language, the keyboards and how
files are shown (``bot/ui/notifier.py``), and writes the messages to the outbox in the caller's
transaction, so a message goes out if and only if the change committed. Built once in
``bot.app.build_app`` and injected; services never import ``bot.ui``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from aiogram.types import InlineKeyboardMarkup
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.notices import Notice
from bot.services.notification_policy import RecipientKind


@dataclass(frozen=True)
class Recipient:
    chat_id: int
    language: str | None
    # Citizens get quiet hours and digest mode (bot/services/notification_policy.py); officers
    # and admins get their work messages when they happen.
    kind: RecipientKind
    # The citizen row, when the outbox should mark it unreachable on a 403.
    citizen_id: int | None = None
    # An agency's forum group: a notice about one report goes to that report's own topic.
    forum: bool = False
    # A citizen's own choice of immediate updates or a digest (/pengaturan); None: the
    # deployment's ``citizen_mode``.
    update_mode: str | None = None


class Notifier(Protocol):
    async def send(
        self, session: AsyncSession, to: Recipient, notice: Notice, *, now: datetime,
        group_key: str | None = None,
    ) -> None:
        """Render ``notice`` in the recipient's language and add it to the outbox (never
        commits). ``group_key`` defaults to the notice's report."""

    def render(self, notice: Notice, language: str | None) -> tuple[str, InlineKeyboardMarkup | None]:
        """One message for a chat the caller edits in place (not through the outbox)."""
