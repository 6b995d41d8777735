"""Texts of response templates: their card in /templat and the officer's draft made from one.

Template titles and bodies are staff-written text and are escaped like any user text."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from bot.domain.access import Reason, Refused
from bot.ui.render import esc


def template_card(title: str, body: str, *, active: bool, is_global: bool) -> str:
    owner = _("for every agency") if is_global else _("of your agency")
    if active:
        state = _("In use: officers can pick it when they answer.")
    else:
        state = _("Retired: no longer offered. Answers already sent with it keep their words.")
    return f"📄 <b>{esc(title)}</b> ({owner})\n{state}\n\n<blockquote>{esc(body)}</blockquote>"


def template_refusal(exc: Refused) -> str:
    if exc.reason is Reason.NOT_NOW:
        return _("This template changed in the meantime (retired or used again). Open /templat again.")
    return _("You cannot change this template.")


def draft_from_template(title: str, body: str) -> str:
    """A template picked while answering: shown, not sent, until the officer says so."""
    return _("📝 Draft from the template <b>{title}</b>. Nothing has been sent yet: send it as it "
             "is, or edit it first.").format(title=esc(title)) + f"\n\n<blockquote>{esc(body)}</blockquote>"


def draft_to_copy(body: str) -> str:
    """"Ubah": the text in a code block (a tap copies it), to change and send back."""
    return _("Copy the text below (tap it), change it and send your version here. You confirm it "
             "before it goes anywhere. /batal cancels.") + f"\n\n<pre>{esc(body)}</pre>"


def edited_draft(body: str) -> str:
    return _("📝 Your version. Send it?") + f"\n\n<blockquote>{esc(body)}</blockquote>"


def draft_replaced() -> str:
    return _("This draft was replaced by a newer one: use the buttons under the latest.")
