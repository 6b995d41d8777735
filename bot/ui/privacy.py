"""/privasi and /datawarga: texts, buttons and their callback data (bot/services/data_rights.py)."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.services.data_rights import Summary
from bot.ui.callback_types import RowId
from bot.ui.formatting import short_date
from bot.ui.render import esc
from storage.models import Citizen


class PrivacyAction(StrEnum):
    EXPORT = "export"
    WITHDRAW = "withdraw"  # asks for confirmation
    WITHDRAW_YES = "withdraw_yes"
    ERASE = "erase"  # asks for confirmation
    ERASE_YES = "erase_yes"
    CANCEL = "cancel"


class PrivacyCb(CallbackData, prefix="priv"):
    """The citizen's own buttons: they always act on the presser, never on an id in the data."""

    action: PrivacyAction


class DataRequestCb(CallbackData, prefix="datreq"):
    """An admin acting on a citizen's request made outside the bot."""

    action: PrivacyAction
    citizen_id: RowId


def _buttons(make, *, confirm: PrivacyAction | None = None) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    if confirm is PrivacyAction.WITHDRAW_YES:
        kb.button(text=_("🚫 Yes, withdraw my consent"), callback_data=make(confirm))
        kb.button(text=_("↩️ Cancel"), callback_data=make(PrivacyAction.CANCEL))
    elif confirm is PrivacyAction.ERASE_YES:
        kb.button(text=_("🗑 Yes, erase my identity"), callback_data=make(confirm))
        kb.button(text=_("↩️ Cancel"), callback_data=make(PrivacyAction.CANCEL))
    else:
        kb.button(text=_("📄 Send me my data"), callback_data=make(PrivacyAction.EXPORT))
        kb.button(text=_("🚫 Withdraw consent"), callback_data=make(PrivacyAction.WITHDRAW))
        kb.button(text=_("🗑 Erase my identity"), callback_data=make(PrivacyAction.ERASE))
    kb.adjust(1)
    return kb.as_markup()


def privacy_keyboard(confirm: PrivacyAction | None = None) -> InlineKeyboardMarkup:
    return _buttons(lambda a: PrivacyCb(action=a), confirm=confirm)


def data_request_keyboard(citizen_id: int, confirm: PrivacyAction | None = None) -> InlineKeyboardMarkup:
    return _buttons(lambda a: DataRequestCb(action=a, citizen_id=citizen_id), confirm=confirm)


def privacy_text(citizen: Citizen, summary: Summary, controller: str, locale: str) -> str:
    name = " ".join(p for p in (citizen.first_name, citizen.last_name) if p)
    lines = [
        _("🔒 <b>Your data</b>"),
        "",
        _("Controller: {controller}").format(controller=esc(controller)),
        _("Telegram ID: <code>{id}</code>").format(id=citizen.telegram_id),
        _("Name: {name}").format(name=esc(name) or "–"),
        _("Username: {username}").format(username=f"@{esc(citizen.username)}" if citizen.username else "–"),
        _("Consent: given on {date}").format(date=short_date(citizen.consent_at.date(), locale))
        if citizen.consent_at else _("Consent: not given"),
        _("Reports: {n} ({open} still open)").format(n=summary.reports, open=summary.open_reports),
        "",
        _("📄 <b>Send me my data</b>: a file with your profile, your reports and their timelines.\n"
          "🚫 <b>Withdraw consent</b>: the bot stops processing your data and sends you nothing "
          "more; open reports continue without your name.\n"
          "🗑 <b>Erase my identity</b>: your profile and the link between you and your reports "
          "are deleted; the reports stay, anonymous."),
    ]
    return "\n".join(lines)


def screen(action: PrivacyAction, citizen: Citizen, summary: Summary, controller: str, locale: str,
           keyboard: Callable[[PrivacyAction | None], InlineKeyboardMarkup]) -> tuple[str, InlineKeyboardMarkup]:
    """What the message shows after a non-destructive button: the overview again (cancel) or
    the confirmation a destructive step asks for."""
    if action is PrivacyAction.WITHDRAW:
        return confirm_withdraw_text(summary), keyboard(PrivacyAction.WITHDRAW_YES)
    if action is PrivacyAction.ERASE:
        return confirm_erase_text(summary), keyboard(PrivacyAction.ERASE_YES)
    return privacy_text(citizen, summary, controller, locale), keyboard(None)


def confirm_withdraw_text(summary: Summary) -> str:
    return _(
        "🚫 <b>Withdraw your consent?</b>\n\n"
        "• The bot stops processing your data: from now on you receive no messages about your "
        "reports, and waiting messages are cancelled.\n"
        "• Your {open} open report(s) continue, anonymous and without your name: the agency's "
        "follow-up is a record of a public service.\n"
        "• Your name and username are deleted.\n"
        "• To file a report again you must agree to the notice again."
    ).format(open=summary.open_reports)


def confirm_erase_text(summary: Summary) -> str:
    return _(
        "🗑 <b>Erase your identity?</b>\n\n"
        "• Your profile (Telegram ID, name, username, language) and the link between you and "
        "your {n} report(s) are deleted, with the messages the bot sent you and any form in "
        "progress.\n"
        "• The reports stay, anonymous; you will no longer hear about them or see them in "
        "/laporan.\n"
        "• Names or phone numbers you wrote inside a report are not guessed and stay in it.\n"
        "• This cannot be undone."
    ).format(n=summary.reports)


def withdrawn_text(anonymised: int) -> str:
    return _(
        "✅ Your consent is withdrawn. The bot no longer processes your data and will not write "
        "to you again; {n} open report(s) continue anonymously. Send /start if you want to use "
        "the bot again."
    ).format(n=anonymised)


def erased_text(anonymised: int) -> str:
    return _(
        "✅ Your identity is erased: {n} report(s) are no longer linked to you. This is the last "
        "message you receive about them."
    ).format(n=anonymised)


def staff_refusal() -> str:
    return _("Liaison officers and admins are named on the reports they handle: ask the "
             "coordinator to revoke the role first.")
