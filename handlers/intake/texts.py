"""Steps answered by typing: title, description, incident date, location."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from aiogram import Bot, F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.domain.access import Actor
from bot.domain.dates import IncidentDateError, parse_incident_date
from bot.domain.text_rules import (
    TextRuleError,
    validate_body,
    validate_location_text,
    validate_title,
)
from bot.domain.workdays import WorkCalendar
from bot.services.intake import Step, previous_step
from bot.ui import intake_callbacks as cb
from bot.ui import intake_render as r
from bot.ui.formatting import long_date
from bot.ui.intake_callbacks import IntakeCb
from bot.ui.render import esc_truncate
from handlers.intake import nearby
from handlers.intake.flow import CurrentFormButton, Form, advance, current, go_to, pressed, send_prompt
from handlers.intake.states import ReportForm

not_command = ~F.text.startswith("/")
# Echo of a title in the acknowledgement: the summary shows it in full.
ACK_ECHO = 80


async def _form(state: FSMContext) -> Form:
    found = await current(state)
    assert found is not None  # the state filter put us here
    return found[0]


async def _refuse(
    message: Message, form: Form, step: Step, note: str, bot: Bot, settings: Settings, locale: str
) -> None:
    # The refusal and the question again, in one message; state and draft stay as they were.
    await send_prompt(bot, message.chat.id, form, step, settings, locale, note)


async def title_typed(message: Message, state: FSMContext, bot: Bot, settings: Settings, locale: str) -> None:
    form = await _form(state)
    try:
        form.draft.title = validate_title(message.text)
    except TextRuleError as e:
        await _refuse(message, form, Step.TITLE, r.text_rule_refusal(e, len(message.text)), bot, settings, locale)
        return
    note = _("✔️ Title: {title}").format(title=esc_truncate(form.draft.title, ACK_ECHO))
    await advance(bot, message.chat.id, state, form, Step.TITLE, settings, locale, note)


# Telegram splits a text over 4,096 characters into several messages sent at once. The first
# part is refused as too long (BODY_MAX < 4,096); the parts that follow within this many
# seconds are refused as its continuation, so the tail never quietly becomes the description.
FRAGMENT_WINDOW_SECONDS = 10
TOO_LONG_AT = "body_too_long_at"


def _too_long_marker(state: FSMContext) -> FSMContext:
    # Beside the form, not in it (its own destiny): a refusal leaves the form's data as it was.
    return FSMContext(storage=state.storage, key=replace(state.key, destiny="body_too_long"))


async def body_typed(message: Message, state: FSMContext, bot: Bot, settings: Settings, locale: str) -> None:
    form = await _form(state)
    sent_at = message.date.timestamp()
    try:
        body = validate_body(message.text)
    except TextRuleError as e:
        if e.reason == "too_long":
            await _too_long_marker(state).set_data({TOO_LONG_AT: sent_at})
        await _refuse(message, form, Step.BODY, r.text_rule_refusal(e, len(message.text)), bot, settings, locale)
        return
    marker = _too_long_marker(state)
    too_long_at = (await marker.get_data()).get(TOO_LONG_AT)
    if isinstance(too_long_at, int | float) and 0 <= sent_at - too_long_at <= FRAGMENT_WINDOW_SECONDS:
        await marker.set_data({TOO_LONG_AT: sent_at})  # a third part may follow the second
        await _refuse(message, form, Step.BODY, r.body_continuation_refused(), bot, settings, locale)
        return
    if too_long_at is not None:
        await marker.clear()
    form.draft.body = body
    await advance(bot, message.chat.id, state, form, Step.BODY, settings, locale, _("✔️ Description saved."))


async def body_kept(
    callback: CallbackQuery, form: Form, state: FSMContext, bot: Bot, settings: Settings, locale: str
) -> None:
    # The draft came from a message written before the form (or an earlier answer): the same
    # rules as a typed description.
    try:
        form.draft.body = validate_body(form.draft.body or "")
    except TextRuleError:
        await callback.answer(r.stale_button(), show_alert=True)
        return
    await callback.answer()
    await advance(bot, callback.from_user.id, state, form, Step.BODY, settings, locale, _("✔️ Description saved."))


# -- incident date -----------------------------------------------------------------------------
async def _set_date(
    chat_id: int, form: Form, iso: str | None, state: FSMContext, bot: Bot, settings: Settings, locale: str
) -> None:
    form.draft.incident_date = iso
    form.draft.date_skipped = iso is None
    note = (
        _("✔️ Date: {date}").format(date=long_date(date.fromisoformat(iso), locale))
        if iso
        else _("✔️ Date skipped.")
    )
    await advance(bot, chat_id, state, form, Step.DATE, settings, locale, note)


async def date_typed(
    message: Message, state: FSMContext, bot: Bot, settings: Settings, locale: str, calendar: WorkCalendar
) -> None:
    form = await _form(state)
    today = calendar.today()
    try:
        day = parse_incident_date(message.text, today)
    except IncidentDateError as e:
        await _refuse(message, form, Step.DATE, r.date_refusal(e.reason, today, locale), bot, settings, locale)
        return
    await _set_date(message.chat.id, form, day.isoformat(), state, bot, settings, locale)


async def date_button(
    callback: CallbackQuery, callback_data: IntakeCb, form: Form, state: FSMContext, bot: Bot,
    settings: Settings, locale: str, calendar: WorkCalendar,
) -> None:
    if callback_data.action == cb.SKIP:
        if not form.draft.may_skip(Step.DATE):
            await callback.answer(_("A complaint needs the date it happened."), show_alert=True)
            return
        iso = None
    else:
        today = calendar.today()
        iso = (today if callback_data.action == cb.TODAY else today - timedelta(days=1)).isoformat()
    await callback.answer()
    await _set_date(callback.from_user.id, form, iso, state, bot, settings, locale)


# -- location ----------------------------------------------------------------------------------
def _labels(i18n: I18n, label: str) -> set[str]:
    # Reply-keyboard buttons come back as plain text in whatever language they were shown in.
    return {i18n.gettext(label, locale=lang) for lang in i18n.available_locales}


async def location_shared(message: Message, state: FSMContext, bot: Bot, settings: Settings, locale: str,
                          session: AsyncSession, actor: Actor) -> None:
    form = await _form(state)
    loc = message.location
    form.draft.latitude, form.draft.longitude = loc.latitude, loc.longitude
    form.draft.location_text = None
    if message.venue is not None:  # a place picked from the map carries its name and address
        venue = ", ".join(p for p in (message.venue.title, message.venue.address) if p)
        try:
            form.draft.location_text = validate_location_text(venue)
        except TextRuleError:
            pass
    form.draft.location_skipped = False
    # Anonymous: the exact point is replaced at once, before the draft is even saved (or used
    # to look for nearby reports).
    note = r.approximate_location_saved() if form.draft.is_anonymous else _("✔️ Location saved.")
    form.draft.protect_anonymity()
    await nearby.offer(session, actor, form)
    await advance(bot, message.chat.id, state, form, Step.LOCATION, settings, locale, note)


async def location_typed(
    message: Message, state: FSMContext, bot: Bot, settings: Settings, locale: str, i18n: I18n,
    session: AsyncSession, actor: Actor,
) -> None:
    form = await _form(state)
    text = message.text.strip()
    if text in _labels(i18n, "⬅️ Back"):
        target = Step.CONFIRM if form.editing else previous_step(Step.LOCATION)
        await go_to(bot, message.chat.id, state, form, target, settings, locale, _("⬅️ Back."))
        return
    if text in _labels(i18n, "Skip"):
        if not form.draft.may_skip(Step.LOCATION):
            note = _("⚠️ A complaint needs the place where it happened.")
            await _refuse(message, form, Step.LOCATION, note, bot, settings, locale)
            return
        form.draft.location_text = None
        form.draft.latitude = form.draft.longitude = None
        form.draft.location_skipped = True
        await nearby.offer(session, actor, form)
        await advance(bot, message.chat.id, state, form, Step.LOCATION, settings, locale, _("✔️ Location skipped."))
        return
    try:
        form.draft.location_text = validate_location_text(message.text)
    except TextRuleError as e:
        await _refuse(message, form, Step.LOCATION, r.text_rule_refusal(e, len(message.text)), bot, settings, locale)
        return
    form.draft.latitude = form.draft.longitude = None
    form.draft.location_skipped = False
    await nearby.offer(session, actor, form)
    await advance(bot, message.chat.id, state, form, Step.LOCATION, settings, locale, _("✔️ Location saved."))


def router() -> Router:
    r = Router(name=__name__)
    r.message.register(title_typed, ReportForm.title, F.text, not_command)
    r.message.register(body_typed, ReportForm.body, F.text, not_command)
    r.callback_query.register(body_kept, CurrentFormButton(), pressed(Step.BODY, cb.KEEP))
    r.message.register(date_typed, ReportForm.incident_date, F.text, not_command)
    r.callback_query.register(date_button, CurrentFormButton(), pressed(Step.DATE, cb.TODAY, cb.YESTERDAY, cb.SKIP))
    r.message.register(location_shared, ReportForm.location, F.location)
    r.message.register(location_typed, ReportForm.location, F.text, not_command)
    return r
