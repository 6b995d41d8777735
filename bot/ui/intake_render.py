"""Texts of the /lapor form: step prompts, refusals, the summary and the receipt.

All HTML; everything the citizen typed goes through ``esc``/``esc_truncate``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from aiogram.utils.i18n import gettext as _

from bot.domain.dates import earliest_incident_date
from bot.domain.enums import Classification, Privacy
from bot.domain.privacy import COARSE_METRES
from bot.domain.text_rules import (
    BODY_MAX,
    BODY_MIN,
    LOCATION_MAX,
    TITLE_MAX,
    TITLE_MIN,
    TextRuleError,
)
from bot.services.intake import ORDER, AttachmentRefusal, Draft, Step
from bot.services.related import RADIUS_M, NearbyReport
from bot.ui.dialogs import DIALOGS
from bot.ui.formatting import coordinate, decimal, long_date, number
from bot.ui.render import esc, esc_truncate, split_html
from bot.ui.report_render import status_label, supporters_label

# Steps the citizen sees numbered (the summary is not one of them).
_NUMBERED = ORDER[:-1]


def _numbered(draft: Draft) -> list[Step]:
    return [s for s in _NUMBERED if draft.asks(s)]
# Echoing what the citizen typed in a refusal: enough to recognise it, never a wall of text.
ECHO_MAX = 60


def classification_name(value: str | None) -> str:
    return {
        Classification.COMPLAINT: _("Complaint"),
        Classification.ASPIRATION: _("Aspiration"),
        Classification.INFORMATION: _("Information request"),
    }.get(value, "—")


def privacy_name(value: str | None) -> str:
    return {
        Privacy.PUBLIC: _("Regular"),
        Privacy.ANONYMOUS: _("Anonymous"),
        Privacy.CONFIDENTIAL: _("Confidential"),
    }.get(value, "—")


def _header(step: Step, draft: Draft) -> str:
    steps = _numbered(draft)
    return "<b>" + _("New report, step {n} of {total}").format(
        n=steps.index(step) + 1, total=len(steps)
    ) + "</b>"


def prompt(step: Step, draft: Draft, *, max_files: int = 5, max_mb: int = 20) -> str:
    """The question of one step (not the summary: see ``summary_messages``)."""
    body = {
        Step.CLASSIFICATION: lambda: "\n".join(
            [
                _("What kind of report is it?"),
                "",
                _("📢 <b>Complaint</b>: a public service failed you or was done wrongly."),
                _("💡 <b>Aspiration</b>: a suggestion or idea to improve a service."),
                _("❓ <b>Information request</b>: ask an agency for public information."),
            ]
        ),
        Step.CATEGORY: lambda: _(
            "What is it about? Choose a topic, then the closest subject. Not sure? Tap "
            "<b>Other / not sure</b>: the coordinator sorts it."
        ),
        Step.AGENCY: lambda: _(
            "Which agency is it for? Choose a group below, or type part of the name "
            "(for example <i>Dinas Kesehatan</i> or <i>PDAM</i>).\n"
            "• <b>Government offices</b>: the local government's dinas and badan, e.g. Dinas Kesehatan "
            "(health) or Dinas PUPR (roads, drains).\n"
            "• <b>Regional companies</b>: companies the local government owns, e.g. PDAM (piped water).\n"
            "Not sure? Tap <b>I don't know</b> and the coordinator will route it."
        ),
        Step.TITLE: lambda: _("Type a short title for your report, in one line ({min}–{max} characters).").format(
            min=TITLE_MIN, max=TITLE_MAX
        ),
        Step.BODY: lambda: _body_prompt(draft.classification).format(min=BODY_MIN, max=BODY_MAX)
        + (_body_draft(draft.body) if draft.body else ""),
        Step.DATE: lambda: (
            _(
                "When did it happen? Type a date such as <i>21 May</i>, <i>yesterday evening</i>, "
                "<i>last Monday</i> or <i>3 days ago</i>, or tap a button."
            )
            if not draft.may_skip(Step.DATE)
            else _(
                "Is it about a particular date? Type it (e.g. <i>21 May</i> or <i>last Monday</i>) "
                "or tap a button. You may skip this step."
            )
        ),
        Step.LOCATION: lambda: (
            _("Where did it happen? Tap <b>📍 Send my location</b> or type the address (up to {max} characters).")
            if not draft.may_skip(Step.LOCATION)
            else _(
                "Is it about a particular place? Tap <b>📍 Send my location</b> or type the address "
                "(up to {max} characters). You may skip this step."
            )
        ).format(max=LOCATION_MAX) + (("\n\n" + anonymous_location_warning()) if draft.is_anonymous else ""),
        Step.ATTACHMENTS: lambda: (
            _("Send photos, documents, videos or voice notes as evidence: up to {n} files, {mb} MB each.").format(
                n=max_files, mb=max_mb
            )
            + (("\n" + anonymous_files_note()) if draft.is_anonymous else "")
            + "\n"
            + (
                _("Attached so far: {count}. Tap <b>Done</b> when finished.").format(count=len(draft.attachments))
                if draft.attachments
                else _("No files? Tap <b>Skip</b>.")
            )
        ),
        Step.PRIVACY: lambda: "\n".join(
            [
                _("Who may see your report?"),
                "",
                _("👤 <b>Regular</b>: the agency handling it sees your name with the report."),
                _("🕶 <b>Anonymous</b>: your name is hidden from the agency; only the coordinating admins see it."),
                _("🔒 <b>Confidential</b>: the content is never published; only the admins and the agency read it."),
            ]
        ),
    }[step]()
    return f"{_header(step, draft)}\n{body}"


def _body_prompt(classification: str | None) -> str:
    # What a complaint, a suggestion and a question each need to be acted on.
    if classification == Classification.ASPIRATION:
        return _(
            "Describe your suggestion: what should change or improve, where, and why it would help "
            "({min}–{max} characters)."
        )
    if classification == Classification.INFORMATION:
        return _(
            "What would you like to know? Say which information you are asking for, about what or "
            "which period, and in what form you would like it ({min}–{max} characters)."
        )
    return _("Describe what happened: what, where, since when, who is affected ({min}–{max} characters).")


# A draft echoed in the description prompt: enough to recognise it within one message.
DRAFT_ECHO = 1500


def _body_draft(body: str) -> str:
    return (
        "\n\n" + _("Your message is ready as the description:")
        + f"\n<blockquote>{esc_truncate(body, DRAFT_ECHO)}</blockquote>\n"
        + _("Tap <b>✔️ Use this description</b>, or send a new one.")
    )


def offer_report_from_text() -> str:
    return _(
        "Your message is not a report yet. Would you like to make one from it? Tap "
        "<b>📝 Make a report from this message</b>: it becomes the description, and I ask you for "
        "the rest (the kind of report, the agency, a title…). Or send /bantuan for help."
    )


def agree_then_send_again() -> str:
    return _(
        "Would you like to make a report of your message? First read the personal-data notice "
        "below: until you agree, I keep nothing you write. Once you agree, send your message "
        "again and I will offer to make a report of it."
    )


def text_no_longer_kept() -> str:
    return _("I no longer have that message. Send it again, or start with /lapor.")


def nearby_block(reports: Sequence[NearbyReport], locale: str) -> str:
    """Open reports near the one being filed: never who filed them, the title only once public."""
    lines = [_("🤝 <b>Already reported nearby?</b> These open reports may be about the same problem:")]
    for n in reports:
        what = esc_truncate(n.title, 80) if n.title else _("(content not yet published)")
        facts = [status_label(n.status)]
        if n.distance_m is not None:
            facts.append(_("{meters} m away").format(meters=number(n.distance_m, locale)))
        else:
            facts.append(_("less than {meters} m away").format(meters=number(RADIUS_M, locale)))
        if n.supporters:
            facts.append(_("also reported by {supporters}").format(supporters=supporters_label(n.supporters)))
        lines.append(f"• <code>{esc(n.tracking_id)}</code> {what}\n  " + " · ".join(facts))
    lines.append(_("If one of them is your problem, tap <b>🤝 This is my problem too</b> to follow it instead "
                   "of filing a new report: you hear of its updates. Otherwise carry on below."))
    return "\n".join(lines)


def with_note(note: str | None, text: str) -> str:
    return f"{note}\n\n{text}" if note else text


# -- refusals -------------------------------------------------------------------------------
def text_rule_refusal(error: TextRuleError, sent_length: int) -> str:
    if error.reason == "empty":
        return _("⚠️ That message is empty: spaces alone do not count.")
    if error.reason == "too_short":
        return _("⚠️ Too short: please write at least {limit} characters.").format(limit=error.limit)
    return _("⚠️ Too long: at most {limit} characters, you sent {n}.").format(limit=error.limit, n=sent_length)


def body_continuation_refused() -> str:
    return _(
        "⚠️ This looks like the next part of the description that was too long (Telegram splits "
        "long messages into parts), so it is not saved either. Please shorten the whole "
        "description to at most {limit} characters and send it as one message."
    ).format(limit=BODY_MAX)


def wrong_kind_refusal(step: Step) -> str:
    return {
        Step.CLASSIFICATION: lambda: _("⚠️ Please choose one of the buttons below."),
        Step.CATEGORY: lambda: _("⚠️ Please choose one of the buttons below."),
        Step.AGENCY: lambda: _("⚠️ Type part of the agency's name as text, or use the buttons below."),
        Step.TITLE: lambda: _("⚠️ Please send the title as a text message ({min}–{max} characters).").format(
            min=TITLE_MIN, max=TITLE_MAX
        ),
        Step.BODY: lambda: _("⚠️ Please send the description as a text message ({min}–{max} characters).").format(
            min=BODY_MIN, max=BODY_MAX
        ),
        Step.DATE: lambda: _(
            "⚠️ Please type a date such as 21 May or 3 days ago, or use the buttons below."
        ),
        Step.LOCATION: lambda: _(
            "⚠️ Please tap 📍 Send my location, or type the address as text (up to {max} characters)."
        ).format(max=LOCATION_MAX),
        Step.ATTACHMENTS: lambda: _(
            "⚠️ Here I accept photos, documents, videos and voice notes. Tap Done when finished."
        ),
        Step.PRIVACY: lambda: _("⚠️ Please choose one of the buttons below."),
        Step.CONFIRM: lambda: _("⚠️ Please check your report and use the buttons below it."),
    }[step]()


def date_refusal(reason: str, today: date, locale: str) -> str:
    if reason == "future":
        return _("⚠️ That date is in the future. When did it happen?")
    if reason == "too_old":
        return _("⚠️ That is too long ago: the earliest date accepted is {date}.").format(
            date=long_date(earliest_incident_date(today), locale)
        )
    if reason == "invalid":
        return _("⚠️ That date does not exist. Please check the day and the month.")
    return _(
        "⚠️ I could not read that date. Please write it like 21/5/2024, 21 May, last Monday or 3 days ago."
    )


def search_refusal_too_short() -> str:
    return _("⚠️ Type at least 2 letters of the agency's name.")


def search_refusal_too_long(limit: int) -> str:
    return _("⚠️ That is too long for a name: at most {limit} characters.").format(limit=limit)


def search_no_match(query: str) -> str:
    return _(
        "No agency matches “{query}”. Try another word, browse the groups, or tap <b>I don't know</b>."
    ).format(query=esc_truncate(query, ECHO_MAX))


def search_results(query: str) -> str:
    return _("Agencies matching “{query}”:").format(query=esc_truncate(query, ECHO_MAX))


def attachment_refusal(refusal: AttachmentRefusal, *, max_files: int, max_mb: int, size: int | None) -> str:
    if refusal == AttachmentRefusal.TOO_MANY:
        return _("⚠️ You can attach at most {n} files. Tap Done to continue.").format(n=max_files)
    if refusal == AttachmentRefusal.TOO_BIG:
        return _("⚠️ This file is {size} MB; the limit is {mb} MB per file. It was not attached.").format(
            size=decimal((size or 0) / (1024 * 1024)), mb=max_mb
        )
    return _("This file is already attached.")


def attachment_received(count: int, max_files: int) -> str:
    if count >= max_files:
        return _("📎 Attached {count} of {n}: that is the limit. Tap Done to continue.").format(
            count=count, n=max_files
        )
    return _("📎 Attached {count} of {n}. Send more, or tap Done.").format(count=count, n=max_files)


def too_many_reports(limit: int) -> str:
    return _("You have filed {n} reports in the last 24 hours, the most allowed. Your form is kept: "
             "send it later.").format(n=limit)


def anonymous_location_warning() -> str:
    return _(
        "🕶 Your report is anonymous. <b>An exact point may identify you</b>: it is often where you "
        "live. If you send your location, only an approximate point (about {m} m) is kept. You may "
        "type the street or a landmark instead."
    ).format(m=COARSE_METRES)


def approximate_location_saved() -> str:
    return _("✔️ Approximate location saved (about {m} m); the exact point was not kept.").format(m=COARSE_METRES)


def location_coarsened() -> str:
    return _("📍 Your report is anonymous: of the location you sent, only an approximate point "
             "(about {m} m) is kept.").format(m=COARSE_METRES)


def anonymous_files_note() -> str:
    return _("🕶 Photos, images and PDFs are cleaned of hidden data (such as where a photo was "
             "taken, or the author's name) and renamed before the agency receives them.")


def uncleanable_file_warning() -> str:
    return _(
        "⚠️ Your report is anonymous, but this kind of file cannot be cleaned of hidden data (such "
        "as the place a video was made or an author's name in a document). The agency would "
        "receive it as it is, under a neutral name. Send it anyway?"
    )


def held_files_sent(count: int) -> str:
    return _("📎 {n} file(s) will be sent as they are.").format(n=count)


def held_files_dropped() -> str:
    return _("The files that cannot be cleaned were left out.")


def files_removed() -> str:
    return _("The attached files were removed.")


def album_received(max_files: int) -> str:
    return _("📎 Album received (up to {n} files are kept). Send more, or tap Done.").format(n=max_files)


# -- agency lists ----------------------------------------------------------------------------
def agency_list_title(group: str, page: int, pages: int) -> str:
    text = _("Choose the agency ({group}):").format(group=esc(group))
    if pages > 1:
        text += "\n" + _("Page {page} of {pages}").format(page=page + 1, pages=pages)
    return text


def agency_list_empty(group: str) -> str:
    return _("No agency is listed under {group} yet. Choose another group, or tap <b>I don't know</b>.").format(
        group=esc(group)
    )


def category_chosen_text(name: str | None) -> str:
    return esc(name) if name else _("Other / not sure")


def category_chosen(name: str | None) -> str:
    return _("✔️ Category: {category}").format(category=category_chosen_text(name))


def subcategory_title(topic: str) -> str:
    return _("{topic}: which one is closest?").format(topic=esc(topic))


def agency_chosen(name: str | None) -> str:
    if name is None:
        return _("✔️ Agency: not sure, the coordinator will route it.")
    return _("✔️ Agency: {name}").format(name=esc(name))


# -- summary and receipt ---------------------------------------------------------------------
def _location(draft: Draft) -> str:
    if draft.location_text:
        return esc(draft.location_text)
    if draft.latitude is not None and draft.longitude is not None:
        return _("📍 Shared location ({lat}, {lon})").format(
            lat=coordinate(draft.latitude), lon=coordinate(draft.longitude)
        )
    return "—"


def _attachments(draft: Draft) -> str:
    if not draft.attachments:
        return "—"
    kinds = {"photo": 0, "document": 0, "video": 0, "voice": 0}
    for a in draft.attachments:
        kinds[a.kind] = kinds.get(a.kind, 0) + 1
    parts = []
    if kinds["photo"]:
        parts.append(_("{n} photo(s)").format(n=kinds["photo"]))
    if kinds["document"]:
        parts.append(_("{n} document(s)").format(n=kinds["document"]))
    if kinds["video"]:
        parts.append(_("{n} video(s)").format(n=kinds["video"]))
    if kinds["voice"]:
        parts.append(_("{n} voice note(s)").format(n=kinds["voice"]))
    return ", ".join(parts)


def summary_messages(draft: Draft, locale: str, note: str | None = None) -> list[str]:
    """The summary as one or more messages, each within Telegram's limit, after ``note`` (an
    acknowledgement or a refusal) in the same message."""
    agency = esc(draft.agency_name) if draft.agency_id else _("Not sure: the coordinator will route it")
    incident = long_date(draft.incident, locale) if draft.incident else "—"
    parts = ([note, ""] if note else []) + [
        "<b>" + _("Please check your report before sending it.") + "</b>",
        "",
        "<b>" + _("Kind") + ":</b> " + classification_name(draft.classification),
        *(["<b>" + _("Category") + ":</b> " + category_chosen_text(draft.category_name)]
          if draft.category_offered else []),
        "<b>" + _("Agency") + ":</b> " + agency,
        "<b>" + _("Title") + ":</b> " + esc(draft.title),
        "<b>" + _("Date") + ":</b> " + incident,
        "<b>" + _("Location") + ":</b> " + _location(draft),
        "<b>" + _("Attachments") + ":</b> " + _attachments(draft),
        "<b>" + _("Privacy") + ":</b> " + privacy_name(draft.privacy),
        "<b>" + _("Description") + ":</b>",
        # Plain escaped text on its own: split_html may cut it across messages.
        esc(draft.body),
        "",
        _("Tap ✏️ to change a field, or <b>Submit</b> to send it."),
    ]
    return split_html(parts)


def receipt(tracking_id: str, verify_due: date, privacy: str, locale: str, page_url: str | None = None) -> str:
    lines = [
        "✅ <b>" + _("Your report has been filed.") + "</b>",
        "",
        _("Tracking ID: <code>{tracking_id}</code>").format(tracking_id=esc(tracking_id)),
        "",
        _(
            "What happens next: the coordinator checks your report and forwards it to the agency "
            "in charge by <b>{date}</b> (3 working days). You will get a message here at every step."
        ).format(date=long_date(verify_due, locale)),
    ]
    if privacy == Privacy.ANONYMOUS:
        lines.append(_("Your name is hidden from the agency."))
    elif privacy == Privacy.CONFIDENTIAL:
        lines.append(_("The content of your report will not be published."))
    lines += ["", _("Check it any time with /laporan or /status {tracking_id}.").format(tracking_id=esc(tracking_id))]
    if page_url:
        lines.append(_('Its public status page: <a href="{url}">{url_text}</a>').format(
            url=esc(page_url), url_text=esc(page_url)))
    return "\n".join(lines)


def cancelled() -> str:
    return str(DIALOGS["ReportForm"].cancelled)


def stale_button() -> str:
    return _("This button belongs to a finished form.")


def already_in_form() -> str:
    return _("You are already filling in a report. Continue here, or send /batal to cancel it.")


def consent_needed() -> str:
    return _("Before filing a report, please read and accept the personal-data notice.")
