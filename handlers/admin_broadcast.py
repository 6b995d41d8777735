"""Announcements: /umumkan (compose, audience, preview, confirm, live progress with a stop
button) and /umumkan_riwayat (history). The audience: all citizens, all officers, one agency's
officers, or the citizens whose reports concern one kecamatan (its villages included) or one
kelurahan or desa. Admins only (the admin audience's router), asked
again in the service."""

from __future__ import annotations

import re
from html import unescape
from zoneinfo import ZoneInfo

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.domain.access import Actor
from bot.domain.enums import AgencyKind
from bot.filters import PRIVATE_CHAT
from bot.services import broadcasts as svc
from bot.services.delivery import DeliveryWorker
from bot.services.officers import agency_choices
from bot.services.outbox import build_method
from bot.services.ports import Notifier
from bot.ui.admin_callbacks import (
    BcAgencyCb,
    BcAgencyPageCb,
    BcAreaCb,
    BcAreaPickCb,
    BcAudienceCb,
    BcConfirm,
    BcConfirmCb,
    BcStopCb,
)
from bot.ui.admin_keyboards import (
    audience_keyboard,
    audience_label,
    broadcast_agency_picker,
    broadcast_area_picker,
    broadcast_state_label,
    confirm_keyboard,
)
from bot.ui.dialogs import cancel_keyboard
from bot.ui.formatting import number, short_datetime
from bot.ui.render import CAPTION_LIMIT, TEXT_LIMIT, esc, split_html, utf16_len


class BroadcastForm(StatesGroup):
    compose = State()
    audience = State()
    agency = State()
    area = State()  # a kecamatan, kelurahan or desa whose citizens hear it
    confirm = State()


async def start_compose(message: Message, state: FSMContext) -> None:
    await state.clear()
    await state.set_state(BroadcastForm.compose)
    await message.answer(_(
        "📣 <b>New announcement</b>\nSend the announcement as it should arrive: text with your "
        "own formatting, or one photo or document with a caption. /batal cancels."
    ), reply_markup=cancel_keyboard(BroadcastForm.__name__))


async def composed(message: Message, state: FSMContext) -> None:
    if message.photo:
        kind, file_id = svc.MediaKind.PHOTO, message.photo[-1].file_id
    elif message.document:
        kind, file_id = svc.MediaKind.DOCUMENT, message.document.file_id
    elif message.text:
        kind, file_id = None, None
    else:
        await message.answer(_("Send text, one photo or one document."))
        return
    if message.media_group_id:
        await message.answer(_("Only one photo or document per announcement; send it alone."))
        return
    if kind is None and not (message.text or "").strip():
        await message.answer(_("The announcement is empty. Send its text, or /batal."))
        return
    # Telegram takes at most 4096 characters of text or 1024 of caption, counted after the HTML is
    # parsed; a longer announcement would fail for every recipient.
    limit = CAPTION_LIMIT if kind else TEXT_LIMIT
    if utf16_len(message.text or message.caption or "") > limit:
        await message.answer(_("The announcement is too long (at most {limit} characters). Please "
                               "shorten it.").format(limit=limit))
        return
    text = message.html_text if (message.text or message.caption) else ""
    await state.update_data(text=text, media_kind=kind.value if kind else None, file_id=file_id)
    await state.set_state(BroadcastForm.audience)
    await message.answer(_("Who should receive it?"), reply_markup=audience_keyboard())


def _draft(data: dict) -> svc.Draft:
    kind = data.get("media_kind")
    return svc.Draft(text=data.get("text", ""), media_kind=svc.MediaKind(kind) if kind else None,
                     file_id=data.get("file_id"))


async def _preview(callback: CallbackQuery, bot: Bot, session: AsyncSession, actor: Actor,
                   state: FSMContext, audience: svc.Audience, settings: Settings) -> None:
    data = await state.get_data()
    count = await svc.count_recipients(session, audience, actor=actor, admin_ids=settings.roles.admin_ids)
    await callback.answer()
    chat_id = callback.from_user.id
    if isinstance(callback.message, Message):
        await callback.message.edit_reply_markup(reply_markup=None)
    if not count:
        await state.set_state(BroadcastForm.audience)
        await bot.send_message(chat_id, _("Nobody in this audience can receive messages now. "
                                          "Pick another."), reply_markup=audience_keyboard())
        return
    await state.update_data(audience=audience.kind.value, agency_id=audience.agency_id)
    await state.set_state(BroadcastForm.confirm)
    method, payload = _draft(data).call()
    # The very call every recipient will get, so the admin sees exactly what they will.
    await bot(build_method(method, payload, chat_id))
    name = audience_label(audience.kind)
    if audience.agency_id is not None:
        agency = await svc.audience_agency(session, audience.agency_id, actor=actor)
        name = f"{name}: {esc(agency.name) if agency else audience.agency_id}"
        if audience.kind is svc.AudienceKind.AREA and agency is not None and agency.kind == AgencyKind.KECAMATAN:
            name += " " + _("(its kelurahan and desa included)")
    await bot.send_message(
        chat_id,
        _("☝️ Preview. Audience: <b>{audience}</b>, {n} recipients. Send it?").format(
            audience=name, n=number(count)),
        reply_markup=confirm_keyboard(count),
    )


async def audience_picked(callback: CallbackQuery, callback_data: BcAudienceCb, bot: Bot,
                          session: AsyncSession, actor: Actor, state: FSMContext, settings: Settings) -> None:
    if callback_data.kind is svc.AudienceKind.AREA:
        await _show_areas(callback, session, actor, state, BcAreaCb())
        return
    if callback_data.kind is svc.AudienceKind.AGENCY:
        agencies, page, pages = await agency_choices(session, actor=actor)
        await state.set_state(BroadcastForm.agency)
        await callback.answer()
        if isinstance(callback.message, Message):
            await callback.message.edit_text(_("Which agency's officers?"),
                                             reply_markup=broadcast_agency_picker(agencies, page, pages))
        return
    await _preview(callback, bot, session, actor, state, svc.Audience(callback_data.kind), settings)


async def _show_areas(callback: CallbackQuery, session: AsyncSession, actor: Actor, state: FSMContext,
                      where: BcAreaCb) -> None:
    kecamatan = await svc.area(session, where.kecamatan_id, actor=actor) if where.kecamatan_id else None
    if where.kecamatan_id and (kecamatan is None or kecamatan.kind != AgencyKind.KECAMATAN):
        await callback.answer(_("That kecamatan no longer exists."), show_alert=True)
        return
    agencies, page, pages = await svc.area_choices(
        session, actor=actor, kecamatan_id=kecamatan.id if kecamatan else None, page=where.page)
    await state.set_state(BroadcastForm.area)
    await callback.answer()
    if kecamatan is None:
        text = _("Citizens with reports in which kecamatan? Open one to pick the whole kecamatan or "
                 "one of its kelurahan and desa.") if agencies else _("The directory has no kecamatan.")
    else:
        text = _("<b>{kecamatan}</b>: the whole kecamatan, or one kelurahan or desa?").format(
            kecamatan=esc(kecamatan.name))
    if isinstance(callback.message, Message):
        await callback.message.edit_text(text, reply_markup=broadcast_area_picker(agencies, page, pages, kecamatan))


async def area_browse(callback: CallbackQuery, callback_data: BcAreaCb, session: AsyncSession, actor: Actor,
                      state: FSMContext) -> None:
    await _show_areas(callback, session, actor, state, callback_data)


async def area_picked(callback: CallbackQuery, callback_data: BcAreaPickCb, bot: Bot,
                      session: AsyncSession, actor: Actor, state: FSMContext, settings: Settings) -> None:
    if await svc.area(session, callback_data.agency_id, actor=actor) is None:
        await callback.answer(_("That kecamatan, kelurahan or desa no longer exists."), show_alert=True)
        return
    audience = svc.Audience(svc.AudienceKind.AREA, callback_data.agency_id)
    await _preview(callback, bot, session, actor, state, audience, settings)


async def agency_page(callback: CallbackQuery, callback_data: BcAgencyPageCb,
                      session: AsyncSession, actor: Actor) -> None:
    agencies, page, pages = await agency_choices(session, actor=actor, page=callback_data.page)
    await callback.answer()
    if isinstance(callback.message, Message):
        await callback.message.edit_reply_markup(
            reply_markup=broadcast_agency_picker(agencies, page, pages))


async def agency_picked(callback: CallbackQuery, callback_data: BcAgencyCb, bot: Bot,
                        session: AsyncSession, actor: Actor, state: FSMContext, settings: Settings) -> None:
    if await svc.audience_agency(session, callback_data.agency_id, actor=actor) is None:
        await callback.answer(_("That agency no longer exists."), show_alert=True)
        return
    audience = svc.Audience(svc.AudienceKind.AGENCY, callback_data.agency_id)
    await _preview(callback, bot, session, actor, state, audience, settings)


async def confirmed(
    callback: CallbackQuery, bot: Bot, session: AsyncSession, actor: Actor, notifier: Notifier,
    state: FSMContext, settings: Settings, locale: str | None = None,
    delivery: DeliveryWorker | None = None, broadcasts: svc.BroadcastMonitor | None = None,
) -> None:
    data = await state.get_data()
    # Cleared first: a second tap finds no state and is turned away (see ``stale_confirm``).
    await state.clear()
    kind = svc.AudienceKind(data["audience"])
    audience = svc.Audience(kind, data.get("agency_id"))
    notifications = settings.notifications
    quiet = (svc.QuietHours(settings.app.timezone, notifications.quiet_start, notifications.quiet_end)
             if notifications.quiet_hours_for_broadcasts else None)
    try:
        broadcast = await svc.start_broadcast(
            session, _draft(data), audience, actor=actor, admin_ids=settings.roles.admin_ids,
            progress_chat_id=callback.from_user.id, language=locale, quiet_hours=quiet,
        )
    except svc.EmptyAudience:
        await callback.answer(_("Nobody in this audience can receive messages now."), show_alert=True)
        return
    await callback.answer(_("Sending…"))
    if isinstance(callback.message, Message):
        await callback.message.edit_reply_markup(reply_markup=None)
    state_now = await svc.progress(session, broadcast, rate=settings.delivery.global_rate)
    shown, markup = notifier.render(svc.BroadcastProgress(broadcast, state_now), locale)
    sent = await bot.send_message(callback.from_user.id, shown, reply_markup=markup)
    await svc.progress_shown_in(session, broadcast.id, sent.chat.id, sent.message_id)
    if delivery is not None:
        delivery.wake()
    if broadcasts is not None:
        broadcasts.watch(broadcast.id, shown=shown)


async def stale_confirm(callback: CallbackQuery) -> None:
    await callback.answer(_("This announcement was already sent or cancelled."), show_alert=True)


async def stale_step(callback: CallbackQuery) -> None:
    await callback.answer(_("This announcement form is no longer open. Start again with /umumkan."),
                          show_alert=True)


async def stop(callback: CallbackQuery, callback_data: BcStopCb, session: AsyncSession, actor: Actor,
               broadcasts: svc.BroadcastMonitor | None = None) -> None:
    cancelled = await svc.stop_broadcast(session, callback_data.broadcast_id, actor=actor)
    if cancelled is None:
        await callback.answer(_("This announcement has already ended."), show_alert=True)
    else:
        await callback.answer(_("Stopped. {n} messages will not be sent.").format(n=cancelled))
    if broadcasts is not None:
        await broadcasts.refresh(callback_data.broadcast_id)
    elif isinstance(callback.message, Message):
        await callback.message.edit_reply_markup(reply_markup=None)


async def history(message: Message, session: AsyncSession, actor: Actor, settings: Settings) -> None:
    rows = await svc.history(session, actor=actor, limit=15)
    if not rows:
        await message.answer(_("No announcements yet."))
        return
    tz = ZoneInfo(settings.app.timezone)
    parts = [_("📣 <b>Announcements</b> (newest first)")]
    for b, p in rows:
        preview = esc(" ".join(_plain(b.text).split())[:60]) or "—"
        parts.append("\n" + _(
            "#{id} · {when} · {audience} · {state}\n{preview}\n"
            "Sent {sent}, failed {failed}, blocked {blocked}, not sent {cancelled}, "
            "remaining {remaining} (of {total})"
        ).format(id=b.id, when=short_datetime(b.created_at, tz),
                 audience=audience_label(b.audience), state=broadcast_state_label(b.status),
                 preview=preview, sent=p.sent, failed=p.failed, blocked=p.blocked,
                 cancelled=p.cancelled, remaining=p.remaining, total=b.total))
    for chunk in split_html(parts):
        await message.answer(chunk)


def _plain(html_text: str) -> str:
    return unescape(re.sub(r"<[^>]+>", "", html_text or ""))


def router() -> Router:
    r = Router(name=__name__)
    r.message.filter(PRIVATE_CHAT)
    r.message.register(start_compose, Command("umumkan"))
    r.message.register(composed, BroadcastForm.compose, ~F.text.startswith("/"))
    r.callback_query.register(audience_picked, BroadcastForm.audience, BcAudienceCb.filter())
    r.callback_query.register(agency_page, BroadcastForm.agency, BcAgencyPageCb.filter())
    r.callback_query.register(agency_picked, BroadcastForm.agency, BcAgencyCb.filter())
    r.callback_query.register(area_browse, BroadcastForm.area, BcAreaCb.filter())
    r.callback_query.register(area_picked, BroadcastForm.area, BcAreaPickCb.filter())
    r.callback_query.register(confirmed, BroadcastForm.confirm, BcConfirmCb.filter(F.action == BcConfirm.SEND))
    r.callback_query.register(stale_confirm, BcConfirmCb.filter(F.action == BcConfirm.SEND))
    r.callback_query.register(stale_step, BcAgencyPageCb.filter())
    r.callback_query.register(stale_step, BcAgencyCb.filter())
    r.callback_query.register(stale_step, BcAreaCb.filter())
    r.callback_query.register(stale_step, BcAreaPickCb.filter())
    r.callback_query.register(stale_step, BcAudienceCb.filter())
    r.callback_query.register(stop, BcStopCb.filter())
    r.message.register(history, Command("umumkan_riwayat"))
    return r
