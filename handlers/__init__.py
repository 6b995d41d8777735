"""Every router, in the order they must see updates.

Order matters: errors first; deep links (officer invites) before the plain /start; commands that
work from anywhere (/batal, /bantuan) before the form steps that would otherwise take their text;
role routers before citizen ones; the catch-all fallback last.
"""

from __future__ import annotations

from aiogram import Router


def get_routers() -> list[Router]:
    from handlers import (
        admin_audit,
        admin_case_extras,
        admin_broadcast,
        admin_directory,
        admin_officers,
        admin_stats,
        admin_verify,
        checkin,
        errors,
        fallback,
        help,
        intake,
        invites,
        my_reports,
        officer,
        reporter,
        start,
    )

    routers = [
        errors.router,
        # -- feature routers are added here, in order --
        # Officer invite deep links (/start inv_...) before the plain /start.
        invites.router,
        # Admin routers before the citizen ones; their form step ignores /commands.
        invites.admin_router,
        admin_officers.router,
        # Casework: the admin queue and the officer's follow-up (their text steps ignore /commands).
        admin_verify.router,
        # The admin card's category and SP4N-LAPOR! number (its text step ignores /commands).
        admin_case_extras.router,
        officer.router,
        # The admin console (gated on roles.is_admin on each router).
        admin_broadcast.router,
        admin_stats.router,
        admin_directory.router,
        admin_audit.router,
        # Citizen commands that work from anywhere, before the form steps would take their text.
        start.router,
        # The report form before help: /bantuan in the form answers, then re-asks the step.
        # Its steps let every other /command through to the routers below.
        intake.router,
        help.router,
        my_reports.router,
        # The reporter's answer to an officer's question: free text outside any form, so after
        # the form and the commands, before the fallback would take it.
        reporter.router,
        # Buttons only (the check-in question), so its place among the citizen routers is free.
        checkin.router,
        fallback.router,
    ]
    for router in routers:
        # Module routers are singletons and aiogram attaches a router to one dispatcher only.
        # A process runs one Dispatcher at a time, but tests build a fresh app per test, so the
        # previous (closed) app's claim is released here.
        router._parent_router = None
    return routers
