"""Moving through the form: the FSM data, showing a step, and the filter that refuses buttons of
other forms or other steps."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from aiogram import Bot, F
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Filter
from aiogram.fsm.context import FSMContext
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardRemove,
)
from aiogram.utils.i18n import gettext as _

from bot import unit_of_work
from bot.config import Settings
from bot.filters import unpacked
from bot.services.categories import CategoryChoice
from bot.services.intake import Draft, Step, new_form_id, next_step
from bot.services.related import NearbyReport
from bot.ui import intake_keyboards as kb
from bot.ui import intake_render as r
from bot.ui.intake_callbacks import IntakeCb
from handlers.intake.states import STATE_OF, STEP_OF

# Album ids remembered per form, so each album is acknowledged once; older ones are forgotten.
ALBUMS_KEPT = 20


@dataclass
class Form:
    form_id: str
    draft: Draft
    editing: bool = False
    albums: list[str] = field(default_factory=list)
    albums_full: list[str] = field(default_factory=list)
    # The category topics as the form started: [id, label, has subtopics] (empty: no step).
    categories: list[list[Any]] = field(default_factory=list)
    # Open reports near this one, offered to follow instead (``NearbyReport.to_data``).
    nearby: list[list[Any]] = field(default_factory=list)
    # An admin filing for a walk-in (/lapor_untuk): {"channel", "name", "phone"}; None: for oneself.
    on_behalf: dict[str, Any] | None = None

    def to_data(self) -> dict[str, Any]:
        return {
            "form_id": self.form_id,
            "draft": self.draft.to_data(),
            "editing": self.editing,
            "albums": self.albums[-ALBUMS_KEPT:],
            "albums_full": self.albums_full[-ALBUMS_KEPT:],
            "categories": self.categories,
            "nearby": self.nearby,
            "on_behalf": self.on_behalf,
        }

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Form | None:
        if not data.get("form_id"):
            return None
        return cls(
            form_id=data["form_id"],
            draft=Draft.from_data(data.get("draft")),
            editing=bool(data.get("editing")),
            albums=list(data.get("albums", [])),
            albums_full=list(data.get("albums_full", [])),
            categories=list(data.get("categories", [])),
            nearby=list(data.get("nearby", [])),
            on_behalf=data.get("on_behalf") if isinstance(data.get("on_behalf"), dict) else None,
        )


async def current(state: FSMContext) -> tuple[Form, Step] | None:
    step = STEP_OF.get(await state.get_state() or "")
    if step is None:
        return None
    form = Form.from_data(await state.get_data())
    return (form, step) if form else None


async def save(state: FSMContext, form: Form) -> None:
    await state.set_data(form.to_data())


def pressed(step: Step, *actions: str):
    """A filter for the form's buttons doing one of ``actions`` on ``step``."""
    return IntakeCb.filter((F.step == step) & F.action.in_(set(actions)))


class CurrentFormButton(Filter):
    """Passes an intake button only if it belongs to the form and step the chat is in now.

    Gives the handler ``form`` and ``step``; anything else falls through to ``stale_button``.
    """

    async def __call__(self, callback: CallbackQuery, state: FSMContext) -> bool | dict[str, Any]:
        data = unpacked(IntakeCb, callback)  # the payload the button's filter read
        if data is None:
            return False
        found = await _current_once(callback, state)
        if found is None:
            return False
        form, step = found
        if data.form != form.form_id or data.step != step.value:
            return False
        return {"form": form, "step": step}


class _LastPress:
    query: CallbackQuery | None = None
    found: tuple[Form, Step] | None = None


async def _current_once(query: CallbackQuery, state: FSMContext) -> tuple[Form, Step] | None:
    """``current(state)`` read once per button press, however many handlers' filters ask.

    Most of the form's button handlers carry ``CurrentFormButton`` as their first filter, so a
    press passed it a dozen times on its way to its handler, each time building the ``Form`` from
    the FSM data again (~1 % of a step's CPU, py-spy of bench/concurrency.py). Nothing changes the
    form between two filters of one update: no handler has run yet (none of the form's passes the
    update on). Updates interleave at awaits: a press that finds another's form here reads its own.
    """
    if _LastPress.query is not query:
        found = await current(state)
        _LastPress.query, _LastPress.found = query, found
        return found
    return _LastPress.found


def markup_for(step: Step, form: Form) -> Any:
    draft, fid = form.draft, form.form_id
    match step:
        case Step.CLASSIFICATION:
            return kb.classification_kb(fid)
        case Step.CATEGORY:
            return kb.category_kb(fid, [tuple(item) for item in form.categories])
        case Step.AGENCY:
            return kb.agency_kinds_kb(fid)
        case Step.TITLE:
            return kb.back_only_kb(fid, step)
        case Step.BODY:
            return kb.body_kb(fid, has_draft=bool(draft.body))
        case Step.DATE:
            return kb.date_kb(fid, may_skip=draft.may_skip(Step.DATE))
        case Step.LOCATION:
            return kb.location_kb(may_skip=draft.may_skip(Step.LOCATION))
        case Step.ATTACHMENTS:
            return kb.attachments_kb(fid, count=len(draft.attachments), nearby=[(n[0], n[1]) for n in form.nearby],
                                     held=len(draft.held))
        case Step.PRIVACY:
            return kb.privacy_kb(fid)
        case Step.CONFIRM:
            return kb.confirm_kb(fid, with_category=draft.category_offered)


async def send_prompt(
    bot: Bot, chat_id: int, form: Form, step: Step, settings: Settings, locale: str, note: str | None = None,
    *, remove_reply_keyboard: bool = False,
) -> None:
    """(Re-)show a step: its question with its buttons, after ``note`` (a refusal or an ack), in
    one message (the summary may need more when it is long). Telegram allows about one message a
    second per chat; a confirmation and a question as two messages would make a brisk citizen
    meet 429s. ``remove_reply_keyboard``: the location step's keyboard goes with this message."""
    if step == Step.CONFIRM:
        texts = r.summary_messages(form.draft, locale, note)
    else:
        limits = settings.intake
        question = r.prompt(step, form.draft, max_files=limits.max_attachments, max_mb=limits.max_attachment_mb)
        if step == Step.ATTACHMENTS and form.nearby:
            question = r.nearby_block([NearbyReport.from_data(n) for n in form.nearby], locale) + "\n\n" + question
        texts = [r.with_note(note, question)]
    markup = markup_for(step, form)
    for i, text in enumerate(texts):
        last = i == len(texts) - 1
        if i == 0 and remove_reply_keyboard:
            sent = await bot.send_message(chat_id, text, reply_markup=ReplyKeyboardRemove())
            if last and isinstance(markup, InlineKeyboardMarkup):
                await _attach_buttons(bot, sent, markup)
            continue
        await bot.send_message(chat_id, text, reply_markup=markup if last else None)


async def _attach_buttons(bot: Bot, sent: Message, markup: InlineKeyboardMarkup) -> None:
    # A message carries one keyboard: the one that removed the reply keyboard gets its inline
    # buttons by an edit, which is not a new message in the chat.
    try:
        await bot.edit_message_reply_markup(chat_id=sent.chat.id, message_id=sent.message_id, reply_markup=markup)
    except TelegramBadRequest:
        await bot.send_message(sent.chat.id, _("Choose below:"), reply_markup=markup)


async def go_to(
    bot: Bot,
    chat_id: int,
    state: FSMContext,
    form: Form,
    step: Step,
    settings: Settings,
    locale: str,
    note: str | None = None,
) -> None:
    if step == Step.CONFIRM:
        form.editing = False
    leaving_location = await state.get_state() == STATE_OF[Step.LOCATION].state and step != Step.LOCATION
    # The step and the answers are stored together, marked "question not yet sent", before the
    # question goes out: a crash while it is sent leaves the mark, and the next update shows the
    # question again instead of taking it as the answer to a question the citizen never saw
    # (handlers/intake/resume.py). Committed first, so no lock is held while Telegram answers.
    # Data first: on Redis (no transaction) a kill between the two leaves the mark on the step
    # just answered, whose question is then asked again, rather than a new step without its data.
    await state.set_data({**form.to_data(), QUESTION_UNSENT: True})
    await state.set_state(STATE_OF[step])
    await unit_of_work.commit()
    # The location step's reply keyboard stays on screen until a message removes it: the next one.
    await send_prompt(bot, chat_id, form, step, settings, locale, note, remove_reply_keyboard=leaving_location)
    await save(state, form)


# In the FSM data while a step's question may not have reached the citizen (see ``go_to``).
QUESTION_UNSENT = "question_unsent"


async def question_unsent(state: FSMContext) -> bool:
    return bool((await state.get_data()).get(QUESTION_UNSENT))


# A message the citizen asked to turn into a report waits under this key of the FSM data until
# the form begins (after the personal-data notice, for a newcomer); it becomes the description.
PENDING_BODY = "body_from_text"


async def begin_form(
    bot: Bot, chat_id: int, state: FSMContext, settings: Settings, locale: str, note: str | None = None,
    *, categories: Sequence[CategoryChoice] = (), on_behalf: dict[str, Any] | None = None,
) -> None:
    """A fresh form at its first step (/lapor, or agreeing to the notice /lapor showed).
    ``categories``: the topics to offer (``bot.services.categories.choices``); none, no step.
    ``on_behalf``: an admin files it for a walk-in (``Form.on_behalf``)."""
    body = (await state.get_data()).get(PENDING_BODY)
    form = Form(form_id=new_form_id(),
                draft=Draft(language=locale, category_offered=bool(categories),
                            body=body if isinstance(body, str) else None),
                categories=[[c.id, c.label, c.has_children] for c in categories], on_behalf=on_behalf)
    await go_to(bot, chat_id, state, form, Step.CLASSIFICATION, settings, locale, note)


async def advance(
    bot: Bot, chat_id: int, state: FSMContext, form: Form, done: Step, settings: Settings, locale: str,
    note: str | None = None,
) -> None:
    await go_to(bot, chat_id, state, form, next_step(form.draft, done, editing=form.editing), settings, locale, note)


async def show_in_place(callback: CallbackQuery, text: str, markup: InlineKeyboardMarkup) -> None:
    """Replace the pressed message (browsing lists), or send anew if it cannot be edited."""
    if isinstance(callback.message, Message):
        try:
            await callback.message.edit_text(text, reply_markup=markup)
            return
        except TelegramBadRequest as exc:
            if "not modified" in str(exc):
                return
    assert callback.bot is not None
    await callback.bot.send_message(callback.from_user.id, text, reply_markup=markup)


async def remind_step(bot: Bot, chat_id: int, state: FSMContext, settings: Settings, locale: str) -> bool:
    """Re-show the current step's question, if the chat is in the form. For other features'
    commands that answer in the middle of a form."""
    found = await current(state)
    if found is None:
        return False
    form, step = found
    await send_prompt(bot, chat_id, form, step, settings, locale)
    return True
