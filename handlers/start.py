"""/start, /bahasa and the personal-data notice.

First contact: greeting and language choice, then the notice, accepted once with a button.
Afterwards /start greets and shows the menu. /start with an officer invite payload (``inv_...``)
is not ours: the invite router, placed before this one, takes it.
Nothing here touches a form in progress, so /start and /bahasa never cost one; agreeing to the
notice that /lapor showed starts the form (only when none is open).
"""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.commands import update_role_commands
from bot.config import PrivacySettings, Settings
from bot.domain.access import Actor
from bot.filters import PRIVATE_CHAT
from bot.i18n import LANGUAGES
from bot.services import categories
from bot.services.citizens import give_consent, set_language
from bot.ui.citizen_callbacks import (
    ConsentAction,
    ConsentCb,
    ConsentForReportCb,
    LanguageCb,
)
from bot.ui.citizen_keyboards import (
    citizen_menu_keyboard,
    consent_again_keyboard,
    consent_keyboard,
    language_keyboard,
)
from bot.ui.form_step import drop_buttons
from bot.ui.render import esc
from handlers.help import continue_hint
from storage.models import Citizen

INVITE_PREFIX = "inv_"


def _not_invite(message: Message, command: CommandObject) -> bool:
    return not (command.args or "").strip().startswith(INVITE_PREFIX)


# -- texts ---------------------------------------------------------------------------------------
def consent_notice_text(privacy: PrivacySettings) -> str:
    """The notice UU 27/2022 asks for: controller, purpose, legal basis, what is stored, who
    sees it, how long, the citizen's rights. Paragraphs are separate messages to translate."""
    contact = (
        _("You can also ask {controller} about your data: {contact}.").format(
            controller=esc(privacy.controller), contact=esc(privacy.contact))
        if privacy.contact else ""
    )
    paragraphs = [
        _("<b>Personal data notice</b>"),
        _("<b>Who is responsible:</b> {controller} runs this bot and is the controller of your "
          "personal data.").format(controller=esc(privacy.controller)),
        _("<b>Why:</b> to receive your complaints, aspirations and information requests, forward "
          "them to the agency that has authority, and tell you how they progress. Legal basis: "
          "your consent and the duty to handle complaints about public services (UU 25/2009, "
          "Perpres 76/2013), under the personal data protection law (UU 27/2022)."),
        _("<b>What is stored:</b> your Telegram user ID, name and username, the language you "
          "chose, what you write in your reports, and the files and locations you send. Until "
          "you agree, only your Telegram user ID and language are kept."),
        _("<b>Who sees it:</b> the district coordinators (LAPOR! admins) see everything; the "
          "agency your report is forwarded to sees the report and your name, never your "
          "username or Telegram ID. If you choose <b>anonymous</b> for a report, the agency "
          "never learns who you are; only the coordinators do."),
        retention_text(privacy),
        _("<b>Your rights:</b> to see and obtain what is stored about you, to withdraw your "
          "consent (processing stops within 3×24 hours), and to have your identity erased."),
        _("Use /privasi for that at any time."),
    ]
    if contact:
        paragraphs.append(contact)
    paragraphs.append(_("Do you agree?"))
    return "\n\n".join(paragraphs)


def retention_text(privacy: PrivacySettings) -> str:
    return _("<b>How long:</b> your reports are records of a public service and stay after they "
             "are closed; {days} days after closing, the link to you, the exact map point and "
             "file names are removed (sooner if you ask). What you wrote to officers goes "
             "{relayed} days after you wrote it once the report is closed, unfinished forms "
             "after {forms} days.").format(
        days=privacy.closed_report_days, relayed=privacy.relayed_text_days, forms=privacy.form_state_days)


def menu_text() -> str:
    return _(
        "<b>What I can do</b>\n"
        "/lapor: file a complaint, an aspiration or an information request; you get a tracking "
        "ID to follow it\n"
        "/laporan: your reports, their status and deadlines\n"
        "/status: check one report by its tracking ID\n"
        "/bantuan: help · /bahasa: change language\n"
        "/pengaturan: announcements, news about your reports, language\n"
        "/privasi: your data: see it, withdraw consent, erase it"
    )


async def ask_consent(bot: Bot, chat_id: int, privacy: PrivacySettings, *, for_report: bool = False) -> None:
    """Show the notice with its accept/decline buttons (also for other features that need it).

    ``for_report``: /lapor asked; agreeing then starts the form right away.
    """
    await bot.send_message(chat_id, consent_notice_text(privacy), reply_markup=consent_keyboard(for_report))


async def send_menu(bot: Bot, chat_id: int, greeting: str, state: str | None) -> None:
    text = f"{greeting}\n\n{menu_text()}"
    if state is not None:
        text += f"\n\n{continue_hint(state)}"
    await bot.send_message(chat_id, text, reply_markup=citizen_menu_keyboard())


# -- /start --------------------------------------------------------------------------------------
async def start(message: Message, citizen: Citizen, state: FSMContext, bot: Bot) -> None:
    # From the update, not the row: before consent the row holds no name.
    user = message.from_user
    name = esc(user.first_name if user else None) or _("there")
    if citizen.consent_at is not None:
        await send_menu(
            bot,
            message.chat.id,
            _("👋 Welcome back, {name}!").format(name=name),
            await state.get_state(),
        )
        return
    await message.answer(
        _(
            "👋 Hello, {name}! This is the Telegram channel of <b>SP4N-LAPOR!</b>, the national "
            "system for complaints about public services.\n"
            "\n"
            "Choose your language:"
        ).format(name=name),
        reply_markup=language_keyboard(citizen.language),
    )


async def choose_language(message: Message, locale: str) -> None:
    await message.answer(_("Choose your language:"), reply_markup=language_keyboard(locale))


async def apply_language(
    session: AsyncSession, citizen: Citizen, code: str, *, bot: Bot, i18n: I18n, actor: Actor,
) -> bool:
    """Store the citizen's language (/bahasa, and the language buttons of /pengaturan); staff
    get their command menu in it too. False for a language the bot does not speak (forged)."""
    if code not in LANGUAGES:
        return False
    await set_language(session, citizen, code)
    if actor.is_admin or actor.agency_ids:  # staff menus are in the chat's own language
        await update_role_commands(bot, i18n, session, citizen.telegram_id, code,
                                   officer=bool(actor.agency_ids), admin=actor.is_admin)
    return True


async def language_chosen(
    callback: CallbackQuery,
    callback_data: LanguageCb,
    session: AsyncSession,
    citizen: Citizen,
    state: FSMContext,
    bot: Bot,
    i18n: I18n,
    settings: Settings,
    actor: Actor,
) -> None:
    if not await apply_language(session, citizen, callback_data.code, bot=bot, i18n=i18n, actor=actor):
        await callback.answer(_("This button is no longer active."), show_alert=True)
        return
    # The middleware picked this update's locale before the change; answer in the new one.
    with i18n.use_locale(callback_data.code):
        await callback.answer(_("Language: English"))
        if isinstance(callback.message, Message):
            await callback.message.edit_text(_("Language: English ✓"), reply_markup=None)
        if citizen.consent_at is None:
            await ask_consent(bot, callback.from_user.id, settings.privacy)
        elif (current := await state.get_state()) is not None:
            await bot.send_message(callback.from_user.id, continue_hint(current))


# -- consent -------------------------------------------------------------------------------------
# The notice /lapor showed carries ConsentForReportCb: the same answers, and agreeing goes straight
# on to the form. The callback data is only a wish; consent and form state are checked here.
def _for_report(callback_data: ConsentCb | ConsentForReportCb) -> bool:
    return isinstance(callback_data, ConsentForReportCb)


async def consent_accepted(
    callback: CallbackQuery,
    callback_data: ConsentCb | ConsentForReportCb,
    session: AsyncSession,
    citizen: Citizen,
    state: FSMContext,
    bot: Bot,
    settings: Settings,
    locale: str,
) -> None:
    if citizen.consent_at is not None:
        await callback.answer(_("You have already agreed."))
        await drop_buttons(callback)  # an old notice cannot be answered twice
        return
    await give_consent(session, citizen, callback.from_user)
    await callback.answer(_("Thank you!"))
    await drop_buttons(callback)
    current = await state.get_state()
    if _for_report(callback_data) and current is None:
        # Imported here: the form's commands import this module for ask_consent.
        from handlers.intake.flow import begin_form

        await begin_form(
            bot, callback.from_user.id, state, settings, locale,
            note=_("✅ Thank you. Let us start your report."),
            categories=await categories.choices(session, locale),
        )
        return
    await send_menu(
        bot,
        callback.from_user.id,
        _("✅ Thank you. You can now file reports and follow them here."),
        current,
    )


async def consent_declined(
    callback: CallbackQuery, callback_data: ConsentCb | ConsentForReportCb, citizen: Citizen, bot: Bot,
    state: FSMContext,
) -> None:
    if citizen.consent_at is not None:
        # An old notice pressed after agreeing; withdrawing consent is a request to the admin.
        await callback.answer(_("You have already agreed."))
        await drop_buttons(callback)
        return
    # Nothing of theirs is kept without consent: a message waiting to become a report goes too.
    await state.set_data({})
    await callback.answer()
    await drop_buttons(callback)
    await bot.send_message(
        callback.from_user.id,
        _(
            "Without your agreement no report can be filed here: we cannot handle a report "
            "without storing the data the notice describes.\n"
            "\n"
            "You can read the notice again and agree at any time."
        ),
        reply_markup=consent_again_keyboard(_for_report(callback_data)),
    )


async def consent_shown_again(
    callback: CallbackQuery, callback_data: ConsentCb | ConsentForReportCb, citizen: Citizen, bot: Bot,
    settings: Settings,
) -> None:
    await drop_buttons(callback)
    if citizen.consent_at is not None:
        await callback.answer(_("You have already agreed."))
        return
    await callback.answer()
    await ask_consent(bot, callback.from_user.id, settings.privacy, for_report=_for_report(callback_data))


def router() -> Router:
    r = Router(name=__name__)
    r.message.filter(PRIVATE_CHAT)
    r.message.register(start, CommandStart(), _not_invite)
    r.message.register(choose_language, Command("bahasa", "language"))
    r.callback_query.register(language_chosen, LanguageCb.filter())
    r.callback_query.register(consent_accepted, ConsentForReportCb.filter(F.action == ConsentAction.ACCEPT))
    r.callback_query.register(consent_accepted, ConsentCb.filter(F.action == ConsentAction.ACCEPT))
    r.callback_query.register(consent_declined, ConsentForReportCb.filter(F.action == ConsentAction.DECLINE))
    r.callback_query.register(consent_declined, ConsentCb.filter(F.action == ConsentAction.DECLINE))
    r.callback_query.register(consent_shown_again, ConsentForReportCb.filter(F.action == ConsentAction.SHOW))
    r.callback_query.register(consent_shown_again, ConsentCb.filter(F.action == ConsentAction.SHOW))
    return r
