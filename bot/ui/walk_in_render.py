"""Words and buttons of /lapor_untuk (a complaint filed for a walk-in) and of claiming it."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.domain.enums import WALK_IN_CHANNELS, Channel
from bot.ui.dialogs import with_cancel
from bot.ui.formatting import short_datetime
from bot.ui.render import esc

DIALOG = "WalkInForm"  # handlers.admin_walk_in's StatesGroup (bot.ui.dialogs)


class WalkInCb(CallbackData, prefix="wlk"):
    """``step`` "ch": the channel ``value``; "nm"/"ph": skip the name/phone. Admins only (the
    admin router's filter); the channel is checked again by the service."""

    step: str
    value: str = ""


def channel_label(channel: str) -> str:
    labels = {
        Channel.TELEGRAM: _("Telegram"),
        Channel.OPEN311: _("Web form / API"),
        Channel.COUNTER: _("Counter (loket)"),
        Channel.PHONE: _("Phone"),
        Channel.LETTER: _("Letter"),
        Channel.SMS: _("SMS"),
        Channel.OTHER: _("Other"),
    }
    return labels.get(channel, channel)  # type: ignore[call-overload]


def channels_kb() -> InlineKeyboardMarkup:
    rows = [[InlineKeyboardButton(text=channel_label(c), callback_data=WalkInCb(step="ch", value=c.value).pack())]
            for c in WALK_IN_CHANNELS]
    return with_cancel(InlineKeyboardMarkup(inline_keyboard=rows), DIALOG)


def skip_kb(step: str) -> InlineKeyboardMarkup:
    return with_cancel(InlineKeyboardMarkup(inline_keyboard=[[
        InlineKeyboardButton(text=_("Skip"), callback_data=WalkInCb(step=step, value="skip").pack())]]), DIALOG)


def ask_channel() -> str:
    return _("📝 <b>A complaint on a citizen's behalf</b>\nHow did it reach you? (/batal cancels)")


def ask_name() -> str:
    return _("The citizen's name, if they gave it (only admins see it; it is erased some time after the report "
             "is finished). Type it, or tap Skip.")


def ask_phone() -> str:
    return _("Their phone number, if they want to be called back (admins only). Type it, or tap Skip.")


def bad_phone() -> str:
    return _("⚠️ That does not look like a phone number (digits, spaces, + and - only). Type it again, or tap Skip.")


def form_note(channel: str) -> str:
    return _("Now the report itself, as the citizen tells it ({channel}). The same steps as in /lapor.").format(
        channel=channel_label(channel))


def walk_in_receipt(tracking_id: str, code: str, link: str, expires_at: datetime, tz: ZoneInfo, locale: str) -> str:
    return _(
        "✅ Filed as <code>{tracking_id}</code> for the citizen.\n\n"
        "Give them this code: <code>{code}</code>\n"
        "or this link: {link}\n\n"
        "In Telegram they open the link, or send <code>/klaim {code}</code> to the bot, and then follow the "
        "report as its reporter. The code works once, until {expires}. Without it, tell them the tracking ID "
        "for asking at the counter."
    ).format(tracking_id=esc(tracking_id), code=esc(code), link=esc(link),
             expires=short_datetime(expires_at, tz, locale))


def walk_in_line(channel: str, name: str | None, phone: str | None, claimed: bool) -> str:
    """The admin card's reporter line for a walk-in (admins only)."""
    who = " · ".join(esc(p) for p in (name, phone) if p) or _("name not given")
    state = _("claimed in Telegram") if claimed else _("not yet claimed in Telegram")
    return _("🏢 <b>Filed for a walk-in</b> ({channel}): {who}; {state}").format(
        channel=channel_label(channel), who=who, state=state)


def claimed_text(tracking_id: str) -> str:
    return _("✅ Report <code>{tracking_id}</code> is now yours in Telegram: you will hear of its updates here, "
             "and may answer the agency's questions and rate its answer. See it with /laporan.").format(
        tracking_id=esc(tracking_id))


def claim_refused() -> str:
    return _("This code is not valid, has been used already or has expired. Ask the office that took your "
             "complaint for help.")


def claim_usage() -> str:
    return _("Send the code you were given after the command, for example <code>/klaim K7QM3XPDAC</code>.")
