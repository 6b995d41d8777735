"""Group chats: linking one to an agency (``/hubungkan``, ``/putuskan``), the bot being added or
removed, and silence for everything else said in a group.

In a group the bot answers only these commands. What members write there, replies to the bot
included, is never a citizen's report nor an answer to a reporter: an officer answers a report
with its buttons (the text step then runs in their private chat). With privacy mode on
Telegram hands the bot only commands and replies to it; as an admin of a forum (needed to open
topics) it gets every message, and this router swallows them.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, ChatMemberUpdated, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.domain.access import Actor, Reason, Refused
from bot.services import group_chats
from bot.services.delivery import DeliveryWorker
from bot.services.ports import Notifier
from bot.ui.group_callbacks import GroupLinkAgencyCb
from bot.ui.group_render import forum_changed_text, group_refusal_text, link_requested_text
from bot.ui.render import esc_truncate
from storage.base import utcnow

_GROUPS = {"group", "supergroup"}


def _chat(message: Message) -> group_chats.GroupChat:
    return group_chats.GroupChat(message.chat.id, message.chat.title or str(message.chat.id),
                                 bool(message.chat.is_forum))


async def link(message: Message, session: AsyncSession, actor: Actor, notifier: Notifier, settings: Settings,
               delivery: DeliveryWorker) -> None:
    if not actor.agency_ids:
        await message.reply(group_refusal_text(Reason.FORBIDDEN))
        return
    if len(actor.agency_ids) > 1:
        buttons = [
            [InlineKeyboardButton(text=esc_truncate(name, 60),
                                  callback_data=GroupLinkAgencyCb(agency_id=agency_id).pack())]
            for agency_id, name in await group_chats.agencies_of(session, actor)
        ]
        await message.reply(_("Which agency should this group be linked to?"),
                            reply_markup=InlineKeyboardMarkup(inline_keyboard=buttons))
        return
    (agency_id,) = actor.agency_ids
    await _request(message, session, actor, notifier, settings, delivery, _chat(message), agency_id)


async def link_agency_picked(callback: CallbackQuery, callback_data: GroupLinkAgencyCb, session: AsyncSession,
                             actor: Actor, notifier: Notifier, settings: Settings, delivery: DeliveryWorker) -> None:
    message = callback.message
    if not isinstance(message, Message):
        await callback.answer(group_refusal_text(Reason.INVALID), show_alert=True)
        return
    try:
        outcome = await group_chats.request_link(session, notifier, settings.roles.admin_ids, actor, _chat(message),
                                                 callback_data.agency_id, utcnow())
    except Refused as exc:
        await callback.answer(group_refusal_text(exc.reason), show_alert=True)
        return
    await callback.answer()
    if outcome.forum_changed:
        await message.answer(forum_changed_text(outcome.agency_name, bool(message.chat.is_forum)))
        return
    delivery.wake()
    await message.answer(link_requested_text(outcome.agency_name))


async def _request(message: Message, session: AsyncSession, actor: Actor, notifier: Notifier, settings: Settings,
                   delivery: DeliveryWorker, chat: group_chats.GroupChat, agency_id: int) -> None:
    try:
        outcome = await group_chats.request_link(session, notifier, settings.roles.admin_ids, actor, chat,
                                                 agency_id, utcnow())
    except Refused as exc:
        await message.reply(group_refusal_text(exc.reason))
        return
    if outcome.forum_changed:
        await message.reply(forum_changed_text(outcome.agency_name, chat.is_forum))
        return
    delivery.wake()
    await message.reply(link_requested_text(outcome.agency_name))


async def migrated(message: Message, session: AsyncSession) -> None:
    """The group became a supergroup under a new id (Telegram's service message in the old one)."""
    assert message.migrate_to_chat_id is not None
    await group_chats.chat_migrated(session, message.chat.id, message.migrate_to_chat_id)


async def unlink(message: Message, session: AsyncSession, actor: Actor, notifier: Notifier,
                 delivery: DeliveryWorker) -> None:
    current = await group_chats.active_link_in_chat(session, message.chat.id)
    if current is None:
        await message.reply(_("This group is not linked to any agency."))
        return
    try:
        await group_chats.unlink(session, notifier, actor, current.id, utcnow())
    except Refused as exc:
        await message.reply(group_refusal_text(exc.reason))
        return
    delivery.wake()  # the group hears of it through the outbox (GroupUnlinked)


async def membership_changed(event: ChatMemberUpdated, session: AsyncSession, notifier: Notifier,
                             settings: Settings, delivery: DeliveryWorker) -> None:
    status = event.new_chat_member.status
    if status in ("left", "kicked"):
        if await group_chats.bot_left(session, notifier, settings.roles.admin_ids, event.chat.id, utcnow()):
            delivery.wake()
        return
    if event.old_chat_member.status in ("left", "kicked"):
        # Just added: say what the bot is for here and how to link the group.
        await event.answer(_(
            "👋 Hello! I am the LAPOR! bot. A liaison officer of an agency can link this group to their "
            "agency with /hubungkan; an admin confirms it. Then the agency's new reports come here."
        ))


async def ignore(message: Message) -> None:
    """Anything else said in a group: not for the bot (and never passed on to anyone)."""


def router() -> Router:
    r = Router(name=__name__)
    in_group = F.chat.type.in_(_GROUPS)
    r.message.filter(in_group)
    r.my_chat_member.filter(in_group)
    r.message.register(link, Command("hubungkan", "link"))
    r.message.register(unlink, Command("putuskan", "unlink"))
    r.message.register(migrated, F.migrate_to_chat_id)
    r.message.register(ignore)
    r.callback_query.register(link_agency_picked, GroupLinkAgencyCb.filter(), F.message.chat.type.in_(_GROUPS))
    r.my_chat_member.register(membership_changed)
    return r
