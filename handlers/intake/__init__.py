"""/lapor: the citizen's report form, one step per state (see ``states.ReportForm``).

Order inside: commands (/bantuan, /lapor; /batal is handlers/cancel.py, before every audience)
first, then the question a crash may have kept from the citizen (``resume``), then the steps,
then the shared guard that refuses stale buttons and answers input a step cannot use.
"""

from __future__ import annotations

from aiogram import Router

from bot.filters import PRIVATE_CHAT
from handlers.intake import category, choices, commands, files, from_text, guard, nearby, resume, summary, texts
from handlers.intake.flow import remind_step
from handlers.intake.states import ReportForm

__all__ = ["ReportForm", "remind_step", "router"]


def router() -> Router:
    r = Router(name=__name__)
    r.message.filter(PRIVATE_CHAT)
    r.include_routers(commands.router(), resume.router(), from_text.router(), choices.router(), category.router(),
                      texts.router(), files.router(), nearby.router(), summary.router(), guard.router())
    return r
