"""/templat: response templates. Both staff audiences include this router (handlers/__init__.py):
an admin's templates are global, an officer's belong to their agency. Whoever may write a
template may also edit, retire and restore it, with the buttons under /templat."""

from __future__ import annotations

from contextlib import suppress

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.access import Actor, Refused
from bot.domain.text_rules import TextRuleError
from bot.filters import PRIVATE_CHAT, not_command
from bot.services.casework import templates
from bot.ui import case_keyboards as kb
from bot.ui.case_callbacks import TemplateAction, TemplateManageCb
from bot.ui.case_render import refusal_text, text_rule_error
from bot.ui.dialogs import with_cancel
from bot.ui.render import esc
from bot.ui.template_render import template_card, template_refusal
from storage.models import ResponseTemplate


class TemplateForm(StatesGroup):
    body = State()  # data: template_id


async def template_command(message: Message, command: CommandObject, session: AsyncSession, actor: Actor) -> None:
    """``/templat`` lists; ``/templat Title | text`` adds (global for admins, else the agency's)."""
    args = (command.args or "").strip()
    if not args:
        found = await templates.templates_for(session, actor)
        managed = await templates.managed_templates(session, actor)
        lines = [_("<b>Response templates</b>")]
        lines += [f"• <b>{esc(t.title)}</b>: {esc(t.body[:200])}" for t in found] or [_("None yet.")]
        lines.append(_("Add one with <code>/templat Title | text</code>."))
        if managed:
            lines.append(_("Tap one of yours below to edit, retire or restore it."))
        await message.answer("\n".join(lines), reply_markup=kb.managed_templates_kb(
            [(t.id, t.title, t.active) for t in managed]))
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


def _card(template: ResponseTemplate) -> str:
    return template_card(template.title, template.body, active=template.active,
                         is_global=template.agency_id is None)


async def open_template(callback: CallbackQuery, callback_data: TemplateManageCb, session: AsyncSession,
                        actor: Actor) -> None:
    try:
        template = await templates.managed_template(session, actor, callback_data.t)
    except Refused as exc:
        await callback.answer(template_refusal(exc), show_alert=True)
        return
    await callback.answer()
    if callback.message is not None:
        await callback.message.answer(_card(template),
                                      reply_markup=kb.template_card_kb(template.id, active=template.active))


async def retire_or_restore(callback: CallbackQuery, callback_data: TemplateManageCb, session: AsyncSession,
                            actor: Actor) -> None:
    active = callback_data.a is TemplateAction.RESTORE
    try:
        template = await templates.set_template_active(session, actor, callback_data.t, active=active)
    except Refused as exc:
        await callback.answer(template_refusal(exc), show_alert=True)
        return
    await callback.answer(_("Offered to officers again.") if active else
                          _("Retired: officers no longer see it. Answers already sent keep their words."))
    # The card now shows the template as it is, with the buttons that apply to it.
    if isinstance(callback.message, Message):
        with suppress(TelegramBadRequest):  # a double tap's second edit: "not modified"
            await callback.message.edit_text(_card(template),
                                             reply_markup=kb.template_card_kb(template.id, active=template.active))


async def ask_for_body(callback: CallbackQuery, callback_data: TemplateManageCb, session: AsyncSession,
                       actor: Actor, state: FSMContext) -> None:
    try:
        template = await templates.managed_template(session, actor, callback_data.t)
    except Refused as exc:
        await callback.answer(template_refusal(exc), show_alert=True)
        return
    if not template.active:
        await callback.answer(_("Use it again first, then edit it."), show_alert=True)
        return
    await callback.answer()
    await state.set_state(TemplateForm.body)
    await state.set_data({"template_id": template.id})
    if callback.message is not None:
        await callback.message.answer(
            _("Send the new text of <b>{title}</b>. The current text, to copy (tap it):").format(
                title=esc(template.title)) + f"\n\n<pre>{esc(template.body)}</pre>",
            reply_markup=with_cancel(None, TemplateForm.__name__),
        )


async def body_given(message: Message, session: AsyncSession, actor: Actor, state: FSMContext) -> None:
    template_id = int((await state.get_data()).get("template_id", 0))
    try:
        template = await templates.edit_template(session, actor, template_id, message.text or "")
    except TextRuleError as exc:  # the step stays: send it again
        await message.answer(text_rule_error(exc.reason, exc.limit))
        return
    except Refused as exc:
        await state.clear()
        await message.answer(template_refusal(exc))
        return
    await state.clear()
    await message.answer(_("Template <b>{title}</b> updated. Answers already sent with it keep their "
                           "words.").format(title=esc(template.title)))


async def body_wrong_kind(message: Message) -> None:
    await message.answer(_("Send the template's new text as a message, or /batal."))


def router() -> Router:
    r = Router(name=__name__)
    r.message.filter(PRIVATE_CHAT)
    # The buttons are only ever sent in private; a forged press elsewhere is left to the fallback.
    r.callback_query.filter(F.message.chat.type == "private")
    r.message.register(template_command, Command("templat"))
    r.message.register(body_given, TemplateForm.body, F.text, not_command)
    r.message.register(body_wrong_kind, TemplateForm.body, not_command)
    r.callback_query.register(open_template, TemplateManageCb.filter(F.a == TemplateAction.OPEN))
    r.callback_query.register(retire_or_restore, TemplateManageCb.filter(
        F.a.in_({TemplateAction.RETIRE, TemplateAction.RESTORE})))
    r.callback_query.register(ask_for_body, TemplateManageCb.filter(F.a == TemplateAction.EDIT))
    return r
