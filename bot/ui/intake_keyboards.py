"""Keyboards of the /lapor form. Labels are translated when the keyboard is built."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)
from aiogram.utils.i18n import gettext as _

from bot.domain.enums import AgencyKind, Classification, Privacy
from bot.services.intake import Step
from bot.ui import intake_callbacks as cb
from bot.ui.intake_callbacks import ReportFromTextCb
from bot.ui.render import truncate

# Long agency names make buttons unreadable on a phone; the full name appears after the choice.
BUTTON_TEXT_MAX = 48


def _b(text: str, form: str, step: Step, action: str, value: str = "") -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=cb.pack(form, step.value, action, value))


def back_label() -> str:
    return _("⬅️ Back")


def skip_label() -> str:
    return _("Skip")


def location_button_label() -> str:
    return _("📍 Send my location")


def _back(form: str, step: Step) -> list[InlineKeyboardButton]:
    return [_b(back_label(), form, step, cb.BACK)]


def classification_kb(form: str) -> InlineKeyboardMarkup:
    s = Step.CLASSIFICATION
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [_b(_("📢 Complaint"), form, s, cb.SET, Classification.COMPLAINT.value)],
            [_b(_("💡 Aspiration"), form, s, cb.SET, Classification.ASPIRATION.value)],
            [_b(_("❓ Information request"), form, s, cb.SET, Classification.INFORMATION.value)],
            [_b(_("✖️ Cancel"), form, s, cb.CANCEL)],
        ]
    )


def category_kb(form: str, items: Sequence[tuple[int, str, bool]]) -> InlineKeyboardMarkup:
    """The topics, two to a row; a topic with subtopics opens them (the second tap)."""
    s = Step.CATEGORY
    buttons = [
        _b(truncate(label, BUTTON_TEXT_MAX), form, s, cb.OPEN if has_children else cb.SET, str(cid))
        for cid, label, has_children in items
    ]
    rows = [buttons[i:i + 2] for i in range(0, len(buttons), 2)]
    rows.append([_b(_("🤷 Other / not sure"), form, s, cb.UNKNOWN)])
    rows.append(_back(form, s))
    return InlineKeyboardMarkup(inline_keyboard=rows)


def subcategory_kb(
    form: str, parent: tuple[int, str], items: Sequence[tuple[int, str]]
) -> InlineKeyboardMarkup:
    s = Step.CATEGORY
    parent_id, parent_label = parent
    rows = [[_b(truncate(label, BUTTON_TEXT_MAX), form, s, cb.SET, str(cid))] for cid, label in items]
    rows.append([_b(truncate(_("{topic} (other)").format(topic=parent_label), BUTTON_TEXT_MAX),
                    form, s, cb.SET, str(parent_id))])
    rows.append([_b(_("⬅️ Topics"), form, s, cb.TOP), _b(_("🤷 Other / not sure"), form, s, cb.UNKNOWN)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def agency_kinds_kb(form: str) -> InlineKeyboardMarkup:
    s = Step.AGENCY
    return InlineKeyboardMarkup(
        inline_keyboard=[
            # Plain words: a citizen need not know "OPD" or "BUMD" (the prompt gives examples).
            [_b("🏛 " + _("Government offices (dinas, badan)"), form, s, cb.KIND, AgencyKind.OPD.value)],
            [_b("💧 " + _("Regional companies (e.g. PDAM)"), form, s, cb.KIND, AgencyKind.BUMD.value)],
            [
                _b(_("Kecamatan"), form, s, cb.KIND, AgencyKind.KECAMATAN.value),
                _b(_("Kelurahan/Desa"), form, s, cb.KIND, cb.VILLAGES),
            ],
            [_b(_("🤷 I don't know"), form, s, cb.UNKNOWN)],
            _back(form, s),
        ]
    )


def agency_list_kb(
    form: str,
    items: Sequence[tuple[int, str]],
    *,
    list_key: str,
    page: int,
    pages: int,
    open_action: str = cb.PICK,
    up: tuple[str, str] | None = None,
) -> InlineKeyboardMarkup:
    """One page of agencies. ``open_action`` KEC lists a kecamatan's villages instead of
    choosing it; ``up`` is (action, value) of the "back to the list above" button."""
    s = Step.AGENCY
    rows = [[_b(truncate(name, BUTTON_TEXT_MAX), form, s, open_action, str(agency_id))] for agency_id, name in items]
    nav = []
    if page > 0:
        nav.append(_b(_("◀️ Previous"), form, s, cb.PAGE, f"{list_key}.{page - 1}"))
    if page + 1 < pages:
        nav.append(_b(_("Next ▶️"), form, s, cb.PAGE, f"{list_key}.{page + 1}"))
    if nav:
        rows.append(nav)
    up_action, up_value = up or (cb.KINDS, "")
    rows.append([_b(_("⬅️ Groups") if up is None else _("⬅️ Kecamatan list"), form, s, up_action, up_value)])
    rows.append([_b(_("🤷 I don't know"), form, s, cb.UNKNOWN)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def agency_search_kb(form: str, items: Sequence[tuple[int, str]]) -> InlineKeyboardMarkup:
    s = Step.AGENCY
    rows = [[_b(truncate(name, BUTTON_TEXT_MAX), form, s, cb.PICK, str(agency_id))] for agency_id, name in items]
    rows.append([_b(_("⬅️ Groups"), form, s, cb.KINDS)])
    rows.append([_b(_("🤷 I don't know"), form, s, cb.UNKNOWN)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def back_only_kb(form: str, step: Step) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[_back(form, step)])


def body_kb(form: str, *, has_draft: bool) -> InlineKeyboardMarkup:
    rows = [[_b(_("✔️ Use this description"), form, Step.BODY, cb.KEEP)]] if has_draft else []
    return InlineKeyboardMarkup(inline_keyboard=[*rows, _back(form, Step.BODY)])


def report_from_text_kb(message_id: int) -> InlineKeyboardMarkup:
    button = InlineKeyboardButton(
        text=_("📝 Make a report from this message"), callback_data=ReportFromTextCb(message_id=message_id).pack()
    )
    return InlineKeyboardMarkup(inline_keyboard=[[button]])


def date_kb(form: str, *, may_skip: bool) -> InlineKeyboardMarkup:
    s = Step.DATE
    rows = [[_b(_("Today"), form, s, cb.TODAY), _b(_("Yesterday"), form, s, cb.YESTERDAY)]]
    if may_skip:
        rows.append([_b(skip_label(), form, s, cb.SKIP)])
    rows.append(_back(form, s))
    return InlineKeyboardMarkup(inline_keyboard=rows)


def location_kb(*, may_skip: bool) -> ReplyKeyboardMarkup:
    # Only a reply keyboard can ask Telegram for the user's location (request_location).
    rows = [[KeyboardButton(text=location_button_label(), request_location=True)]]
    if may_skip:
        rows.append([KeyboardButton(text=skip_label())])
    rows.append([KeyboardButton(text=back_label())])
    return ReplyKeyboardMarkup(keyboard=rows, resize_keyboard=True, is_persistent=True)


def attachments_kb(form: str, *, count: int, nearby: Sequence[str | int] = (), held: int = 0) -> InlineKeyboardMarkup:
    """``nearby``: (report id, tracking id) pairs offered to follow instead of filing; ``held``:
    files of an anonymous report no cleaner can strip, waiting for a choice."""
    s = Step.ATTACHMENTS
    rows = []
    if held:
        rows.append([_b(_("📎 Send anyway"), form, s, cb.SEND_HELD)])
        rows.append([_b(_("🚫 Leave it out"), form, s, cb.DROP_HELD)])
    rows += [[_b(_("🤝 This is my problem too: {tracking_id}").format(tracking_id=tracking_id), form, s, cb.FOLLOW,
                  str(report_id))] for report_id, tracking_id in nearby]
    rows.append([_b(_("✅ Done") if count else _("Skip, no files"), form, s, cb.DONE)])
    if count:
        rows.append([_b(_("🗑 Remove the attached files"), form, s, cb.CLEAR)])
    rows.append(_back(form, s))
    return InlineKeyboardMarkup(inline_keyboard=rows)


def privacy_kb(form: str) -> InlineKeyboardMarkup:
    s = Step.PRIVACY
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [_b(_("👤 Regular"), form, s, cb.SET, Privacy.PUBLIC.value)],
            [_b(_("🕶 Anonymous"), form, s, cb.SET, Privacy.ANONYMOUS.value)],
            [_b(_("🔒 Confidential"), form, s, cb.SET, Privacy.CONFIDENTIAL.value)],
            _back(form, s),
        ]
    )


def confirm_kb(form: str, *, with_category: bool = False) -> InlineKeyboardMarkup:
    s = Step.CONFIRM

    def edit(label: str, step: Step) -> InlineKeyboardButton:
        return _b("✏️ " + label, form, s, cb.EDIT, step.value)

    first = [edit(_("Kind"), Step.CLASSIFICATION), edit(_("Agency"), Step.AGENCY)]
    if with_category:
        first.insert(1, edit(_("Category"), Step.CATEGORY))
    return InlineKeyboardMarkup(
        inline_keyboard=[
            first,
            [edit(_("Title"), Step.TITLE), edit(_("Description"), Step.BODY)],
            [edit(_("Date"), Step.DATE), edit(_("Location"), Step.LOCATION)],
            [edit(_("Attachments"), Step.ATTACHMENTS), edit(_("Privacy"), Step.PRIVACY)],
            [_b(_("✅ Submit"), form, s, cb.SUBMIT)],
            [_b(_("✖️ Cancel"), form, s, cb.CANCEL)],
        ]
    )
