"""Callback data of the citizen's own screens (start, language, consent, my reports).

Every value here can be forged by a client: handlers re-check ownership on the server.
Prefixes are short because callback_data is limited to 64 bytes.
"""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData

from bot.ui.callback_types import Page, RowId


class ConsentAction(StrEnum):
    ACCEPT = "ok"
    DECLINE = "no"
    SHOW = "show"  # read the notice again after declining


class MenuAction(StrEnum):
    NEW_REPORT = "new"
    MY_REPORTS = "mine"
    HELP = "help"
    PRIVACY = "privacy"
    SETTINGS = "settings"


class LanguageCb(CallbackData, prefix="lang"):
    code: str


class ConsentCb(CallbackData, prefix="consent"):
    action: ConsentAction


class ConsentForReportCb(CallbackData, prefix="rconsent"):
    """The notice's buttons when /lapor asked for it: agreeing starts the form at once.

    The intent rides in the button (not in the FSM), so it belongs to that notice only; a forged
    one can do no more than /lapor itself.
    """

    action: ConsentAction


class CitizenMenuCb(CallbackData, prefix="cmenu"):
    action: MenuAction


class MyReportsPageCb(CallbackData, prefix="mine"):
    page: Page


class OpenMyReportCb(CallbackData, prefix="myrep"):
    report_id: RowId
    # The list page to go back to.
    page: Page = 0


class WithdrawAction(StrEnum):
    ASK = "ask"  # from the report's view: asks for the reason
    CONFIRM = "yes"  # after the reason: withdraw it now
    KEEP = "keep"  # after the reason: keep the report


class WithdrawCb(CallbackData, prefix="wdr"):
    action: WithdrawAction
    report_id: RowId
