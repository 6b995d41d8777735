"""/bantuan: what the bot is, the kinds of report, privacy, deadlines and commands.

Works from anywhere, including the middle of a form, and never touches the FSM state: help
must not cost the citizen what they have typed so far.
"""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.commands import ADMIN_COMMANDS, OFFICER_COMMANDS
from bot.domain.access import Actor
from bot.domain.deadlines import FOLLOWUP_DAYS, REPLY_DAYS, VERIFY_DAYS
from bot.filters import PRIVATE_CHAT
from bot.ui.citizen_callbacks import CitizenMenuCb, MenuAction
from bot.ui.dialogs import dialog_of, group_of


def continue_hint(state: str | None) -> str:
    """The closing line of help and greetings: how to go on from where the user is, naming the
    dialog they are in (``state``: the FSM state, ``None`` outside any)."""
    dialog = dialog_of(state)
    if state is not None and group_of(state) == "ReportForm":
        return _(
            "You are in the middle of a report form: answer its last question to continue, "
            "or send /batal to cancel it."
        )
    if dialog is not None:
        return _("You are in the middle of {dialog}: answer its last question to continue, or send "
                 "/batal to cancel it.").format(dialog=dialog.name)
    if state is not None:  # a state nobody named (tests/handlers/test_cancel_everywhere.py forbids it)
        return _("Send /batal to cancel what you are doing.")
    return _("To begin, send /lapor.")


def help_text(state: str | None, *, officer: bool = False, admin: bool = False) -> str:
    body = _(
        "<b>Help</b>\n"
        "This bot is a Telegram channel of <b>SP4N-LAPOR!</b>, Indonesia's national system for "
        "complaints about public services. Your report goes to the district coordinators "
        "(LAPOR! admins), who forward it to the agency responsible for it.\n"
        "\n"
        "<b>What you can send</b>\n"
        "• <b>Complaint</b>: a problem with a public service.\n"
        "• <b>Aspiration</b>: a suggestion or an idea for a public service.\n"
        "• <b>Information request</b>: a question to a government agency.\n"
        "\n"
        "<b>Privacy</b>\n"
        "• <b>Regular</b>: the agency handling the report sees your name.\n"
        "• <b>Anonymous</b>: your identity is hidden from the agency; "
        "only the coordinators see it.\n"
        "• <b>Confidential</b>: the content of your report is never made public.\n"
        "\n"
        "<b>Deadlines</b> (working days, public holidays not counted)\n"
        "• Verification and forwarding by the admin: {verify} working days.\n"
        "• Follow-up and answer by the agency: {followup} working days.\n"
        "• Your reply to the answer: {reply} working days; without a reply the report is "
        "completed.\n"
        "\n"
        "<b>Commands</b>\n"
        "/lapor: file a report\n"
        "/laporan: my reports and their status\n"
        "/status: check one report by its tracking ID\n"
        "/bahasa: change language\n"
        "/pengaturan: announcements on or off, news at once or in a daily digest\n"
        "/privasi: your data: see it, withdraw consent, erase it\n"
        "/batal: cancel the form you are filling in\n"
        "/bantuan: this help"
    ).format(verify=VERIFY_DAYS, followup=FOLLOWUP_DAYS, reply=REPLY_DAYS)
    return f"{body}{_role_commands(officer=officer, admin=admin)}\n\n{continue_hint(state)}"


def _role_commands(*, officer: bool, admin: bool) -> str:
    """The staff's own commands, from the very lists their menus are made of."""
    text = ""
    if officer:
        text += "\n\n" + _("<b>Liaison officer commands</b>") + _lines(OFFICER_COMMANDS)
    if admin:
        text += "\n\n" + _("<b>Coordinator commands</b>") + _lines(ADMIN_COMMANDS)
    return text


def _lines(items) -> str:
    return "".join(f"\n/{name}: {desc}" for name, desc in items)


async def show_help(message: Message, state: FSMContext, actor: Actor) -> None:
    await message.answer(help_for(actor, await state.get_state()))


async def show_help_button(callback: CallbackQuery, state: FSMContext, bot: Bot, actor: Actor) -> None:
    await callback.answer()
    await bot.send_message(callback.from_user.id, help_for(actor, await state.get_state()))


def help_for(actor: Actor, state: str | None) -> str:
    return help_text(state, officer=bool(actor.agency_ids), admin=actor.is_admin)


def router() -> Router:
    r = Router(name=__name__)
    r.message.filter(PRIVATE_CHAT)
    r.message.register(show_help, Command("bantuan", "help"))
    r.callback_query.register(show_help_button, CitizenMenuCb.filter(F.action == MenuAction.HELP))
    return r
