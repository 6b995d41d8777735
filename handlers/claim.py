"""A walk-in takes over the report an admin filed for them: the ``/start claim_<code>`` link or
``/klaim <code>``. Open to everyone; the service refuses a wrong, used or expired code alike."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.access import Actor, Refused
from bot.filters import PRIVATE_CHAT
from bot.services import walk_in
from bot.ui import walk_in_render as r
from storage.base import utcnow


async def claim(message: Message, command: CommandObject, session: AsyncSession, actor: Actor) -> None:
    raw = (command.args or "").strip()
    if not raw:
        await message.answer(r.claim_usage())
        return
    try:
        report = await walk_in.claim(session, actor, raw, utcnow())
    except Refused:
        await message.answer(r.claim_refused())
        return
    await message.answer(r.claimed_text(report.tracking_id))


def router() -> Router:
    r_ = Router(name=__name__)
    r_.message.filter(PRIVATE_CHAT)
    r_.message.register(claim, CommandStart(deep_link=True, magic=F.args.startswith(walk_in.CLAIM_PREFIX)))
    r_.message.register(claim, Command("klaim", "claim"))
    return r_
