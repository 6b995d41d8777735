"""Cancel means cancel: /batal and the "Batal" button leave every state of every dialog of every
role, say what was dropped, and /bantuan names the dialog one is in.

The states are found, not listed: every ``StatesGroup`` in the product's modules is walked, so a
dialog added later without a name in ``bot/ui/dialogs.py`` fails here, and so does one whose
state some handler would keep on /batal.
"""

from __future__ import annotations

import importlib
import pkgutil

import pytest
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import ReplyKeyboardRemove

import bot
import handlers
from bot.ui.dialogs import DIALOGS, DialogCancelCb
from tests.handlers.harness import Harness

ADMIN_ID = 9000


def _product_groups() -> list[type[StatesGroup]]:
    for package in (handlers, bot):
        for module in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            if not module.name.endswith("__main__"):  # runs the command line
                importlib.import_module(module.name)
    found: list[type[StatesGroup]] = []
    todo = list(StatesGroup.__subclasses__())
    while todo:
        group = todo.pop()
        todo.extend(group.__subclasses__())
        if group.__module__.split(".")[0] in {"handlers", "bot"}:
            found.append(group)
    return sorted(found, key=lambda g: g.__name__)


GROUPS = _product_groups()
STATES: list[State] = [s for g in GROUPS for s in g.__all_states__]


def test_the_walk_finds_the_dialogs_and_each_is_named():
    names = {g.__name__ for g in GROUPS}
    # The walk itself works (it would pass vacuously on an empty list).
    assert {"ReportForm", "BroadcastForm", "InviteForm", "VerifyForm", "OfficerForm", "ReporterForm"} <= names
    assert names == set(DIALOGS), "every dialog is named in bot/ui/dialogs.py, and only real ones"


def _t(h: Harness, text: object) -> str:
    with h.app.i18n.context(), h.app.i18n.use_locale("id"):
        return str(text)


async def _in_state(h: Harness, user_id: int, state: State) -> None:
    ctx = h.app.dp.fsm.get_context(bot=h.app.bot, chat_id=user_id, user_id=user_id)
    await ctx.set_state(state)
    await ctx.set_data({"report_id": 1, "action": "ask", "form": "f1"})


async def _state(h: Harness, user_id: int) -> str | None:
    return await h.app.dp.fsm.get_context(bot=h.app.bot, chat_id=user_id, user_id=user_id).get_state()


@pytest.mark.parametrize("user_id", [ADMIN_ID, 1002], ids=["admin", "citizen"])
async def test_batal_leaves_every_state_and_says_what_was_cancelled(tmp_path, user_id):
    async with Harness.create(tmp_path) as h:
        user = h.user(user_id, "Someone")
        for state in STATES:
            dialog = DIALOGS[state.group.__name__]
            await _in_state(h, user_id, state)
            await h.send(user, "/batal")
            assert await _state(h, user_id) is None, state.state
            assert h.last_text(user) == _t(h, dialog.cancelled), state.state
            assert isinstance(h.last(user).reply_markup, ReplyKeyboardRemove)


@pytest.mark.parametrize("user_id", [ADMIN_ID, 1002], ids=["admin", "citizen"])
async def test_the_batal_button_leaves_every_state_and_only_its_own_dialog(tmp_path, user_id):
    async with Harness.create(tmp_path) as h:
        user = h.user(user_id, "Someone")
        for state in STATES:
            group = state.group.__name__
            await _in_state(h, user_id, state)
            cq = await h.press(user, 4242, DialogCancelCb(d=group).pack())
            assert await _state(h, user_id) is None, state.state
            assert not h.answered(cq).show_alert
            assert h.last_text(user) == _t(h, DIALOGS[group].cancelled), state.state

            # Another dialog's old button does not cancel this one: it says it is over.
            other = next(name for name in DIALOGS if name != group)
            await _in_state(h, user_id, state)
            cq = await h.press(user, 4243, DialogCancelCb(d=other).pack())
            assert h.answered(cq).show_alert
            assert await _state(h, user_id) == state.state


@pytest.mark.parametrize("user_id", [ADMIN_ID, 1002], ids=["admin", "citizen"])
async def test_help_names_the_dialog_one_is_in(tmp_path, user_id):
    async with Harness.create(tmp_path) as h:
        user = h.user(user_id, "Someone")
        for state in STATES:
            await _in_state(h, user_id, state)
            await h.send(user, "/bantuan")
            text = "\n".join(s.text or "" for s in h.sent_to(user)[-2:])
            if state.group.__name__ == "ReportForm":
                assert "formulir laporan" in text, state.state
            else:
                assert _t(h, DIALOGS[state.group.__name__].name) in text, state.state
            assert "/batal" in text
            assert await _state(h, user_id) == state.state  # help never costs the dialog
            await h.send(user, "/batal")


async def test_nothing_to_cancel_says_so(tmp_path):
    async with Harness.create(tmp_path) as h:
        user = h.user(1002, "Warga")
        await h.send(user, "/batal")
        assert "Tidak ada formulir" in h.last_text(user)
        cq = await h.press(user, 4242, DialogCancelCb(d="BroadcastForm").pack())
        assert h.answered(cq).show_alert


async def _agency(h: Harness) -> None:
    from storage.models import Agency

    async with h.app.session_factory() as s:
        s.add(Agency(name="Dinas PUPR", kind="opd", code="PUPR", aliases=[]))
        await s.commit()


async def test_an_announcement_being_written_is_cancelled_and_the_next_text_is_no_draft(tmp_path):
    async with Harness.create(tmp_path) as h:
        admin = h.user(ADMIN_ID, "Admin")
        await h.send(admin, "/umumkan")
        prompt = h.last(admin)
        assert prompt.button("Batal")  # the compose step has its button too
        await h.send(admin, "/batal")
        assert "Pengumuman dibatalkan" in h.last_text(admin)
        await h.send(admin, "Halo semua")
        assert await _state(h, ADMIN_ID) is None
        assert "Siapa" not in h.last_text(admin)  # not asked for an audience: no draft was made

        await h.send(admin, "/umumkan")
        await h.press(admin, h.last(admin), h.last(admin).button("Batal"))
        assert await _state(h, ADMIN_ID) is None and "Pengumuman dibatalkan" in h.last_text(admin)


async def test_an_invitation_is_cancelled_by_command_and_by_button(tmp_path):
    async with Harness.create(tmp_path) as h:
        await _agency(h)
        admin = h.user(ADMIN_ID, "Admin")
        await h.send(admin, "/undang")
        await h.send(admin, "/batal")
        assert await _state(h, ADMIN_ID) is None and "Undangan dibatalkan" in h.last_text(admin)
        await h.send(admin, "/undang")
        await h.press(admin, h.last(admin), h.last(admin).button("Batal"))
        assert await _state(h, ADMIN_ID) is None and "Undangan dibatalkan" in h.last_text(admin)
