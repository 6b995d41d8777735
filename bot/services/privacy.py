"""What an officer may learn about a reporter, and what an admin sees.

Identity (names, username, phone, Telegram id) is the most sensitive data in the system: leaks of
anonymous reporters have ended in police cases (domain.md). Everything that goes to an agency
asks this module how to name the reporter; nothing else formats a reporter for an officer.
"""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from bot.domain.enums import Privacy
from bot.ui.render import esc
from storage.models import Citizen, Report


def identity_hidden_from_agency(report: Report) -> bool:
    return report.privacy == Privacy.ANONYMOUS


def reporter_for_officer(report: Report, reporter: Citizen | None) -> str:
    """HTML. Anonymous: a fixed label, nothing derived from the person. Otherwise the display
    name only: officers never get a username or a Telegram id, which would let them contact or
    trace the reporter outside the system."""
    if identity_hidden_from_agency(report) or reporter is None:
        return _("Anonymous reporter")
    name = " ".join(p for p in (reporter.first_name, reporter.last_name) if p)
    return esc(name) if name else _("Reporter")


def reporter_for_admin(reporter: Citizen | None) -> str:
    """HTML. Coordinating admins see who filed it, including the Telegram id to reach them."""
    if reporter is None:
        return _("unknown")
    name = " ".join(p for p in (reporter.first_name, reporter.last_name) if p) or "—"
    parts = [f'<a href="tg://user?id={reporter.telegram_id}">{esc(name)}</a>']
    if reporter.username:
        parts.append("@" + esc(reporter.username))
    parts.append(f"id <code>{reporter.telegram_id}</code>")
    return " · ".join(parts)


def confidential(report: Report) -> bool:
    return report.privacy == Privacy.CONFIDENTIAL
