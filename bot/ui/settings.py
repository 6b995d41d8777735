"""/pengaturan: the citizen's settings screen, its buttons and their callback data
(bot/services/citizen_settings.py). One message, edited in place after every press."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import time
from enum import StrEnum

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.domain.enums import UpdateMode
from bot.services.citizen_settings import CitizenSettings
from bot.ui.citizen_keyboards import LANGUAGE_LABELS
from bot.ui.formatting import clock_time


class SettingsAction(StrEnum):
    # Each button names the state it sets, not a toggle: a double tap or an old message sets
    # the same state again, which changes nothing.
    ANNOUNCEMENTS_ON = "ann_on"
    ANNOUNCEMENTS_OFF = "ann_off"
    IMMEDIATE = "now"
    DIGEST = "digest"


class SettingsCb(CallbackData, prefix="set"):
    """The citizen's own buttons: they act on the presser, never on an id in the data."""

    action: SettingsAction


class SettingsLanguageCb(CallbackData, prefix="setlang"):
    code: str


MODE_OF = {SettingsAction.IMMEDIATE: UpdateMode.IMMEDIATE, SettingsAction.DIGEST: UpdateMode.DIGEST}


def _times(digest_times: Sequence[time], locale: str) -> str:
    return ", ".join(clock_time(t, locale) for t in sorted(digest_times))


def settings_text(current: CitizenSettings, locale: str, digest_times: Sequence[time]) -> str:
    """``locale``: the language the citizen reads now (their choice, else the default)."""
    lines = [_("⚙️ <b>Settings</b>"), ""]
    if current.switches:
        lines.append(_("📢 Announcements from the coordinators: <b>on</b>") if current.announcements
                     else _("📢 Announcements from the coordinators: <b>off</b>"))
        mode = (_("<b>at once</b>") if current.mode is UpdateMode.IMMEDIATE
                else _("<b>in a daily digest</b> ({times})").format(times=_times(digest_times, locale)))
        if not current.mode_chosen:
            mode += " " + _("(the default)")
        lines.append(_("🔔 News about your reports: {mode}").format(mode=mode))
    lines.append(_("🌐 Language: {language}").format(language=dict(LANGUAGE_LABELS).get(locale, locale)))
    lines.append("")
    if current.switches:
        lines.append(_("Questions from officers and answers to rate always come at once, whatever "
                       "you choose: their deadlines run from when they are sent."))
    else:
        lines.append(_("Announcements and how you get news about your reports can be set once you "
                       "have agreed to the personal data notice (/start)."))
    return "\n".join(lines)


def settings_keyboard(current: CitizenSettings, locale: str) -> InlineKeyboardMarkup:
    rows: list[list[InlineKeyboardButton]] = []
    if current.switches:
        if current.announcements:
            rows.append([_button(_("🔕 Turn announcements off"), SettingsAction.ANNOUNCEMENTS_OFF)])
        else:
            rows.append([_button(_("📢 Turn announcements on"), SettingsAction.ANNOUNCEMENTS_ON)])
        rows.append([
            _button(_mark(current.mode is UpdateMode.IMMEDIATE, _("⚡ At once")), SettingsAction.IMMEDIATE),
            _button(_mark(current.mode is UpdateMode.DIGEST, _("🗞 Daily digest")), SettingsAction.DIGEST),
        ])
    rows.append([
        InlineKeyboardButton(text=_mark(code == locale, label),
                             callback_data=SettingsLanguageCb(code=code).pack())
        for code, label in LANGUAGE_LABELS
    ])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def _mark(chosen: bool, label: str) -> str:
    return f"✓ {label}" if chosen else label


def _button(text: str, action: SettingsAction) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=SettingsCb(action=action).pack())


def changed_toast(changed: bool) -> str:
    return _("Saved.") if changed else _("Already set.")


def needs_consent_alert() -> str:
    return _("Agree to the personal data notice first (/start).")
