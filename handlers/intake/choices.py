"""Steps answered with buttons: classification, agency (browse or search) and privacy."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.domain.enums import AgencyKind, Classification, Privacy
from bot.domain.paging import page_count
from bot.services import intake
from bot.services.intake import Step
from bot.ui import intake_callbacks as cb
from bot.ui import intake_keyboards as kb
from bot.ui import intake_render as r
from bot.ui.callback_types import parse_row_id
from bot.ui.intake_callbacks import IntakeCb
from bot.ui.render import esc
from handlers.intake.flow import CurrentFormButton, Form, advance, current, go_to, pressed, show_in_place
from handlers.intake.states import ReportForm

PAGE_SIZE = 8
SEARCH_RESULTS = 8
SEARCH_MIN = 2
SEARCH_MAX = 100


def _group_name(key: str) -> str:
    return {
        AgencyKind.OPD.value: _("Government offices (dinas, badan)"),
        AgencyKind.BUMD.value: _("Regional companies (e.g. PDAM)"),
        AgencyKind.KECAMATAN.value: _("Kecamatan"),
        cb.VILLAGES: _("Kelurahan/Desa"),
    }.get(key, key)


def _is_kecamatan_key(list_key: str) -> bool:
    """``k<id>``: the kelurahan/desa list of one kecamatan (not the kind "kecamatan")."""
    return list_key.startswith("k") and parse_row_id(list_key[1:]) is not None


async def _refuse(callback: CallbackQuery) -> None:
    # A payload this form never produced (forged, or from a directory that changed meanwhile).
    await callback.answer(r.stale_button(), show_alert=True)


# -- classification ----------------------------------------------------------------------------
async def classification_chosen(
    callback: CallbackQuery, callback_data: IntakeCb, form: Form, state: FSMContext, bot: Bot,
    settings: Settings, locale: str,
) -> None:
    if callback_data.value not in set(Classification):
        await _refuse(callback)
        return
    form.draft.classification = callback_data.value
    await callback.answer()
    note = _("✔️ Kind: {kind}").format(kind=r.classification_name(callback_data.value))
    await advance(bot, callback.from_user.id, state, form, Step.CLASSIFICATION, settings, locale, note)


# -- agency ------------------------------------------------------------------------------------
async def _choose_agency(
    callback: CallbackQuery, form: Form, state: FSMContext, bot: Bot, settings: Settings, locale: str,
    agency_id: int | None, name: str | None,
) -> None:
    form.draft.agency_chosen = True
    form.draft.agency_id = agency_id
    form.draft.agency_name = name
    await callback.answer()
    await advance(bot, callback.from_user.id, state, form, Step.AGENCY, settings, locale, r.agency_chosen(name))


async def _show_list(callback: CallbackQuery, form: Form, session: AsyncSession, list_key: str, page: int) -> None:
    up = None
    open_action = cb.PICK
    if _is_kecamatan_key(list_key):  # kelurahan/desa of one kecamatan
        kecamatan = await intake.kecamatan(session, int(list_key[1:]))
        if kecamatan is None:
            await _refuse(callback)
            return
        group = kecamatan.name
        found = await intake.villages_of(session, kecamatan.id, page, PAGE_SIZE)
        up = (cb.PAGE, f"{cb.VILLAGES}.0")
    else:
        kind = AgencyKind.KECAMATAN.value if list_key == cb.VILLAGES else list_key
        group = _group_name(list_key)
        found = await intake.agencies_of_kind(session, kind, page, PAGE_SIZE)
        if list_key == cb.VILLAGES:
            open_action = cb.KEC
    rows = found.agencies
    pages = page_count(found.total, PAGE_SIZE)
    await callback.answer()
    if not rows:
        text = r.agency_list_empty(group)
    else:
        text = r.agency_list_title(group, page, pages)
    markup = kb.agency_list_kb(
        form.form_id, [(a.id, a.name) for a in rows], list_key=list_key, page=page, pages=pages,
        open_action=open_action, up=up,
    )
    await show_in_place(callback, text, markup)


async def agency_kind(callback: CallbackQuery, callback_data: IntakeCb, form: Form, session: AsyncSession) -> None:
    if callback_data.value not in {AgencyKind.OPD, AgencyKind.BUMD, AgencyKind.KECAMATAN, cb.VILLAGES}:
        await _refuse(callback)
        return
    await _show_list(callback, form, session, callback_data.value, 0)


async def agency_page(callback: CallbackQuery, callback_data: IntakeCb, form: Form, session: AsyncSession) -> None:
    key, _sep, page = callback_data.value.rpartition(".")
    valid_key = key in {AgencyKind.OPD, AgencyKind.BUMD, AgencyKind.KECAMATAN, cb.VILLAGES} or _is_kecamatan_key(key)
    if not valid_key or not (page.isascii() and page.isdigit()) or int(page) > 10_000:
        await _refuse(callback)
        return
    await _show_list(callback, form, session, key, int(page))


async def agency_kecamatan(callback: CallbackQuery, callback_data: IntakeCb, form: Form, session: AsyncSession) -> None:
    if parse_row_id(callback_data.value) is None:
        await _refuse(callback)
        return
    await _show_list(callback, form, session, f"k{callback_data.value}", 0)


async def agency_groups(callback: CallbackQuery, form: Form) -> None:
    await callback.answer()
    text = r.prompt(Step.AGENCY, form.draft)
    await show_in_place(callback, text, kb.agency_kinds_kb(form.form_id))


async def agency_picked(
    callback: CallbackQuery, callback_data: IntakeCb, form: Form, state: FSMContext, bot: Bot,
    settings: Settings, locale: str, session: AsyncSession,
) -> None:
    agency_id = parse_row_id(callback_data.value)
    agency = await intake.choosable_agency(session, agency_id) if agency_id is not None else None
    if agency is None:
        await _refuse(callback)
        return
    await _choose_agency(callback, form, state, bot, settings, locale, agency.id, agency.name)


async def agency_unknown(
    callback: CallbackQuery, form: Form, state: FSMContext, bot: Bot, settings: Settings, locale: str
) -> None:
    await _choose_agency(callback, form, state, bot, settings, locale, None, None)


async def agency_search(message: Message, state: FSMContext, session: AsyncSession) -> None:
    found = await current(state)
    if found is None:
        return
    form = found[0]
    query = " ".join((message.text or "").split())
    if len(query) < SEARCH_MIN:
        await message.answer(r.search_refusal_too_short(), reply_markup=kb.agency_kinds_kb(form.form_id))
        return
    if len(query) > SEARCH_MAX:
        await message.answer(r.search_refusal_too_long(SEARCH_MAX), reply_markup=kb.agency_kinds_kb(form.form_id))
        return
    rows = await intake.search_agencies(session, query, SEARCH_RESULTS)
    if not rows:
        await message.answer(r.search_no_match(query), reply_markup=kb.agency_kinds_kb(form.form_id))
        return
    await message.answer(
        r.search_results(query), reply_markup=kb.agency_search_kb(form.form_id, [(a.id, a.name) for a in rows])
    )


# -- privacy -----------------------------------------------------------------------------------
async def privacy_chosen(
    callback: CallbackQuery, callback_data: IntakeCb, form: Form, state: FSMContext, bot: Bot,
    settings: Settings, locale: str,
) -> None:
    if callback_data.value not in set(Privacy):
        await _refuse(callback)
        return
    draft = form.draft
    draft.privacy = callback_data.value
    await callback.answer()
    note = _("✔️ Privacy: {privacy}").format(privacy=esc(r.privacy_name(callback_data.value)))
    # Made anonymous from the summary, after a location or files were given: the point is
    # coarsened now, and files no cleaner can strip wait for the citizen's choice again.
    if draft.protect_anonymity():
        note += "\n" + r.location_coarsened()
    unclean = draft.uncleanable() if draft.is_anonymous else []
    if unclean:
        draft.held += unclean
        draft.attachments = [a for a in draft.attachments if a not in unclean]
        note += "\n\n" + r.uncleanable_file_warning()
        await go_to(bot, callback.from_user.id, state, form, Step.ATTACHMENTS, settings, locale, note)
        return
    await advance(bot, callback.from_user.id, state, form, Step.PRIVACY, settings, locale, note)


def router() -> Router:
    r = Router(name=__name__)
    r.callback_query.filter(CurrentFormButton())
    r.callback_query.register(classification_chosen, pressed(Step.CLASSIFICATION, cb.SET))
    r.callback_query.register(agency_kind, pressed(Step.AGENCY, cb.KIND))
    r.callback_query.register(agency_page, pressed(Step.AGENCY, cb.PAGE))
    r.callback_query.register(agency_kecamatan, pressed(Step.AGENCY, cb.KEC))
    r.callback_query.register(agency_groups, pressed(Step.AGENCY, cb.KINDS))
    r.callback_query.register(agency_picked, pressed(Step.AGENCY, cb.PICK))
    r.callback_query.register(agency_unknown, pressed(Step.AGENCY, cb.UNKNOWN))
    r.message.register(agency_search, ReportForm.agency, F.text, ~F.text.startswith("/"))
    r.callback_query.register(privacy_chosen, pressed(Step.PRIVACY, cb.SET))
    return r
