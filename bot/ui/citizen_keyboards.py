"""Inline keyboards of the citizen's own screens: language, consent, menu, my reports."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.ui.citizen_callbacks import (
    CitizenMenuCb,
    ConsentAction,
    ConsentCb,
    ConsentForReportCb,
    LanguageCb,
    MenuAction,
    MyReportsPageCb,
    OpenMyReportCb,
    WithdrawAction,
    WithdrawCb,
)

# Each language is named in itself, so whoever cannot read the current one still finds theirs.
LANGUAGE_LABELS = (("id", "🇮🇩 Bahasa Indonesia"), ("en", "🇬🇧 English"))


def language_keyboard(current: str | None = None) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for code, label in LANGUAGE_LABELS:
        mark = "✓ " if code == current else ""
        kb.button(text=f"{mark}{label}", callback_data=LanguageCb(code=code))
    kb.adjust(1)
    return kb.as_markup()


def _consent_cb(action: ConsentAction, for_report: bool) -> ConsentCb | ConsentForReportCb:
    return ConsentForReportCb(action=action) if for_report else ConsentCb(action=action)


def consent_keyboard(for_report: bool = False) -> InlineKeyboardMarkup:
    """``for_report``: the notice came from /lapor, and agreeing starts the form."""
    kb = InlineKeyboardBuilder()
    kb.button(text=_("✅ I agree"), callback_data=_consent_cb(ConsentAction.ACCEPT, for_report))
    kb.button(text=_("✖️ I do not agree"), callback_data=_consent_cb(ConsentAction.DECLINE, for_report))
    kb.adjust(1)
    return kb.as_markup()


def consent_again_keyboard(for_report: bool = False) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("📄 Read the notice again"), callback_data=_consent_cb(ConsentAction.SHOW, for_report))
    return kb.as_markup()


def citizen_menu_keyboard() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("📝 Make a report"), callback_data=CitizenMenuCb(action=MenuAction.NEW_REPORT))
    kb.button(text=_("📋 My reports"), callback_data=CitizenMenuCb(action=MenuAction.MY_REPORTS))
    kb.button(text=_("❓ Help"), callback_data=CitizenMenuCb(action=MenuAction.HELP))
    kb.button(text=_("🔒 My data"), callback_data=CitizenMenuCb(action=MenuAction.PRIVACY))
    kb.button(text=_("⚙️ Settings"), callback_data=CitizenMenuCb(action=MenuAction.SETTINGS))
    kb.adjust(1, 2, 2)
    return kb.as_markup()


def my_reports_keyboard(
    reports: Sequence[tuple[int, str]], page: int, pages: int
) -> InlineKeyboardMarkup:
    """One button per (report id, tracking id) on the page, then previous/next."""
    rows: list[list[InlineKeyboardButton]] = [
        [
            InlineKeyboardButton(
                text=f"🔎 {tracking_id}",
                callback_data=OpenMyReportCb(report_id=report_id, page=page).pack(),
            )
        ]
        for report_id, tracking_id in reports
    ]
    nav: list[InlineKeyboardButton] = []
    if page > 0:
        nav.append(
            InlineKeyboardButton(
                text=_("◀️ Newer"), callback_data=MyReportsPageCb(page=page - 1).pack()
            )
        )
    if page + 1 < pages:
        nav.append(
            InlineKeyboardButton(
                text=_("Older ▶️"), callback_data=MyReportsPageCb(page=page + 1).pack()
            )
        )
    if nav:
        rows.append(nav)
    return InlineKeyboardMarkup(inline_keyboard=rows)


def back_to_my_reports_keyboard(page: int, *, withdrawable: int | None = None) -> InlineKeyboardMarkup:
    """Under a report's view; ``withdrawable``: the report the citizen may still withdraw."""
    kb = InlineKeyboardBuilder()
    if withdrawable is not None:
        kb.button(text=_("🚫 Withdraw this report"),
                  callback_data=WithdrawCb(action=WithdrawAction.ASK, report_id=withdrawable))
    kb.button(text=_("⬅️ Back to my reports"), callback_data=MyReportsPageCb(page=page))
    kb.adjust(1)
    return kb.as_markup()


def withdraw_confirm_keyboard(report_id: int) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for label, action in ((_("🚫 Yes, withdraw it"), WithdrawAction.CONFIRM),
                          (_("↩️ No, keep it"), WithdrawAction.KEEP)):
        kb.button(text=label, callback_data=WithdrawCb(action=action, report_id=report_id))
    kb.adjust(1)
    return kb.as_markup()
