"""Every casework message, rendered in its recipient's language and written to the outbox.

The ONE place citizen updates and officer/admin notifications are built. Nothing here commits:
the caller's transaction holds the change and its messages together, so a message goes out if
and only if the change committed (bot/services/outbox.py).

A citizen update goes through ``enqueue_citizen_update`` and nothing else, so quiet hours and
digests can later be applied in one spot.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import NotificationSettings
from bot.domain.enums import EventKind
from bot.domain.workdays import WorkCalendar
from bot.i18n import pick_language
from bot.services.notification_policy import queue_citizen_update
from bot.services.outbox import enqueue, enqueue_message
from bot.services.privacy import reporter_for_admin, reporter_for_officer
from bot.ui.case_callbacks import VerifyAction, VerifyCb
from bot.ui.case_keyboards import after_answer_kb, answer_question_kb, officer_actions_kb
from bot.ui.case_render import case_card_parts
from bot.ui.formatting import long_date, short_date
from bot.ui.render import CAPTION_LIMIT, esc, esc_truncate, split_html
from storage.base import utcnow
from storage.models import Agency, Attachment, Citizen, DigestItem, Outbox, Report
from storage.repositories.citizens import CitizenRepo
from storage.repositories.officers import OfficerRepo


@dataclass(frozen=True)
class Notifier:
    """What rendering needs beyond the session: translations, the calendar, the admins."""

    i18n: I18n
    calendar: WorkCalendar
    admin_ids: tuple[int, ...] = ()
    # Quiet hours and digest mode for citizen updates (bot/services/notification_policy.py).
    notifications: NotificationSettings = field(default_factory=NotificationSettings)

    @contextmanager
    def locale(self, language: str | None) -> Iterator[str]:
        locale = pick_language(language, self.i18n.default_locale)
        with self.i18n.context(), self.i18n.use_locale(locale):
            yield locale

    def today(self) -> date:
        return self.calendar.today()


@dataclass(frozen=True)
class Recipient:
    chat_id: int
    language: str | None


def _group(report: Report) -> str:
    return f"report:{report.id}"


# -- the citizen ---------------------------------------------------------------------------
async def enqueue_citizen_update(
    session: AsyncSession,
    citizen: Citizen,
    report: Report,
    text: str,
    reply_markup: InlineKeyboardMarkup | None = None,
    *,
    notifications: NotificationSettings | None = None,
    tz: ZoneInfo | None = None,
    now: datetime | None = None,
) -> Outbox | DigestItem:
    """The single way an update about a report reaches its reporter. With ``notifications``
    (and ``tz``) it keeps quiet hours and, in digest mode, waits for the next digest."""
    if notifications is None or tz is None:
        return await enqueue_message(
            session,
            citizen.telegram_id,
            text,
            reply_markup,
            citizen_id=citizen.id,
            group_key=_group(report),
        )
    return await queue_citizen_update(
        session,
        settings=notifications,
        tz=tz,
        now=now or utcnow(),
        citizen_id=citizen.id,
        chat_id=citizen.telegram_id,
        text=text,
        report_id=report.id,
        reply_markup=reply_markup,
        group_key=_group(report),
    )


def _citizen_text(
    report: Report, kind: str, agency: str, note: str | None, locale: str
) -> tuple[str, InlineKeyboardMarkup | None]:
    head = _("📣 <b>Update on your report</b> <code>{tracking_id}</code>\n<b>{title}</b>").format(
        tracking_id=esc(report.tracking_id), title=esc_truncate(report.title, 200)
    )
    agency_html = f"<b>{esc(agency)}</b>" if agency else _("the agency")
    note_html = esc_truncate(note or "", 3000)
    markup: InlineKeyboardMarkup | None = None

    def when(d: date | None) -> str:
        return long_date(d, locale) if d else "—"

    match kind:
        case EventKind.ASSIGNED:
            what = _("Your report was verified and forwarded to {agency}.").format(agency=agency_html)
            nxt = _("The agency follows it up and answers by {date}.").format(date=when(report.followup_due))
        case EventKind.REROUTED:
            what = _("Your report was forwarded to another agency: {agency}.").format(agency=agency_html)
            nxt = _("The agency follows it up and answers by {date}.").format(date=when(report.followup_due))
        case EventKind.REJECTED:
            what = _("Your report was not accepted for follow-up.\n<b>Reason:</b> {reason}").format(
                reason=note_html
            )
            nxt = _("You may file a new, more complete report with /lapor.")
        case EventKind.POSTPONED:
            what = _("Verification of your report was postponed by the admin.")
            nxt = _("We will tell you as soon as it moves on.")
        case EventKind.TAKEN:
            what = _("{agency} has started following up your report.").format(agency=agency_html)
            nxt = _("Its answer is due by {date}.").format(date=when(report.followup_due))
        case EventKind.INFO_REQUESTED:
            what = _("{agency} needs more information:\n\n<i>{question}</i>").format(
                agency=agency_html, question=note_html
            )
            nxt = _(
                "Tap <b>Reply</b>, or simply send your answer (text, photos or documents) in "
                "this chat. The agency continues once it has your answer."
            )
            markup = answer_question_kb(report.id)
        case EventKind.ANSWERED:
            what = _("{agency} answered your report:\n\n{answer}").format(
                agency=agency_html, answer=note_html
            )
            nxt = _(
                "Are you satisfied? You may reply until {date}; after that the report is "
                "completed by itself."
            ).format(date=when(report.reply_due))
            markup = after_answer_kb(report.id)
        case EventKind.RETURNED:
            what = _("{agency} says your report is outside its authority.").format(agency=agency_html)
            nxt = _("The admin will forward it to the agency that can handle it.")
        case EventKind.DISPUTED:
            what = _("Your report was reopened and sent back to {agency}.").format(agency=agency_html)
            nxt = _("Its answer is due by {date}.").format(date=when(report.followup_due))
        case EventKind.ACCEPTED:
            what = _("Thank you for rating the answer. Your report is completed.")
            nxt = _("You can file another report any time with /lapor.")
        case _:
            what = _("The status of your report changed.")
            nxt = _("See the details with /laporan.")
    return f"{head}\n\n{what}\n\n{nxt}", markup


async def tell_citizen(
    session: AsyncSession,
    n: Notifier,
    report: Report,
    citizen: Citizen,
    kind: str,
    *,
    agency_name: str | None = None,
    note: str | None = None,
) -> Outbox:
    """What changed, which agency (never an officer), what happens next and by when."""
    with n.locale(citizen.language or report.language) as locale:
        text, markup = _citizen_text(report, kind, agency_name or "", note, locale)
    return await enqueue_citizen_update(
        session, citizen, report, text, markup, notifications=n.notifications, tz=n.calendar.tz
    )


# -- officers ------------------------------------------------------------------------------
async def _officers(session: AsyncSession, agency_id: int) -> list[Recipient]:
    rows = await OfficerRepo(session).active_with_people(agency_id)
    # An officer who blocked the bot (403) gets nothing more until they write to it again
    # (which clears unreachable_at); with nobody reachable the admins are told instead.
    return [
        Recipient(person.telegram_id, person.language)
        for _o, person, _a in rows
        if person.unreachable_at is None
    ]


ALBUM_MAX = 10  # Telegram: an album holds 2–10 items


def _albums(attachments: Sequence[Attachment]) -> list[list[Attachment]]:
    """Attachments in sendable groups: photos and videos may share an album, documents only go
    with documents (https://core.telegram.org/bots/api#sendmediagroup). More than ten are split
    evenly, so no group is left with a single file when it need not be."""
    visual = [a for a in attachments if a.kind in ("photo", "video")]
    other = [a for a in attachments if a.kind not in ("photo", "video")]
    groups: list[list[Attachment]] = []
    for files in (visual, other):
        count = -(-len(files) // ALBUM_MAX)  # ceil
        for i in range(count):
            groups.append(files[i * len(files) // count:(i + 1) * len(files) // count])
    return groups


async def _send_files(
    session: AsyncSession, chat_id: int, report: Report, attachments: Sequence[Attachment]
) -> None:
    """Re-sent by file_id with OUR caption: a forward or copyMessage would carry the reporter's
    name (forward header) or their own caption. Two or more go as one album (one outbox row, so
    the album is delivered, or retried, whole)."""
    total = len(attachments)
    numbered = 0
    for group in _albums(attachments):
        items = []
        for att in group:
            numbered += 1
            caption = esc_truncate(f"📎 {report.tracking_id} · {numbered}/{total}", CAPTION_LIMIT)
            kind = att.kind if att.kind in ("photo", "video") else "document"
            items.append((kind, att.file_id, caption))
        if len(items) == 1:
            kind, file_id, caption = items[0]
            method = {"photo": "sendPhoto", "video": "sendVideo"}.get(kind, "sendDocument")
            payload = {kind: file_id, "caption": caption, "parse_mode": "HTML"}
        else:
            method = "sendMediaGroup"
            payload = {"media": [{"type": kind, "media": file_id, "caption": caption, "parse_mode": "HTML"}
                                 for kind, file_id, caption in items]}
        await enqueue(session, chat_id=chat_id, method=method, payload=payload, group_key=_group(report))


async def _send_long(
    session: AsyncSession, chat_id: int, report: Report, parts: list[str], markup: InlineKeyboardMarkup | None
) -> None:
    messages = split_html(parts)
    for i, text in enumerate(messages):
        last = i == len(messages) - 1
        await enqueue_message(
            session, chat_id, text, markup if last else None, group_key=_group(report)
        )


async def notify_officers_assigned(
    session: AsyncSession,
    n: Notifier,
    report: Report,
    agency: Agency,
    reporter: Citizen | None,
    attachments: Sequence[Attachment],
) -> int:
    """The full card to every active officer of the agency. Returns how many were told; with
    none, the admins hear about it so the report does not wait silently."""
    recipients = await _officers(session, agency.id)
    for who in recipients:
        with n.locale(who.language) as locale:
            title = _("📥 <b>New report for {agency}</b>").format(agency=esc(agency.name))
            parts = [title, ""] + case_card_parts(
                report,
                reporter_html=reporter_for_officer(report, reporter),
                agency_name=None,
                attachment_count=len(attachments),
                due=report.followup_due,
                today=n.today(),
                tz=n.calendar.tz,
                locale=locale,
            )
            markup = officer_actions_kb(report.id, report.status)
        await _send_long(session, who.chat_id, report, parts, markup)
        if report.latitude is not None and report.longitude is not None:
            await enqueue(
                session,
                chat_id=who.chat_id,
                method="sendLocation",
                payload={"latitude": report.latitude, "longitude": report.longitude},
                group_key=_group(report),
            )
        await _send_files(session, who.chat_id, report, attachments)
    if not recipients:
        await notify_admins_no_officers(session, n, report, agency)
    return len(recipients)


async def notify_officers_taken(
    session: AsyncSession, n: Notifier, report: Report, agency_id: int, taker: Citizen | None
) -> int:
    """The agency's other officers hear that a colleague took the report up, so nobody starts on
    it twice. Officers of one agency may know each other: the colleague is named by first name
    (the reporter never is)."""
    rows = await OfficerRepo(session).active_with_people(agency_id)
    taker_id = taker.id if taker is not None else None
    recipients = [
        Recipient(person.telegram_id, person.language)
        for _o, person, _a in rows
        if person.id != taker_id and person.unreachable_at is None
    ]
    name = (taker.first_name or "").strip() if taker is not None else ""
    for who in recipients:
        with n.locale(who.language) as locale:
            ref = f"<code>{esc(report.tracking_id)}</code>"
            colleague = f"<b>{esc_truncate(name, 64)}</b>" if name else _("A colleague")
            text = _(
                "👥 {colleague} of your agency took up {ref} (<b>{title}</b>); it is now in progress. "
                "The answer is due by {date}."
            ).format(
                colleague=colleague,
                ref=ref,
                title=esc_truncate(report.title, 200),
                date=short_date(report.followup_due, locale) if report.followup_due else "—",
            )
        await enqueue_message(session, who.chat_id, text, group_key=_group(report))
    return len(recipients)


async def notify_officers_event(
    session: AsyncSession,
    n: Notifier,
    report: Report,
    agency_id: int,
    kind: str,
    *,
    note: str | None = None,
    attachments: Sequence[Attachment] = (),
) -> int:
    """A reporter's reply, dispute, check-in "not solved" or rating, to every officer of the
    agency. The reporter's words are re-sent as text, never forwarded."""
    recipients = await _officers(session, agency_id)
    for who in recipients:
        with n.locale(who.language) as locale:
            ref = f"<code>{esc(report.tracking_id)}</code>"
            match kind:
                case EventKind.REPORTER_REPLIED:
                    head = _("💬 The reporter answered your question on {ref}:").format(ref=ref)
                case EventKind.DISPUTED:
                    head = _("↩️ The reporter says {ref} is <b>not solved</b>; it is open again:").format(ref=ref)
                case EventKind.CHECKIN_REOPENED:
                    head = _(
                        "↩️ The reporter says {ref} is <b>not solved</b> after all; it is open again. "
                        "Answer due by the end of {date}."
                    ).format(ref=ref, date=short_date(report.followup_due, locale))
                case EventKind.ACCEPTED:
                    head = _("⭐ The reporter rated your answer on {ref}: {rating}/5. The report is completed.").format(
                        ref=ref, rating=report.rating or 0
                    )
                case _:
                    head = _("The reporter added a comment on {ref}:").format(ref=ref)
            parts = [head]
            if note:
                parts += ["", esc(note)]
            markup = officer_actions_kb(report.id, report.status)
        await _send_long(session, who.chat_id, report, parts, markup if markup.inline_keyboard else None)
        await _send_files(session, who.chat_id, report, attachments)
    return len(recipients)


# -- admins --------------------------------------------------------------------------------
async def _admins(session: AsyncSession, n: Notifier) -> list[Recipient]:
    repo = CitizenRepo(session)
    out = []
    for admin_id in n.admin_ids:
        row = await repo.by_telegram_id(admin_id)
        out.append(Recipient(admin_id, row.language if row else None))
    return out


def _open_kb(report: Report) -> InlineKeyboardMarkup:
    from aiogram.types import InlineKeyboardButton

    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=_("Open {tracking_id}").format(tracking_id=report.tracking_id),
                    callback_data=VerifyCb(a=VerifyAction.OPEN, r=report.id).pack(),
                )
            ]
        ]
    )


async def notify_admins_new_report(
    session: AsyncSession, n: Notifier, report: Report, reporter: Citizen | None
) -> None:
    for who in await _admins(session, n):
        with n.locale(who.language) as locale:
            text = _(
                "🆕 <b>New report</b> <code>{tracking_id}</code>\n<b>{title}</b>\n"
                "Reporter: {reporter}\nVerify by {date}."
            ).format(
                tracking_id=esc(report.tracking_id),
                title=esc_truncate(report.title, 200),
                reporter=reporter_for_admin(reporter),
                date=short_date(report.verify_due, locale) if report.verify_due else "—",
            )
            markup = _open_kb(report)
        await enqueue_message(session, who.chat_id, text, markup, group_key=_group(report))


async def notify_admins_returned(
    session: AsyncSession, n: Notifier, report: Report, agency_name: str, reason: str
) -> None:
    for who in await _admins(session, n):
        with n.locale(who.language):
            text = _(
                "↩️ <b>{agency}</b> returned <code>{tracking_id}</code> as not its authority.\n"
                "<b>Reason:</b> {reason}\nIt is back in /verifikasi to be forwarded elsewhere."
            ).format(
                agency=esc(agency_name), tracking_id=esc(report.tracking_id), reason=esc_truncate(reason, 3000)
            )
            markup = _open_kb(report)
        await enqueue_message(session, who.chat_id, text, markup, group_key=_group(report))


async def notify_admins_no_officers(
    session: AsyncSession, n: Notifier, report: Report, agency: Agency
) -> None:
    for who in await _admins(session, n):
        with n.locale(who.language):
            text = _(
                "⚠️ <code>{tracking_id}</code> was assigned to <b>{agency}</b>, which has no "
                "active liaison officer yet, so nobody was notified. Invite one with /undang or "
                "forward the report elsewhere."
            ).format(tracking_id=esc(report.tracking_id), agency=esc(agency.name))
        await enqueue_message(session, who.chat_id, text, group_key=_group(report))
