"""Open reports near the one being filed, offered once the place is known (a shared location, or
without one the agency and category): "🤝 This is my problem too" follows one of them instead.

The offer rides in the form (its report ids), so a button for any other report, a confidential
one included, is refused; the service checks the access rule again when following.
"""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.access import Actor, Reason, Refused
from bot.services import related
from bot.services.intake import Step
from bot.ui import intake_callbacks as cb
from bot.ui.callback_types import parse_row_id
from bot.ui.case_render import refusal_text
from bot.ui.intake_callbacks import IntakeCb
from bot.ui.render import esc
from handlers.intake.flow import CurrentFormButton, Form, pressed
from storage.base import utcnow


async def offer(session: AsyncSession, actor: Actor, form: Form) -> None:
    """Remember in ``form`` the reports to offer when the attachments step is shown next."""
    draft = form.draft
    if form.editing or form.on_behalf is not None:
        # Back to the summary the offer was made (or not) the first time; an admin filing for a
        # walk-in would follow a report themselves.
        form.nearby = []
        return
    found = await related.nearby(
        session, citizen_id=actor.citizen_id, latitude=draft.latitude, longitude=draft.longitude,
        category_id=draft.category_id, classification=draft.classification or "",
        agency_id=draft.agency_id, now=utcnow())
    form.nearby = [n.to_data() for n in found]


async def follow(callback: CallbackQuery, form: Form, state: FSMContext, session: AsyncSession, actor: Actor,
                 bot: Bot) -> None:
    data = IntakeCb.unpack(callback.data or "")
    report_id = parse_row_id(data.value)
    offered = [n[0] for n in form.nearby]
    try:
        if report_id is None:
            raise Refused(Reason.FORBIDDEN)
        report = await related.follow(session, actor, report_id, via="nearby", offered=offered, now=utcnow())
    except Refused as exc:
        await callback.answer(refusal_text(exc.reason), show_alert=True)
        return
    await state.clear()
    await callback.answer()
    await bot.send_message(
        callback.from_user.id,
        _("🤝 You now follow <code>{tracking_id}</code>: you will hear of its updates here, and it counts "
          "you as one more citizen with this problem. Your own draft was not sent. See it in /laporan.").format(
            tracking_id=esc(report.tracking_id)),
    )


def router() -> Router:
    r = Router(name=__name__)
    r.callback_query.register(follow, CurrentFormButton(), pressed(Step.ATTACHMENTS, cb.FOLLOW))
    return r
