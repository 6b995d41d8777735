"""Service-level tests: who acts (``bot.domain.access.Actor`` from a citizen row), and the
casework dependencies."""

from __future__ import annotations

from bot.domain.access import COMMAND_LINE, Actor
from bot.domain.workdays import WorkCalendar
from bot.i18n import build_i18n
from bot.services.casework.core import Casework
from bot.ui.notifier import OutboxNotifier
from storage.models import Citizen

__all__ = ["COMMAND_LINE", "as_admin", "as_citizen", "as_officer", "make_casework"]


def make_casework(calendar: WorkCalendar | None = None) -> Casework:
    """The casework dependencies as build_app makes them, without an app."""
    calendar = calendar or WorkCalendar()
    return Casework(OutboxNotifier(build_i18n("id"), calendar), calendar)


def as_citizen(person: Citizen) -> Actor:
    return Actor(citizen_id=person.id, telegram_id=person.telegram_id)


def as_admin(person: Citizen) -> Actor:
    return Actor(citizen_id=person.id, telegram_id=person.telegram_id, is_admin=True)


def as_officer(person: Citizen, *agency_ids: int) -> Actor:
    return Actor(citizen_id=person.id, telegram_id=person.telegram_id, agency_ids=frozenset(agency_ids))
