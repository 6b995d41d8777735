"""The admin card's category and SP4N-LAPOR! buttons, their callback data, keyboards and texts.

Every payload can be forged: the handlers refuse non-admins and the services check again.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.services.lapor import HEADERS, LaporForm
from bot.ui.callback_types import RowId
from bot.ui.case_callbacks import VerifyAction, VerifyCb
from bot.ui.render import esc, truncate

LABEL_MAX = 40


class CategoryAction(StrEnum):
    TOP = "top"  # the topics
    OPEN = "open"  # the subtopics of ``category_id``
    SET = "set"  # set ``category_id`` (0: "Other / not sure")


class CategoryCb(CallbackData, prefix="vcat"):
    action: CategoryAction
    report_id: RowId
    category_id: RowId = 0


class LaporCb(CallbackData, prefix="vlpr"):
    report_id: RowId


def _btn(text: str, data: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data.pack())


def with_card_extras(markup: InlineKeyboardMarkup | None, report_id: int) -> InlineKeyboardMarkup:
    """The admin card's keyboard (or none) plus the category and LAPOR! buttons, in any status."""
    rows = list(markup.inline_keyboard) if markup else []
    extras = [
        _btn(_("🏷 Category"), CategoryCb(action=CategoryAction.TOP, report_id=report_id)),
        _btn(_("🇮🇩 SP4N-LAPOR!"), LaporCb(report_id=report_id)),
    ]
    # Above "Back to the queue" when there is one.
    at = len(rows) - 1 if rows else 0
    return InlineKeyboardMarkup(inline_keyboard=rows[:at] + [extras] + rows[at:])


def topics_kb(report_id: int, items: Sequence[tuple[int, str, bool]]) -> InlineKeyboardMarkup:
    rows = [
        [_btn(truncate(label, LABEL_MAX),
              CategoryCb(action=CategoryAction.OPEN if kids else CategoryAction.SET, report_id=report_id,
                         category_id=cid))]
        for cid, label, kids in items
    ]
    rows.append([_btn(_("🤷 Other / not sure"), CategoryCb(action=CategoryAction.SET, report_id=report_id))])
    rows.append([_btn(_("Back"), VerifyCb(a=VerifyAction.OPEN, r=report_id))])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def subtopics_kb(report_id: int, parent: tuple[int, str], items: Sequence[tuple[int, str]]) -> InlineKeyboardMarkup:
    parent_id, parent_label = parent
    rows = [[_btn(truncate(label, LABEL_MAX), CategoryCb(action=CategoryAction.SET, report_id=report_id,
                                                         category_id=cid))] for cid, label in items]
    rows.append([_btn(truncate(_("{topic} (other)").format(topic=parent_label), LABEL_MAX),
                      CategoryCb(action=CategoryAction.SET, report_id=report_id, category_id=parent_id))])
    rows.append([_btn(_("⬅️ Topics"), CategoryCb(action=CategoryAction.TOP, report_id=report_id))])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def open_card_kb(report_id: int, tracking_id: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[
        _btn(_("Open {tracking_id}").format(tracking_id=tracking_id), VerifyCb(a=VerifyAction.OPEN, r=report_id))
    ]])


# -- texts --------------------------------------------------------------------------------------
def choose_category_text(tracking_id: str, current: str | None) -> str:
    return _("Category of <code>{tracking_id}</code> (now: {current}). Choose the right one:").format(
        tracking_id=esc(tracking_id), current=esc(current) if current else _("Other / not sure"))


def category_set_text(tracking_id: str, label: str | None) -> str:
    return _("🏷 <code>{tracking_id}</code> is now in the category <b>{category}</b>.").format(
        tracking_id=esc(tracking_id), category=esc(label) if label else _("Other / not sure"))


def lapor_form_parts(form: LaporForm) -> list[str]:
    """The form for entering at lapor.go.id: LAPOR!'s own field names, each value in <code> so
    a tap copies it."""
    head = _("📤 <b>{tracking_id}</b> for SP4N-LAPOR!: enter these fields at lapor.go.id (tap a value to "
             "copy it).").format(tracking_id=esc(form.tracking_id))
    parts = [head]
    for name, value in zip(HEADERS[1:-1], form.cells()[1:-1], strict=True):
        parts.append(f"<b>{esc(name)}:</b> <code>{esc(value) or '—'}</code>")
    return parts


def lapor_ask_number_text(current: str | None) -> str:
    text = _("Then send the tracking number SP4N-LAPOR! gave the report (digits, like 1916449), or /batal.")
    if current:
        text = _("Recorded now: <b>{number}</b>. Sending another number corrects it.").format(
            number=esc(current)) + "\n" + text
    return text


def lapor_recorded_text(tracking_id: str, number: str) -> str:
    return _("✅ <code>{tracking_id}</code> is recorded as SP4N-LAPOR! number <b>{number}</b>. The reporter "
             "is told.").format(tracking_id=esc(tracking_id), number=esc(number))


def lapor_bad_number_text() -> str:
    return _("⚠️ That is not a SP4N-LAPOR! tracking number: send its digits, like 1916449 (or /batal).")


def lapor_taken_text(other: str) -> str:
    if not other:
        return _("⚠️ That number was just recorded on another report. Check it (or /batal).")
    return _("⚠️ That number is already recorded on <code>{tracking_id}</code>. Check it (or /batal).").format(
        tracking_id=esc(other))


def lapor_id_usage_text() -> str:
    return _("Usage: <code>/lapor_id LPR-XXXX-XXXX 1916449</code>: our tracking ID, then the number "
             "SP4N-LAPOR! gave the report.")


def lapor_unknown_report_text() -> str:
    return _("No report has that tracking ID. Check it and try again.")


def api_filer_line(first_name: str | None, last_name: str | None, email: str | None, phone: str | None,
                   key_name: str) -> str:
    """For admins only: who filed a report through the Open311 API, as the client said."""
    who = " · ".join(esc(p) for p in (" ".join(x for x in (first_name, last_name) if x), email, phone) if p)
    return _("<b>Filed through the API</b> ({key}): {who}").format(key=esc(key_name), who=who or "—")
