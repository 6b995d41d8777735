"""The admin's side of agency group chats: confirming or declining a link request (the button
in the admin's private chat), and /grup: the linked groups, where each agency's reports go,
unlinking."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.access import Actor, Refused
from bot.domain.enums import GroupDelivery
from bot.filters import PRIVATE_CHAT
from bot.services import group_chats
from bot.services.delivery import DeliveryWorker
from bot.services.ports import Notifier
from bot.ui.group_callbacks import GroupDecision, GroupDecisionCb, GroupDeliveryCb, GroupManage, GroupManageCb
from bot.ui.group_render import delivery_label, group_refusal_text
from bot.ui.render import esc_truncate
from storage.base import utcnow


async def decide(callback: CallbackQuery, callback_data: GroupDecisionCb, session: AsyncSession, actor: Actor,
                 notifier: Notifier, delivery: DeliveryWorker) -> None:
    approve = callback_data.decision == GroupDecision.CONFIRM
    try:
        outcome = await group_chats.decide_link(session, notifier, actor, callback_data.link_id, approve, utcnow())
    except Refused as exc:
        await callback.answer(group_refusal_text(exc.reason), show_alert=True)
        return
    delivery.wake()
    agency, title = esc_truncate(outcome.agency_name, 200), esc_truncate(outcome.link.title, 200)
    text = (_("✅ <b>{title}</b> is now linked to <b>{agency}</b>. /grup lists the linked groups.")
            if approve else _("✖️ Declined: <b>{title}</b> stays unlinked from <b>{agency}</b>."))
    await callback.answer()
    if isinstance(callback.message, Message):
        await callback.message.edit_text(text.format(title=title, agency=agency), reply_markup=None)


def _group_row(n: int, link_id: int, current: str) -> list[InlineKeyboardButton]:
    """The n-th group's buttons: switch where its agency's reports go; unlink."""
    other = GroupDelivery.ALSO if current == GroupDelivery.ONLY else GroupDelivery.ONLY
    label = _("Send to the group only") if other == GroupDelivery.ONLY else _("Also to officers' private chats")
    return [
        InlineKeyboardButton(text=f"{n}. {label}",
                             callback_data=GroupDeliveryCb(link_id=link_id, delivery=other).pack()),
        InlineKeyboardButton(text=f"{n}. " + _("Unlink"),
                             callback_data=GroupManageCb(link_id=link_id, action=GroupManage.UNLINK).pack()),
    ]


async def _list(session: AsyncSession, actor: Actor) -> tuple[str, InlineKeyboardMarkup | None]:
    links = await group_chats.linked_groups(session, actor)
    if not links:
        return _("No group is linked to an agency yet. An invited liaison officer adds the bot to the agency's "
                 "group and sends /hubungkan there; you confirm it here."), None
    lines = [_("<b>Linked groups</b>")]
    rows: list[list[InlineKeyboardButton]] = []
    for i, outcome in enumerate(links, 1):
        link = outcome.link
        kind = _("forum, a topic per report") if link.is_forum else _("group")
        lines.append(_("{n}. <b>{agency}</b>: {title} ({kind}); reports go to {where}.").format(
            n=i, agency=esc_truncate(outcome.agency_name, 120), title=esc_truncate(link.title, 120), kind=kind,
            where=delivery_label(link.delivery)))
        rows.append(_group_row(i, link.id, link.delivery))
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows)


async def list_groups(message: Message, session: AsyncSession, actor: Actor) -> None:
    text, markup = await _list(session, actor)
    await message.answer(text, reply_markup=markup)


async def _refresh(callback: CallbackQuery, session: AsyncSession, actor: Actor) -> None:
    text, markup = await _list(session, actor)
    if isinstance(callback.message, Message):
        await callback.message.edit_text(text, reply_markup=markup)


async def set_delivery(callback: CallbackQuery, callback_data: GroupDeliveryCb, session: AsyncSession,
                       actor: Actor) -> None:
    try:
        outcome = await group_chats.set_delivery(session, actor, callback_data.link_id, callback_data.delivery)
    except Refused as exc:
        await callback.answer(group_refusal_text(exc.reason), show_alert=True)
        return
    await callback.answer(_("{agency}: reports go to {where}.").format(
        agency=outcome.agency_name[:60], where=delivery_label(outcome.link.delivery))[:200])
    await _refresh(callback, session, actor)


async def unlink(callback: CallbackQuery, callback_data: GroupManageCb, session: AsyncSession, actor: Actor,
                 notifier: Notifier, delivery: DeliveryWorker) -> None:
    try:
        outcome = await group_chats.unlink(session, notifier, actor, callback_data.link_id, utcnow())
    except Refused as exc:
        await callback.answer(group_refusal_text(exc.reason), show_alert=True)
        return
    delivery.wake()
    await callback.answer(_("Unlinked: {title}").format(title=outcome.link.title[:100]))
    await _refresh(callback, session, actor)


def router() -> Router:
    r = Router(name=__name__)
    r.message.filter(PRIVATE_CHAT)
    r.message.register(list_groups, Command("grup", "groups"))
    r.callback_query.register(decide, GroupDecisionCb.filter())
    r.callback_query.register(set_delivery, GroupDeliveryCb.filter())
    r.callback_query.register(unlink, GroupManageCb.filter(GroupManage.UNLINK == F.action))
    return r
