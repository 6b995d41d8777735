"""What each kind of reader may learn about the person who filed a report.

Identity is the most sensitive data in the system: leaks of anonymous reporters have ended in
police cases (domain.md), and Perpres 76/2013 keeps a complainant's identity confidential. An
agency therefore never gets the means to reach or trace a reporter outside the system (their
@username, their Telegram id), and nothing at all about an anonymous one. Renderers ask this
module which parts they may show (``bot/ui/case_render.py``, ``bot/services/export.py``).
"""

from __future__ import annotations

from enum import StrEnum

from bot.domain.enums import Privacy


class Viewer(StrEnum):
    AGENCY = "agency"  # liaison officers: cards, notifications, the timeline
    ADMIN = "admin"  # the coordinating admins, in the chat: they may have to reach the reporter
    EXPORT = "export"  # the annual evaluation file, which leaves the system


class IdentityPart(StrEnum):
    NAME = "name"  # first and last name as on Telegram
    USERNAME = "username"
    TELEGRAM_ID = "telegram_id"  # also what a tg://user link carries


_ALL = frozenset(IdentityPart)
_NOTHING: frozenset[IdentityPart] = frozenset()


def reporter_identity(viewer: Viewer, privacy: Privacy | str) -> frozenset[IdentityPart]:
    """The parts of the reporter's identity ``viewer`` may see on a report with ``privacy``."""
    anonymous = privacy == Privacy.ANONYMOUS
    match viewer:
        case Viewer.ADMIN:
            return _ALL
        case Viewer.AGENCY:
            return _NOTHING if anonymous else frozenset({IdentityPart.NAME})
        case Viewer.EXPORT:
            return _NOTHING if anonymous else frozenset({IdentityPart.NAME, IdentityPart.USERNAME})
