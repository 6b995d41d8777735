"""The attachments step: photos, documents, videos and voice notes, albums acknowledged once. An
anonymous report's files that no cleaner can strip wait for the citizen to send them anyway."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.config import Settings
from bot.domain.privacy import Cleaning, cleaning_for
from bot.services.intake import AttachmentRefusal, DraftAttachment, Step, check_attachment
from bot.ui import intake_callbacks as cb
from bot.ui import intake_keyboards as kb
from bot.ui import intake_render as r
from handlers.intake.flow import CurrentFormButton, Form, advance, current, pressed, save, send_prompt
from handlers.intake.states import ReportForm


def _attachment(message: Message) -> DraftAttachment | None:
    if message.photo:
        best = message.photo[-1]  # Telegram lists sizes smallest first
        return DraftAttachment(best.file_id, best.file_unique_id, "photo", best.file_size, "image/jpeg")
    if message.video:
        v = message.video
        return DraftAttachment(v.file_id, v.file_unique_id, "video", v.file_size, v.mime_type, v.file_name)
    if message.document:
        d = message.document
        return DraftAttachment(d.file_id, d.file_unique_id, "document", d.file_size, d.mime_type, d.file_name)
    if message.voice:
        # A citizen who finds writing hard tells what happened aloud; officers hear it as sent.
        n = message.voice
        return DraftAttachment(n.file_id, n.file_unique_id, "voice", n.file_size, n.mime_type or "audio/ogg")
    return None


async def file_sent(message: Message, state: FSMContext, settings: Settings) -> None:
    found = await current(state)
    assert found is not None
    form = found[0]
    item = _attachment(message)
    assert item is not None
    limits = settings.intake
    album = message.media_group_id
    refusal = check_attachment(form.draft, item, max_count=limits.max_attachments, max_mb=limits.max_attachment_mb)
    markup = kb.attachments_kb(form.form_id, count=len(form.draft.attachments))
    if refusal is not None:
        if album is not None and refusal == AttachmentRefusal.TOO_MANY:
            # Telegram delivers an album as one message per file; say "full" once per album.
            if album in form.albums_full:
                return
            form.albums_full.append(album)
            await save(state, form)
        text = r.attachment_refusal(
            refusal, max_files=limits.max_attachments, max_mb=limits.max_attachment_mb, size=item.file_size
        )
        await message.answer(text, reply_markup=markup)
        return
    if form.draft.is_anonymous and cleaning_for(item.kind, item.mime_type, item.file_name) is Cleaning.NONE:
        await _hold(message, state, form, item)
        return
    form.draft.attachments.append(item)
    markup = kb.attachments_kb(form.form_id, count=len(form.draft.attachments), held=len(form.draft.held))
    if album is not None:
        first_of_album = album not in form.albums
        if first_of_album:
            form.albums.append(album)
        await save(state, form)
        if first_of_album:
            await message.answer(r.album_received(limits.max_attachments), reply_markup=markup)
        return
    await save(state, form)
    received = r.attachment_received(len(form.draft.attachments), limits.max_attachments)
    await message.answer(received, reply_markup=markup)


async def _hold(message: Message, state: FSMContext, form: Form, item: DraftAttachment) -> None:
    """An anonymous report's file that no cleaner can strip waits until the citizen says to send
    it anyway (one question per album: Telegram delivers an album one message per file)."""
    draft = form.draft
    if any(a.file_unique_id == item.file_unique_id for a in draft.held):
        return
    draft.held.append(item)
    # Asked once per album, whatever else of the album was acknowledged ("h": held).
    album = f"h{message.media_group_id}" if message.media_group_id else None
    first_of_album = album is None or album not in form.albums
    if album is not None and first_of_album:
        form.albums.append(album)
    await save(state, form)
    if first_of_album:
        markup = kb.attachments_kb(form.form_id, count=len(draft.attachments), held=len(draft.held))
        await message.answer(r.uncleanable_file_warning(), reply_markup=markup)


async def held_sent(
    callback: CallbackQuery, form: Form, state: FSMContext, bot: Bot, settings: Settings, locale: str
) -> None:
    draft, limit = form.draft, settings.intake.max_attachments
    room = max(0, limit - len(draft.attachments))
    taken = draft.held[:room]
    draft.attachments += taken
    draft.held = []
    await save(state, form)
    await callback.answer()
    note = r.held_files_sent(len(taken))
    await send_prompt(bot, callback.from_user.id, form, Step.ATTACHMENTS, settings, locale, note)


async def held_dropped(
    callback: CallbackQuery, form: Form, state: FSMContext, bot: Bot, settings: Settings, locale: str
) -> None:
    form.draft.held = []
    await save(state, form)
    await callback.answer()
    await send_prompt(bot, callback.from_user.id, form, Step.ATTACHMENTS, settings, locale, r.held_files_dropped())


async def files_done(
    callback: CallbackQuery, form: Form, state: FSMContext, bot: Bot, settings: Settings, locale: str
) -> None:
    form.draft.attachments_done = True
    # Files still waiting for "send anyway" were not confirmed: they stay out, and the citizen
    # is told so.
    note = r.held_files_dropped() if form.draft.held else None
    form.draft.held = []
    await callback.answer()
    await advance(bot, callback.from_user.id, state, form, Step.ATTACHMENTS, settings, locale, note)


async def files_cleared(
    callback: CallbackQuery, form: Form, state: FSMContext, bot: Bot, settings: Settings, locale: str
) -> None:
    form.draft.attachments = []
    form.draft.held = []
    form.albums_full = []
    await save(state, form)
    await callback.answer(r.files_removed())
    await send_prompt(bot, callback.from_user.id, form, Step.ATTACHMENTS, settings, locale)


def router() -> Router:
    r = Router(name=__name__)
    r.message.register(file_sent, ReportForm.attachments, F.photo | F.video | F.document | F.voice)
    r.callback_query.register(files_done, CurrentFormButton(), pressed(Step.ATTACHMENTS, cb.DONE))
    r.callback_query.register(files_cleared, CurrentFormButton(), pressed(Step.ATTACHMENTS, cb.CLEAR))
    r.callback_query.register(held_sent, CurrentFormButton(), pressed(Step.ATTACHMENTS, cb.SEND_HELD))
    r.callback_query.register(held_dropped, CurrentFormButton(), pressed(Step.ATTACHMENTS, cb.DROP_HELD))
    return r
