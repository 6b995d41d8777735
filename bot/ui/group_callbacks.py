"""Callback data of agency group chats. Every value can be forged: the services ask the access
rules (an officer of that agency asks, an admin decides)."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData

from bot.domain.enums import GroupDelivery
from bot.ui.callback_types import RowId


class GroupLinkAgencyCb(CallbackData, prefix="gla"):
    """In the group: an officer of several agencies picks the one to link."""

    agency_id: RowId


class GroupDecision(StrEnum):
    CONFIRM = "confirm"
    DECLINE = "decline"


class GroupDecisionCb(CallbackData, prefix="gld"):
    """In the admin's private chat: confirm or decline a request."""

    link_id: RowId
    decision: GroupDecision


class GroupManage(StrEnum):
    UNLINK = "unlink"


class GroupManageCb(CallbackData, prefix="glm"):
    """The admin's /grup: unlink a group."""

    link_id: RowId
    action: GroupManage


class GroupDeliveryCb(CallbackData, prefix="gldv"):
    """The admin's /grup: the group as well as, or instead of, the officers' private chats."""

    link_id: RowId
    delivery: GroupDelivery
