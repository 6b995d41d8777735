"""The Notifier the services call (``bot/services/ports.py``): renders a notice in the
recipient's language (``bot/ui/notices.py``) and writes it to the outbox in the caller's
transaction. Built once in ``bot.app.build_app``.

How it goes out is decided here: long text split over messages (the keyboard under the last),
the location pin and the files after it, and for citizens quiet hours and digest mode
(``bot/services/notification_policy.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import NotificationSettings
from bot.domain.workdays import WorkCalendar
from bot.i18n import in_language
from bot.services import group_chats
from bot.services.file_cleaning import enqueue_files
from bot.services.notices import Notice
from bot.services.notification_policy import RecipientKind, not_before, queue_citizen_update
from bot.services.outbox import enqueue, enqueue_message
from bot.services.ports import Recipient
from bot.ui.notices import Context, Rendered, render
from bot.ui.render import CAPTION_LIMIT, esc_truncate, split_html
from storage.models import Attachment, Report


@dataclass(frozen=True)
class OutboxNotifier:
    i18n: I18n
    calendar: WorkCalendar
    notifications: NotificationSettings = field(default_factory=NotificationSettings)

    def _render(self, notice: Notice, language: str | None) -> Rendered:
        with in_language(self.i18n, language) as locale:
            return render(notice, Context(locale, self.calendar))

    def render(self, notice: Notice, language: str | None) -> tuple[str, InlineKeyboardMarkup | None]:
        out = self._render(notice, language)
        return "\n".join(out.parts), out.markup

    async def send(
        self, session: AsyncSession, to: Recipient, notice: Notice, *, now: datetime,
        group_key: str | None = None,
    ) -> None:
        out = self._render(notice, to.language)
        report: Report | None = getattr(notice, "report", None)
        key = group_key or (f"report:{report.id}" if report is not None else None)
        messages = split_html(out.parts)
        if to.kind is RecipientKind.CITIZEN and out.may_wait_for_digest and len(messages) == 1:
            assert to.citizen_id is not None
            await queue_citizen_update(
                session, settings=self.notifications, tz=self.calendar.tz, now=now, citizen_id=to.citizen_id,
                chat_id=to.chat_id, text=messages[0], report_id=report.id if report is not None else None,
                reply_markup=out.markup, group_key=key, mode=to.update_mode,
            )
            return
        wait = not_before(now, to.kind, self.notifications, self.calendar.tz)
        # An agency's forum group: everything about one report goes to that report's topic.
        topic = (await group_chats.topic_for(session, to.chat_id, report)).id if to.forum and report else None
        for i, text in enumerate(messages):
            markup = out.markup if i == len(messages) - 1 else None
            await enqueue_message(session, to.chat_id, text, markup, citizen_id=to.citizen_id, group_key=key,
                                  not_before=wait, report_topic_id=topic)
        if out.location is not None:
            latitude, longitude = out.location
            await enqueue(session, chat_id=to.chat_id, method="sendLocation",
                          payload={"latitude": latitude, "longitude": longitude}, group_key=key,
                          report_topic_id=topic)
        if out.files:
            assert report is not None
            await _send_files(session, to.chat_id, report, out.files, key, topic)


async def _send_files(
    session: AsyncSession, chat_id: int, report: Report, attachments: Sequence[Attachment], key: str | None,
    topic: int | None = None,
) -> None:
    """Re-sent with OUR caption: a forward or copyMessage would carry the reporter's name
    (forward header) or their own caption; an anonymous report's files cleaned first
    (``bot/services/file_cleaning.py``)."""
    def caption(number: int, total: int) -> str:
        return esc_truncate(f"📎 {report.tracking_id} · {number}/{total}", CAPTION_LIMIT)

    await enqueue_files(session, chat_id, report, attachments, caption, key, report_topic_id=topic)
