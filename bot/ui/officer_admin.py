"""Callback data and keyboards of the admin's officer screens: invite (/undang) and the officer
list with revoking (/petugas).

Every value here can be forged by a client; the handlers' router filter and the services check
that the presser is an admin. Prefixes are short because callback_data is limited to 64 bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.services.officers import OfficerView
from bot.ui.callback_types import Page, RowId
from bot.ui.pager import add_pager
from bot.ui.render import truncate
from storage.models import Agency

# Inline button labels show about 30-40 characters on a phone before Telegram cuts them.
_LABEL = 48


class InvitePickCb(CallbackData, prefix="invp"):
    agency_id: RowId


class InvitePageCb(CallbackData, prefix="invpg"):
    page: Page


class OfficerAction(StrEnum):
    ASK = "ask"  # show the confirmation
    YES = "yes"
    NO = "no"


class OfficerCb(CallbackData, prefix="offr"):
    action: OfficerAction
    officer_id: RowId


class OfficerPageCb(CallbackData, prefix="offpg"):
    page: Page


def agency_picker(agencies: Sequence[Agency], page: int = 0, pages: int = 1) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for agency in agencies:
        kb.button(text=truncate(agency.name, _LABEL), callback_data=InvitePickCb(agency_id=agency.id))
    nav = add_pager(kb, page, pages, lambda p: InvitePageCb(page=p))
    kb.adjust(*([1] * len(agencies)), *([nav] if nav else []))
    return kb.as_markup()


def officer_list_keyboard(
    officers: Sequence[OfficerView], page: int = 0, pages: int = 1
) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for view in officers:
        label = _("✖ Revoke {name} · {agency}").format(name=view.display_name, agency=view.agency_name)
        kb.button(text=truncate(label, _LABEL),
                  callback_data=OfficerCb(action=OfficerAction.ASK, officer_id=view.officer_id))
    nav = add_pager(kb, page, pages, lambda p: OfficerPageCb(page=p))
    kb.adjust(*([1] * len(officers)), *([nav] if nav else []))
    return kb.as_markup()


def revoke_confirm_keyboard(officer_id: int) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("Yes, revoke"), callback_data=OfficerCb(action=OfficerAction.YES, officer_id=officer_id))
    kb.button(text=_("Cancel"), callback_data=OfficerCb(action=OfficerAction.NO, officer_id=officer_id))
    kb.adjust(2)
    return kb.as_markup()
