"""Response templates: an admin's are global, an officer's belong to their agency."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import access
from bot.domain.access import Action, Actor, Reason, Refused
from bot.domain.text_rules import validate_reason
from storage.models import ResponseTemplate
from storage.repositories.cases import CaseRepo

TITLE_MAX = 64


async def add_template(session: AsyncSession, actor: Actor, title: str, body: str) -> ResponseTemplate:
    """An officer serving several agencies writes for the first one (by id)."""
    access.ensure(actor, Action.USE_TEMPLATES)
    title = " ".join(title.split())[:TITLE_MAX]
    body = validate_reason(body)
    if not title:
        raise Refused(Reason.INVALID)
    agency_id = None if actor.is_admin else min(actor.agency_ids)
    template = await CaseRepo(session).add_template(
        ResponseTemplate(agency_id=agency_id, title=title, body=body, created_by_id=actor.citizen_id)
    )
    await session.commit()
    return template


async def templates_for(session: AsyncSession, actor: Actor) -> Sequence[ResponseTemplate]:
    """The officer's agencies' templates first, then the global ones."""
    access.ensure(actor, Action.USE_TEMPLATES)
    return await CaseRepo(session).templates_for(actor.agency_ids)


async def template_text(session: AsyncSession, actor: Actor, template_id: int) -> str:
    """A template's body, if this user may use it (global, or one of their agencies')."""
    template = await CaseRepo(session).get_template(template_id)
    if template is None or not template.active or not access.may_use_template(actor, template.agency_id):
        raise Refused(Reason.FORBIDDEN)
    return template.body
