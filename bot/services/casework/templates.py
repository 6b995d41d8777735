"""Response templates: an admin's are global, an officer's belong to their agency.

Whoever may write a template may edit, retire and restore it (``access.may_manage_template``).
An answer made from a template is a copy of its words (the officer's draft, sent as a report
event): editing or retiring the template later never changes what a reporter was sent."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import access
from bot.domain.access import Action, Actor, Reason, Refused
from bot.domain.text_rules import validate_reason
from bot.services import audit
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
    await _audit(session, actor, audit.AuditAction.TEMPLATE_ADD, template)
    await session.commit()
    return template


async def _audit(session: AsyncSession, actor: Actor, action: str, template: ResponseTemplate) -> None:
    await audit.record(session, actor, action, f"template:{template.id}",
                       {"title": template.title, "agency_id": template.agency_id})


async def templates_for(session: AsyncSession, actor: Actor) -> Sequence[ResponseTemplate]:
    """The officer's agencies' templates first, then the global ones."""
    access.ensure(actor, Action.USE_TEMPLATES)
    return await CaseRepo(session).templates_for(actor.agency_ids)


async def usable_template(session: AsyncSession, actor: Actor, template_id: int) -> ResponseTemplate:
    """A template in use, if this user may use it (global, or one of their agencies'): what the
    officer's draft starts from. A retired one is refused like someone else's."""
    template = await CaseRepo(session).get_template(template_id)
    if template is None or not template.active or not access.may_use_template(actor, template.agency_id):
        raise Refused(Reason.FORBIDDEN)
    return template


async def managed_templates(session: AsyncSession, actor: Actor) -> Sequence[ResponseTemplate]:
    """The templates this user may edit, retire or restore, retired ones included."""
    access.ensure(actor, Action.USE_TEMPLATES)
    return await CaseRepo(session).templates_managed(actor.agency_ids, with_global=actor.is_admin)


async def managed_template(session: AsyncSession, actor: Actor, template_id: int) -> ResponseTemplate:
    """One template this user may manage; a missing one is refused like someone else's."""
    template = await CaseRepo(session).get_template(template_id)
    if template is None:
        raise Refused(Reason.FORBIDDEN)
    access.ensure_may_manage_template(actor, template.agency_id)
    return template


async def edit_template(session: AsyncSession, actor: Actor, template_id: int, body: str) -> ResponseTemplate:
    """A new text (the rules of a reason: not empty, not too long). Only a template in use: a
    retired one is restored first."""
    template = await managed_template(session, actor, template_id)
    body = validate_reason(body)
    if not await CaseRepo(session).set_template_body(template_id, body):
        raise Refused(Reason.NOT_NOW)
    await _audit(session, actor, audit.AuditAction.TEMPLATE_EDIT, template)
    await session.commit()
    return await managed_template(session, actor, template_id)


async def set_template_active(session: AsyncSession, actor: Actor, template_id: int, *,
                              active: bool) -> ResponseTemplate:
    """Retire (no longer offered to officers) or restore. Already so, e.g. a double tap or
    a colleague first: ``Reason.NOT_NOW``."""
    template = await managed_template(session, actor, template_id)
    if not await CaseRepo(session).set_template_active(template_id, active):
        raise Refused(Reason.NOT_NOW)
    await _audit(session, actor, audit.AuditAction.TEMPLATE_RESTORE if active else audit.AuditAction.TEMPLATE_RETIRE,
                 template)
    await session.commit()
    return await managed_template(session, actor, template_id)
