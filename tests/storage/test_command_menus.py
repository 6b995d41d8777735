"""What each chat's command menu was last set to, per bot, on both databases."""

from __future__ import annotations

from bot.services import command_menus


async def test_menus_are_remembered_per_bot_and_chat_and_forgotten(session_factory):
    async with session_factory() as s:
        await command_menus.menu_given(s, 1, 9000, "a" * 64)
        await command_menus.menu_given(s, 1, 9000, "b" * 64)  # updated in place
        await command_menus.menu_given(s, 1, 0, "c" * 64)
        await command_menus.menu_given(s, 2, 9000, "d" * 64)  # another bot on the same database
    async with session_factory() as s:
        assert await command_menus.given_menus(s, 1) == {9000: "b" * 64, 0: "c" * 64}
        assert await command_menus.given_menu(s, 2, 9000) == "d" * 64
        await command_menus.menu_given(s, 1, 9000, None)
        assert await command_menus.given_menus(s, 1) == {0: "c" * 64}
        assert await command_menus.given_menu(s, 1, 12345) is None
