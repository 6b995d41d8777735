"""The category step: a topic, then (when it has any) the closest subtopic; two taps at most.
"Other / not sure" is always one tap away."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.services import categories
from bot.services.intake import Step
from bot.ui import intake_callbacks as cb
from bot.ui import intake_keyboards as kb
from bot.ui import intake_render as r
from bot.ui.callback_types import parse_row_id
from bot.ui.intake_callbacks import IntakeCb
from handlers.intake.flow import CurrentFormButton, Form, advance, pressed, show_in_place


async def _choose(callback: CallbackQuery, form: Form, state: FSMContext, bot: Bot, settings: Settings,
                  locale: str, category_id: int | None, label: str | None) -> None:
    draft = form.draft
    draft.category_chosen, draft.category_id, draft.category_name = True, category_id, label
    await callback.answer()
    await advance(bot, callback.from_user.id, state, form, Step.CATEGORY, settings, locale,
                  r.category_chosen(label))


async def category_picked(
    callback: CallbackQuery, callback_data: IntakeCb, form: Form, state: FSMContext, bot: Bot,
    settings: Settings, locale: str, session: AsyncSession,
) -> None:
    category_id = parse_row_id(callback_data.value)
    category = await categories.choosable(session, category_id) if category_id is not None else None
    if category is None:
        # Forged, or withdrawn from the tree since the form started.
        await callback.answer(r.stale_button(), show_alert=True)
        return
    await _choose(callback, form, state, bot, settings, locale, category.id, categories.label(category, locale))


async def category_unknown(
    callback: CallbackQuery, form: Form, state: FSMContext, bot: Bot, settings: Settings, locale: str
) -> None:
    await _choose(callback, form, state, bot, settings, locale, None, None)


async def topic_opened(
    callback: CallbackQuery, callback_data: IntakeCb, form: Form, session: AsyncSession, locale: str
) -> None:
    topic = await categories.topic(session, parse_row_id(callback_data.value), locale)
    if topic is None:
        await callback.answer(r.stale_button(), show_alert=True)
        return
    await callback.answer()
    await show_in_place(callback, r.subcategory_title(topic.label),
                        kb.subcategory_kb(form.form_id, (topic.id, topic.label),
                                          [(c.id, c.label) for c in topic.children]))


async def back_to_topics(callback: CallbackQuery, form: Form) -> None:
    await callback.answer()
    await show_in_place(callback, r.prompt(Step.CATEGORY, form.draft),
                        kb.category_kb(form.form_id, [tuple(item) for item in form.categories]))


def router() -> Router:
    r = Router(name=__name__)
    r.callback_query.filter(CurrentFormButton())
    r.callback_query.register(category_picked, pressed(Step.CATEGORY, cb.SET))
    r.callback_query.register(category_unknown, pressed(Step.CATEGORY, cb.UNKNOWN))
    r.callback_query.register(topic_opened, pressed(Step.CATEGORY, cb.OPEN))
    r.callback_query.register(back_to_topics, pressed(Step.CATEGORY, cb.TOP))
    return r
