"""The summary: edit a field, or submit (once) and get the receipt."""

from __future__ import annotations

import logging
from contextlib import suppress
from datetime import UTC, datetime

from aiogram import Bot, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.domain.access import Actor, Refused
from bot.domain.publication import report_page_url
from bot.domain.workdays import WorkCalendar
from bot.services import walk_in
from bot.services.casework.core import Casework
from bot.services.casework.verification import SubmissionHook
from bot.services.delivery import DeliveryWorker
from bot.services.intake import DraftIncomplete, Step, TooManyReports, submit_report
from bot.ui import intake_callbacks as cb
from bot.ui import intake_render as r
from bot.ui.case_render import refusal_text
from bot.ui.intake_callbacks import IntakeCb
from bot.ui.walk_in_render import walk_in_receipt
from handlers.intake.flow import CurrentFormButton, Form, go_to, pressed
from storage.models import Citizen

log = logging.getLogger(__name__)

_EDITABLE = {s.value: s for s in Step if s != Step.CONFIRM}


async def edit_field(
    callback: CallbackQuery, callback_data: IntakeCb, form: Form, state: FSMContext, bot: Bot,
    settings: Settings, locale: str,
) -> None:
    step = _EDITABLE.get(callback_data.value)
    if step is None or not form.draft.asks(step):
        await callback.answer(r.stale_button(), show_alert=True)
        return
    form.editing = True
    await callback.answer()
    await go_to(bot, callback.from_user.id, state, form, step, settings, locale)


async def submit(
    callback: CallbackQuery, form: Form, state: FSMContext, bot: Bot, session: AsyncSession,
    citizen: Citizen, calendar: WorkCalendar, settings: Settings, locale: str, casework: Casework,
    delivery: DeliveryWorker, actor: Actor,
) -> None:
    # Leave the form before filing: a second tap on "Kirim" (serialised after this one by the
    # event isolation) then finds no form and is refused as a stale button.
    saved_state, saved_data = await state.get_state(), await state.get_data()
    await state.clear()
    filed_for = None
    try:
        if form.on_behalf is not None:
            filed_for = await walk_in.file_for(
                session, actor, form.draft, channel=str(form.on_behalf.get("channel")),
                name=form.on_behalf.get("name"), phone=form.on_behalf.get("phone"), calendar=calendar,
                claim_days=settings.intake.walk_in_claim_days, now=datetime.now(UTC),
                on_submitted=SubmissionHook(casework))
            report = filed_for.report
        else:
            report = await submit_report(
                session, citizen, form.draft, calendar, datetime.now(UTC),
                on_submitted=SubmissionHook(casework), reports_per_day=settings.limits.reports_per_day,
            )
    except TooManyReports as e:
        # Nothing filed, nothing lost: the form stays for later.
        await state.set_state(saved_state)
        await state.set_data(saved_data)
        await callback.answer(r.too_many_reports(e.limit), show_alert=True)
        return
    except DraftIncomplete as e:
        await state.set_state(saved_state)
        await state.set_data(saved_data)
        await callback.answer()
        await go_to(bot, callback.from_user.id, state, form, e.step, settings, locale, _("⚠️ This step is missing."))
        return
    except Refused as exc:  # no longer an admin
        await callback.answer(refusal_text(exc.reason), show_alert=True)
        return
    except Exception:
        # Keep what the citizen typed; the error handler tells them to try again.
        await state.set_state(saved_state)
        await state.set_data(saved_data)
        raise
    # The admins' notification (or the officers', with auto_assign) is in the outbox now.
    delivery.wake()
    await callback.answer(_("Sent!"))
    if isinstance(callback.message, Message):
        with suppress(TelegramBadRequest):
            await callback.message.edit_reply_markup(reply_markup=None)
    assert report.verify_due is not None
    if filed_for is not None:
        me = await bot.me()
        await bot.send_message(callback.from_user.id, walk_in_receipt(
            report.tracking_id, filed_for.code, walk_in.claim_link(me.username or "", filed_for.code),
            filed_for.expires_at, calendar.tz, locale))
        return
    page = report_page_url(settings.web.public_base_url, report.tracking_id, report.privacy)
    await bot.send_message(
        callback.from_user.id, r.receipt(report.tracking_id, report.verify_due, report.privacy, locale, page)
    )


def router() -> Router:
    r = Router(name=__name__)
    r.callback_query.filter(CurrentFormButton())
    r.callback_query.register(edit_field, pressed(Step.CONFIRM, cb.EDIT))
    r.callback_query.register(submit, pressed(Step.CONFIRM, cb.SUBMIT))
    return r
