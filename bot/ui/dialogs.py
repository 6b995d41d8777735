"""Every multi-step dialog, named: what /batal and the "Batal" button cancel, and what /bantuan
says you are in.

A dialog is an aiogram ``StatesGroup``; its states are stored as ``"GroupName:state"``, so the
group's class name is the key here. ``handlers/cancel.py`` is the one place that cancels any of
them; ``tests/handlers/test_cancel_everywhere.py`` finds every StatesGroup in the code and fails
for one that is not named here or that /batal does not leave.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __


@dataclass(frozen=True)
class Dialog:
    name: object  # lazy text: "the new announcement (/umumkan)", as in "you are in the middle of ..."
    cancelled: object  # lazy text: what /batal answers, saying what was dropped


DIALOGS: dict[str, Dialog] = {
    "ReportForm": Dialog(
        __("a report form (/lapor)"),
        __("The form was cancelled and nothing was filed. Send /lapor to start again.")),
    "BroadcastForm": Dialog(
        __("a new announcement (/umumkan)"),
        __("The announcement was cancelled; nothing was sent.")),
    "InviteForm": Dialog(
        __("an invitation for a liaison officer (/undang)"),
        __("The invitation was cancelled; no link was made.")),
    "VerifyForm": Dialog(
        __("verifying a report (/verifikasi)"),
        __("Cancelled: the report stays as it was, waiting in /verifikasi.")),
    "ArchiveForm": Dialog(
        __("archiving a report (/verifikasi)"),
        __("Cancelled: the report was not archived; it stays waiting in /verifikasi.")),
    "LaporNumberForm": Dialog(
        __("recording a report's SP4N-LAPOR! number"),
        __("Cancelled: no SP4N-LAPOR! number was recorded.")),
    "OfficerForm": Dialog(
        __("a message to the reporter of a report (a question, an answer or a return)"),
        __("Cancelled. Nothing was sent.")),
    "TemplateForm": Dialog(
        __("editing a response template (/templat)"),
        __("Cancelled: the template keeps its text.")),
    "WalkInForm": Dialog(
        __("a complaint on a citizen's behalf (/lapor_untuk)"),
        __("Cancelled: nothing was filed for the citizen.")),
    "WithdrawForm": Dialog(
        __("withdrawing a report"),
        __("Cancelled. Your report stays as it is.")),
    "ReporterForm": Dialog(
        __("your reply about a report"),
        __("Cancelled. Nothing more was sent.")),
}


def group_of(state: str) -> str:
    return state.split(":", 1)[0]


def dialog_of(state: str | None) -> Dialog | None:
    return DIALOGS.get(group_of(state)) if state else None


def cancelled_text(state: str) -> str:
    dialog = dialog_of(state)
    return str(dialog.cancelled) if dialog else _("Cancelled.")


def nothing_to_cancel() -> str:
    return _("There is no form in progress. Send /lapor to file a report.")


def stale_cancel() -> str:
    return _("That is already over: there is nothing left to cancel here.")


class DialogCancelCb(CallbackData, prefix="dx"):
    """The "Batal" button of one dialog: it cancels that dialog only, never a later one."""

    d: str  # the StatesGroup's name


def cancel_button(group: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=_("✖️ Cancel"), callback_data=DialogCancelCb(d=group).pack())


def cancel_keyboard(group: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[cancel_button(group)]])


def with_cancel(markup: InlineKeyboardMarkup | None, group: str) -> InlineKeyboardMarkup:
    """``markup`` with a last row holding the dialog's "Batal" button."""
    rows = list(markup.inline_keyboard) if markup else []
    return InlineKeyboardMarkup(inline_keyboard=[*rows, [cancel_button(group)]])
