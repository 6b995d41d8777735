"""/audit: the latest admin actions, who and when, in local time. Admins only."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.domain.access import Actor
from bot.filters import PRIVATE_CHAT
from bot.services.audit import latest
from bot.ui.audit_render import describe
from bot.ui.formatting import short_datetime
from bot.ui.render import esc, split_html
from storage.models import AuditLog, Citizen

LIMIT = 20


def _who(entry: AuditLog, person: Citizen | None) -> str:
    if person is not None:
        name = " ".join(p for p in (person.first_name, person.last_name) if p)
        handle = f" @{person.username}" if person.username else ""
        return esc(f"{name}{handle}".strip() or str(person.telegram_id))
    if entry.actor_telegram_id is not None:
        return str(entry.actor_telegram_id)
    return _("command line")


async def audit_log(message: Message, session: AsyncSession, actor: Actor, settings: Settings) -> None:
    entries = await latest(session, actor, LIMIT)
    if not entries:
        await message.answer(_("The audit trail is empty."))
        return
    tz = ZoneInfo(settings.app.timezone)
    parts = [_("🧾 <b>Latest admin actions</b>")]
    for entry, person in entries:
        when = short_datetime(entry.created_at, tz)
        parts.append(f"{when} · {_who(entry, person)} · {describe(entry, tz)}")
    for chunk in split_html(parts):
        await message.answer(chunk)


def router() -> Router:
    r = Router(name=__name__)
    r.message.filter(PRIVATE_CHAT)
    r.message.register(audit_log, Command("audit"))
    return r
