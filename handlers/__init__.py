"""Every router, in the order they must see updates.

Order matters: errors first; deep links (officer invites) before the plain /start; commands that
work from anywhere (/batal, /bantuan) before the form steps that would otherwise take their text;
role routers before citizen ones; the catch-all fallback last.
"""

from __future__ import annotations

from aiogram import Router


def get_routers() -> list[Router]:
    from handlers import errors, fallback

    routers = [
        errors.router,
        # -- feature routers are added here, in order --
        fallback.router,
    ]
    for router in routers:
        # Module routers are singletons and aiogram attaches a router to one dispatcher only.
        # A process runs one Dispatcher at a time, but tests build a fresh app per test, so the
        # previous (closed) app's claim is released here.
        router._parent_router = None
    return routers
