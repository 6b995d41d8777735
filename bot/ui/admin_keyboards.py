"""Keyboards and short texts of the admin console (broadcasts, directory, exports)."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.services.broadcasts import AudienceKind, BroadcastStatus, Progress
from bot.services.export import ExportFormat
from bot.services.officers import OfficerView
from bot.ui.admin_callbacks import (
    BcAgencyCb,
    BcAgencyPageCb,
    BcAreaCb,
    BcAreaPickCb,
    BcAudienceCb,
    BcConfirm,
    BcConfirmCb,
    BcStopCb,
    DirAgencyCb,
    DirPageCb,
    ExportCb,
    StatsAgenciesCb,
)
from bot.ui.dialogs import cancel_button
from bot.ui.officer_admin import InvitePickCb, OfficerAction, OfficerCb
from bot.ui.pager import add_pager
from bot.ui.render import esc, truncate
from storage.models import Agency, Broadcast

_LABEL = 48


# -- broadcasts -------------------------------------------------------------------------------
def audience_label(kind: str) -> str:
    return {
        AudienceKind.CITIZENS: _("All citizens"),
        AudienceKind.OFFICERS: _("All liaison officers"),
        AudienceKind.AGENCY: _("Officers of one agency"),
        AudienceKind.AREA: _("Citizens of one kecamatan or desa"),
    }.get(kind, kind)  # type: ignore[call-overload]


def audience_keyboard() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for kind in AudienceKind:
        kb.button(text=audience_label(kind), callback_data=BcAudienceCb(kind=kind))
    kb.add(cancel_button("BroadcastForm"))
    kb.adjust(1)
    return kb.as_markup()


def broadcast_agency_picker(agencies: Sequence[Agency], page: int, pages: int) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for agency in agencies:
        kb.button(text=truncate(agency.name, _LABEL), callback_data=BcAgencyCb(agency_id=agency.id))
    nav = add_pager(kb, page, pages, lambda p: BcAgencyPageCb(page=p))
    kb.add(cancel_button("BroadcastForm"))
    kb.adjust(*([1] * len(agencies)), *([nav] if nav else []), 1)
    return kb.as_markup()


def broadcast_area_picker(agencies: Sequence[Agency], page: int, pages: int,
                          kecamatan: Agency | None = None) -> InlineKeyboardMarkup:
    """The kecamatan (each opens its villages), or one kecamatan: the whole of it first, then its
    kelurahan and desa one by one."""
    def button(text: str, data: BcAreaCb | BcAreaPickCb) -> InlineKeyboardButton:
        return InlineKeyboardButton(text=truncate(text, _LABEL), callback_data=data.pack())

    rows: list[list[InlineKeyboardButton]] = []
    if kecamatan is None:
        rows += [[button(a.name, BcAreaCb(kecamatan_id=a.id))] for a in agencies]
        turn = [button(arrow, BcAreaCb(page=p)) for arrow, p in (("◀", page - 1), ("▶", page + 1))
                if 0 <= p < pages]
    else:
        rows.append([button(_("All of {kecamatan}").format(kecamatan=kecamatan.name),
                            BcAreaPickCb(agency_id=kecamatan.id))])
        rows += [[button(a.name, BcAreaPickCb(agency_id=a.id))] for a in agencies]
        turn = [button(arrow, BcAreaCb(kecamatan_id=kecamatan.id, page=p))
                for arrow, p in (("◀", page - 1), ("▶", page + 1)) if 0 <= p < pages]
    if turn:
        rows.append(turn)
    if kecamatan is not None:
        rows.append([button(_("⬅️ Other kecamatan"), BcAreaCb())])
    rows.append([cancel_button("BroadcastForm")])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def confirm_keyboard(count: int) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("✅ Send to {n}").format(n=count), callback_data=BcConfirmCb(action=BcConfirm.SEND))
    kb.add(cancel_button("BroadcastForm"))
    kb.adjust(2)
    return kb.as_markup()


def broadcast_stop_keyboard(broadcast_id: int) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("⏹ Stop"), callback_data=BcStopCb(broadcast_id=broadcast_id))
    return kb.as_markup()


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    seconds = int(round(seconds))
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"


def broadcast_state_label(status: str) -> str:
    return {
        BroadcastStatus.SENDING: _("sending"),
        BroadcastStatus.DONE: _("finished"),
        BroadcastStatus.STOPPED: _("stopped"),
    }.get(status, status)  # type: ignore[call-overload]


def broadcast_progress_text(broadcast: Broadcast, p: Progress) -> str:
    lines = [
        _("📣 <b>Announcement #{id}</b> ({state})").format(
            id=broadcast.id, state=broadcast_state_label(broadcast.status)),
        _("Sent: {sent} · Failed: {failed} · Blocked the bot: {blocked}").format(
            sent=p.sent, failed=p.failed, blocked=p.blocked),
        _("Remaining: {remaining} of {total}").format(remaining=p.remaining, total=p.total),
    ]
    if p.cancelled:
        lines.append(_("Not sent (stopped): {n}").format(n=p.cancelled))
    if broadcast.status == BroadcastStatus.SENDING and p.remaining:
        lines.append(_("Estimated time left: {eta}").format(eta=_duration(p.eta_seconds)))
    return "\n".join(lines)


# -- directory --------------------------------------------------------------------------------
def directory_keyboard(agencies: Sequence[Agency], page: int, pages: int) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for agency in agencies:
        kb.button(text=truncate(agency.name, _LABEL),
                  callback_data=DirAgencyCb(agency_id=agency.id, page=page))
    nav = add_pager(kb, page, pages, lambda p: DirPageCb(page=p))
    kb.adjust(*([1] * len(agencies)), *([nav] if nav else []))
    return kb.as_markup()


def agency_keyboard(agency_id: int, officers: Sequence[OfficerView], page: int) -> InlineKeyboardMarkup:
    """Invite and revoke reuse the officer screens' callbacks (handlers/invites.py and the
    officer list), so there is one implementation of each."""
    kb = InlineKeyboardBuilder()
    kb.button(text=_("➕ Invite an officer"), callback_data=InvitePickCb(agency_id=agency_id))
    for view in officers:
        label = _("✖ Revoke {name}").format(name=view.display_name)
        kb.button(text=truncate(label, _LABEL),
                  callback_data=OfficerCb(action=OfficerAction.ASK, officer_id=view.officer_id))
    kb.button(text=_("◀ Back to the list"), callback_data=DirPageCb(page=page))
    kb.adjust(1)
    return kb.as_markup()


# -- exports ----------------------------------------------------------------------------------
def export_keyboard(year: int) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for fmt in ExportFormat:
        kb.button(text=fmt.value.upper(), callback_data=ExportCb(year=year, fmt=fmt))
    kb.adjust(2)
    return kb.as_markup()


def officer_line(view: OfficerView) -> str:
    handle = f" @{esc(view.username)}" if view.username else ""
    return f"• {esc(view.display_name)}{handle}"


def stats_keyboard(year: int, agencies: int) -> InlineKeyboardMarkup | None:
    if not agencies:
        return None
    kb = InlineKeyboardBuilder()
    kb.button(text=_("🏢 Per agency ({n})").format(n=agencies), callback_data=StatsAgenciesCb(year=year))
    return kb.as_markup()
