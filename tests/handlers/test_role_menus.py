"""Each role sees its own commands: the ☰ menu per chat and /bantuan.

Admins from ``[roles] admin_ids`` get theirs at start-up, an officer at redemption, a revoked
officer or a removed admin loses it; a restart with nothing changed sends nothing; a Bot API
failure at start-up never stops the bot.
"""

from __future__ import annotations

import functools
import re

from aiogram.methods import DeleteMyCommands, SetMyCommands
from aiogram.types import BotCommandScopeChat, BotCommandScopeDefault

from bot import commands
from bot.commands import sync_menus
from bot.retry import retry_transient
from bot.ui.citizen_callbacks import LanguageCb
from storage.models import Agency
from tests.handlers.harness import Fault, Harness

ADMIN_ID = 9000
LINK_RE = re.compile(r"start=(inv_[A-Za-z0-9_-]{32})")


def _menus(requests, chat_id: int) -> list[SetMyCommands]:
    return [r for r in requests if isinstance(r, SetMyCommands) and isinstance(r.scope, BotCommandScopeChat)
            and r.scope.chat_id == chat_id]


def _deleted(requests, chat_id: int) -> bool:
    return any(isinstance(r, DeleteMyCommands) and r.scope.chat_id == chat_id for r in requests)


def _names(menu: SetMyCommands) -> set[str]:
    return {c.command for c in menu.commands}


async def _start(h: Harness, admin_ids: list[int] | None = None) -> int:
    mark = h.mark()
    await sync_menus(h.app.bot, h.app.i18n, h.app.session_factory,
                     h.app.settings.roles.admin_ids if admin_ids is None else admin_ids)
    return mark


async def _officer(h: Harness, admin, officer) -> None:
    async with h.app.session_factory() as s:
        s.add(Agency(name="Dinas PUPR", kind="opd", code="PUPR", aliases=[]))
        await s.commit()
    await h.send(admin, "/undang")
    await h.press(admin, h.last(admin), h.last(admin).button("Dinas PUPR"))
    await h.send(officer, f"/start {LINK_RE.search(h.last_text(admin)).group(1)}")


async def _real_start(h: Harness, monkeypatch) -> int:
    """The dispatcher's start-up hook as `lapor-bot run` fires it, without the background work."""
    async def no_background() -> None:
        pass

    monkeypatch.setattr(h.app, "start_background", no_background)
    mark = h.mark()
    await h.app.dp.emit_startup(bot=h.app.bot)
    return mark


async def test_admins_from_the_config_get_the_admin_menu_at_start_once(tmp_path, monkeypatch):
    async with Harness.create(tmp_path, roles={"admin_ids": [9000, 9001]}) as h:
        mark = await _real_start(h, monkeypatch)
        requests = h.since(mark)
        for admin_id in (9000, 9001):
            (menu,) = _menus(requests, admin_id)
            assert {"verifikasi", "umumkan", "undang", "templat", "lapor", "batal"} <= _names(menu)
            assert "kotak" not in _names(menu)
        defaults = [r for r in requests if isinstance(r, SetMyCommands)
                    and isinstance(r.scope, BotCommandScopeDefault)]
        assert {r.language_code for r in defaults} == {None, "en"}
        assert all("verifikasi" not in _names(r) for r in defaults)
        # Issue 13: the citizen's settings are in everyone's menu, and in the admins' own.
        assert all("pengaturan" in _names(r) for r in defaults)
        assert "pengaturan" in _names(_menus(requests, 9000)[0])

        # A restart with nothing changed asks Telegram for nothing.
        mark = await _real_start(h, monkeypatch)
        assert not [r for r in h.since(mark) if isinstance(r, (SetMyCommands, DeleteMyCommands))]


async def test_an_admin_taken_out_of_the_config_loses_the_menu_at_the_next_start(tmp_path):
    async with Harness.create(tmp_path, roles={"admin_ids": [9000, 9001]}) as h:
        await _start(h)
        mark = await _start(h, admin_ids=[9000])
        assert _deleted(h.since(mark), 9001) and not _deleted(h.since(mark), 9000)
        mark = await _start(h, admin_ids=[9000])
        assert not _deleted(h.since(mark), 9001)  # once is enough


async def test_officer_menu_at_redemption_kept_at_start_removed_at_revocation(tmp_path):
    async with Harness.create(tmp_path) as h:
        admin, budi = h.user(ADMIN_ID, "Admin"), h.user(1001, "Budi")
        await _start(h)
        mark = h.mark()
        await _officer(h, admin, budi)
        (menu,) = _menus(h.since(mark), 1001)
        assert {"kotak", "templat", "lapor", "batal"} <= _names(menu)
        assert not {"verifikasi", "umumkan", "undang"} & _names(menu)

        mark = await _start(h)  # the officer's menu is remembered: nothing to send
        assert not _menus(h.since(mark), 1001)

        await h.send(admin, "/petugas")
        await h.press(admin, h.last(admin), h.last(admin).button("Dinas PUPR"))
        mark = h.mark()
        await h.press(admin, h.last(admin), h.last(admin).button("Ya, cabut"))
        assert _deleted(h.since(mark), 1001)
        mark = await _start(h)
        assert not _menus(h.since(mark), 1001) and not _deleted(h.since(mark), 1001)


async def test_an_officer_in_the_config_as_admin_gets_both_menus_once(tmp_path):
    async with Harness.create(tmp_path, roles={"admin_ids": [9000, 1001]}) as h:
        await _officer(h, h.user(ADMIN_ID, "Admin"), h.user(1001, "Budi"))
        mark = await _start(h)
        menus = _menus(h.since(mark), 1001)
        assert len(menus) <= 1
        names = [c.command for c in (menus or _menus(h.requests, 1001))[-1].commands]
        assert {"kotak", "verifikasi"} <= set(names) and len(names) == len(set(names))


async def test_a_transient_bot_api_failure_at_start_is_retried(tmp_path, monkeypatch):
    monkeypatch.setattr(commands, "retry_transient", functools.partial(retry_transient, delay=0))
    async with Harness.create(tmp_path) as h:
        h.telegram.fail(SetMyCommands, Fault.server_error())
        mark = await _start(h)
        assert _menus(h.since(mark), ADMIN_ID)


async def test_telegram_down_for_the_whole_start_never_stops_it(tmp_path, monkeypatch):
    monkeypatch.setattr(commands, "retry_transient", functools.partial(retry_transient, delay=0))
    async with Harness.create(tmp_path) as h:
        h.telegram.fail(SetMyCommands, Fault.server_error(), times=100)
        await _start(h)  # logs, does not raise
        h.telegram._faults.clear()
        mark = await _start(h)  # nothing was remembered as given: the next start sets it
        assert _menus(h.since(mark), ADMIN_ID)


async def test_help_lists_the_commands_of_the_roles_one_has(tmp_path):
    async with Harness.create(tmp_path) as h:
        admin, budi, warga = h.user(ADMIN_ID, "Admin"), h.user(1001, "Budi"), h.user(1002, "Warga")
        await _officer(h, admin, budi)
        helps = {}
        for who in (admin, budi, warga):
            await h.send(who, "/bantuan")
            helps[who.id] = h.last_text(who)
        assert "/lapor" in helps[1002] and "/kotak" not in helps[1002] and "/verifikasi" not in helps[1002]
        assert "/kotak" in helps[1001] and "/templat" in helps[1001] and "/verifikasi" not in helps[1001]
        assert "/verifikasi" in helps[ADMIN_ID] and "/umumkan" in helps[ADMIN_ID] and "/kotak" not in helps[ADMIN_ID]


async def test_a_staff_menu_follows_the_language(tmp_path):
    async with Harness.create(tmp_path) as h:
        admin = h.user(ADMIN_ID, "Admin")
        await _start(h)
        await h.send(admin, "/bahasa")
        mark = h.mark()
        await h.press(admin, h.last(admin), LanguageCb(code="en").pack())
        (menu,) = _menus(h.since(mark), ADMIN_ID)
        assert "Reports waiting for verification" in {c.description for c in menu.commands}

        warga = h.user(1002, "Warga")  # a citizen's language changes nothing of the menus
        await h.send(warga, "/bahasa")
        mark = h.mark()
        await h.press(warga, h.last(warga), LanguageCb(code="en").pack())
        assert not [r for r in h.since(mark) if isinstance(r, (SetMyCommands, DeleteMyCommands))]
