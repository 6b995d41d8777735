"""Every router, in the order they see updates, one parent router per audience.

Routers are built by functions, so each Dispatcher (one per process, one per test) gets fresh
ones: aiogram attaches a router to one parent only.

The order, top to bottom; the first handler whose filters match takes the update:
1. errors: the last line of defence sees every failure first; then group chats: every message
   in a group stops there (linking a group to an agency; silence for the rest), so the
   audiences below see private chats only, and button presses from anywhere;
2. /batal and every dialog's Batal button (``handlers/cancel.py``), for every role and state;
   officer invite deep links (``/start inv_...``) and walk-ins' claim links (``/start claim_...``,
   ``/klaim``), open to everyone and before the plain /start;
3. the admin audience, then the officer audience: each parent router carries the role filter
   (``bot/filters.py``) for messages and button presses alike, so nothing inside repeats it.
   Their form steps let /commands through, and a person who is both takes the admin path;
4. the citizen audience (everyone): the commands that work from anywhere (/start, /bantuan)
   before the form steps that would otherwise take their text; the reporter's
   free-text answer after the form and the commands;
5. the fallback, last: a pointer for unknown messages and an answer for every button nobody
   took, so a stale button, or a staff button pressed by someone without the role (forged, or
   an officer revoked since), is refused with an alert, never left spinning.
"""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Filter

from bot.filters import PRIVATE_CHAT, IsAdmin, IsOfficer
from bot.routing import flatten
from handlers import (
    admin_audit,
    admin_broadcast,
    admin_case_extras,
    admin_data,
    admin_directory,
    admin_groups,
    admin_officers,
    admin_overdue,
    admin_stats,
    admin_verify,
    admin_walk_in,
    cancel,
    checkin,
    claim,
    errors,
    fallback,
    group_chats,
    help,
    intake,
    invites,
    kecamatan,
    my_reports,
    officer,
    privacy,
    reporter,
    settings,
    start,
    templates,
    withdraw,
)


def audience(name: str, role: Filter | None, *children: Router, private_only: bool = False) -> Router:
    """A parent router for one audience; ``role`` gates messages and callback queries,
    ``private_only`` messages from private chats.

    Its routers' handlers are moved into it (``bot/routing.flatten``), in the same order: an
    update reaches the same handler without visiting each feature's router on the way.
    """
    parent = Router(name=name)
    if role is not None:
        parent.message.filter(role)
        parent.callback_query.filter(role)
    if private_only:
        parent.message.filter(PRIVATE_CHAT)
    parent.include_routers(*children)
    return flatten(parent)


def admins() -> Router:
    return audience(
        "admin", IsAdmin(),
        invites.admin_router(),
        admin_officers.router(),
        admin_verify.router(),
        admin_case_extras.router(),  # the card's category and SP4N-LAPOR! number
        admin_walk_in.router(),  # /lapor_untuk: then the citizens' form, below
        admin_broadcast.router(),
        admin_stats.router(),
        admin_overdue.router(),  # the escalation's "show all"
        admin_directory.router(),
        admin_audit.router(),
        admin_groups.router(),  # confirming linked group chats, /grup
        admin_data.router(),  # a citizen's data request made outside the bot
        templates.router(),  # global templates
    )


def officers() -> Router:
    return audience("officer", IsOfficer(), officer.router(), kecamatan.router(), templates.router())


def citizens() -> Router:
    return audience(
        "citizen", None,
        start.router(),
        # The report form before help: /bantuan in the form answers, then re-asks the step.
        # Its steps let every other /command through to the routers below.
        intake.router(),
        help.router(),
        privacy.router(),
        settings.router(),  # /pengaturan: buttons only
        my_reports.router(),
        withdraw.router(),  # from a report's view in /laporan; its reason step before free text
        # The reporter's answer to an officer's question: free text outside any form, so after
        # the form and the commands, before the fallback would take it.
        reporter.router(),
        checkin.router(),  # buttons only: its place among these is free
        # A citizen talks to the bot in private; what is said in a group is never a report.
        private_only=True,
    )


def get_routers() -> list[Router]:
    return [
        errors.router(),
        # Everything said in a group stops here: linking commands, the bot added or removed, and
        # silence for the rest (nothing in a group is a report or an answer to a reporter).
        group_chats.router(),
        # Everyone's, in private chats: /batal and the dialogs' Batal buttons, before any step
        # could take them as text; officer invite links; a walk-in's claim of their report
        # (/start claim_..., /klaim).
        audience("everyone", None, cancel.router(), invites.deep_link_router(), claim.router(), private_only=True),
        admins(),
        officers(),
        citizens(),
        fallback.router(),
    ]
