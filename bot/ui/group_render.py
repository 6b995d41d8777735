"""Texts of agency group chats that answer in the chat (the notices are in group_notices)."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from bot.domain.access import Reason
from bot.domain.enums import GroupDelivery
from bot.ui.render import esc_truncate


def group_refusal_text(reason: Reason) -> str:
    texts = {
        Reason.FORBIDDEN: _("Only an invited liaison officer of the agency can link this group or unlink it."),
        Reason.NOT_NOW: _("This group is already linked to that agency."),
        Reason.CONFLICT: _("Someone else decided on this just now."),
        Reason.INVALID: _("That choice is not valid."),
    }
    return texts.get(reason, texts[Reason.FORBIDDEN])


def link_requested_text(agency_name: str) -> str:
    return _("⏳ Asked the LAPOR! admins to link this group to <b>{agency}</b>. You will see here when they "
             "confirm.").format(agency=esc_truncate(agency_name, 200))


def forum_changed_text(agency_name: str, is_forum: bool) -> str:
    agency = esc_truncate(agency_name, 200)
    if is_forum:
        return _("🧵 This group stays linked to <b>{agency}</b>; from now on each new report gets its own "
                 "topic here.").format(agency=agency)
    return _("This group stays linked to <b>{agency}</b>; reports now come without topics.").format(agency=agency)


def delivery_label(delivery: str) -> str:
    if delivery == GroupDelivery.ONLY:
        return _("the group only, instead of the officers' private chats")
    return _("the group and every officer's private chat")
