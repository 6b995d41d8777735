"""/templat: response templates. Both staff audiences include this router (handlers/__init__.py):
an admin's templates are global, an officer's belong to their agency."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.access import Actor, Refused
from bot.domain.text_rules import TextRuleError
from bot.services.casework import templates
from bot.ui.case_render import refusal_text, text_rule_error
from bot.ui.render import esc


async def template_command(message: Message, command: CommandObject, session: AsyncSession, actor: Actor) -> None:
    """``/templat`` lists; ``/templat Title | text`` adds (global for admins, else the agency's)."""
    args = (command.args or "").strip()
    if not args:
        found = await templates.templates_for(session, actor)
        lines = [_("<b>Response templates</b>")]
        lines += [f"• <b>{esc(t.title)}</b>: {esc(t.body[:200])}" for t in found] or [_("None yet.")]
        lines.append(_("Add one with <code>/templat Title | text</code>."))
        await message.answer("\n".join(lines))
        return
    title, sep, body = args.partition("|")
    if not sep:
        await message.answer(_("Write it as <code>/templat Title | text</code>."))
        return
    try:
        template = await templates.add_template(session, actor, title, body)
    except TextRuleError as exc:
        await message.answer(text_rule_error(exc.reason, exc.limit))
        return
    except Refused as exc:
        await message.answer(refusal_text(exc))
        return
    await message.answer(_("Template <b>{title}</b> saved.").format(title=esc(template.title)))


def router() -> Router:
    r = Router(name=__name__)
    r.message.filter(F.chat.type == "private")
    r.message.register(template_command, Command("templat"))
    return r
