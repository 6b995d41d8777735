"""Invites and revoking through the real dispatcher: admin, new officer, and forgers."""

from __future__ import annotations

import re

from aiogram.methods import DeleteMyCommands, SetMyCommands
from sqlalchemy import func, select

from bot.services.officers import MAX_FAILURES
from bot.services.roles import resolve_actor
from bot.ui.officer_admin import InvitePickCb, OfficerAction, OfficerCb
from storage.models import Agency, Citizen, Officer, OfficerInvite
from tests.handlers.harness import Harness

ADMIN_ID = 9000
LINK_RE = re.compile(r"https://t\.me/lapor_test_bot\?start=(inv_[A-Za-z0-9_-]{32})")


async def _seed(h: Harness) -> dict[str, int]:
    async with h.app.session_factory() as s:
        pupr = Agency(name="Dinas PUPR", kind="opd", code="PUPR", aliases=["Pekerjaan Umum"])
        dinkes = Agency(name="Dinas Kesehatan", kind="opd", code="DINKES", aliases=[])
        s.add_all([pupr, dinkes])
        await s.commit()
        return {"pupr": pupr.id, "dinkes": dinkes.id}


async def _agency_ids(h: Harness, telegram_id: int) -> frozenset[int]:
    async with h.app.session_factory() as s:
        citizen = await s.scalar(select(Citizen).where(Citizen.telegram_id == telegram_id))
        return (await resolve_actor(s, citizen, [ADMIN_ID])).agency_ids


async def _count(h: Harness, model) -> int:
    async with h.app.session_factory() as s:
        return await s.scalar(select(func.count()).select_from(model))


async def _invite_link(h: Harness, admin, agency_label: str) -> str:
    await h.send(admin, "/undang")
    await h.press(admin, h.last(admin), h.last(admin).button(agency_label))
    match = LINK_RE.search(h.last_text(admin))
    assert match, h.last_text(admin)
    return match.group(1)


def _t(h: Harness, msgid: str) -> str:
    return h.app.i18n.gettext(msgid, locale="id")


async def test_admin_invites_officer_binds_and_gets_a_menu(tmp_path):
    async with Harness.create(tmp_path) as h:
        ids = await _seed(h)
        admin, budi = h.user(ADMIN_ID, "Admin"), h.user(1001, "Budi", username="budi_pupr")
        payload = await _invite_link(h, admin, "Dinas PUPR")
        assert "Dinas PUPR" in h.last_text(admin)

        mark = h.mark()
        await h.send(budi, f"/start {payload}")
        assert "Dinas PUPR" in h.last_text(budi)
        menus = [r for r in h.since(mark) if isinstance(r, SetMyCommands)]
        assert len(menus) == 1 and menus[0].scope.chat_id == 1001
        assert "kotak" in {c.command for c in menus[0].commands}
        assert await _agency_ids(h, 1001) == {ids["pupr"]}

        # The link is spent: someone else opening it is refused and not bound.
        sari = h.user(1002, "Sari")
        await h.send(sari, f"/start {payload}")
        assert h.last_text(sari) == _t(h, "This invite link has already been used. Ask the LAPOR! "
                                          "admin for a new one.")
        assert await _agency_ids(h, 1002) == frozenset()


async def test_admin_can_type_the_agency_name(tmp_path):
    async with Harness.create(tmp_path) as h:
        await _seed(h)
        admin = h.user(ADMIN_ID, "Admin")
        await h.send(admin, "/undang")
        await h.send(admin, "kesehatan")
        labels = [label for label, _ in h.last(admin).buttons]
        assert labels == ["Dinas Kesehatan", "✖️ Batal"]  # the match, and the way out
        await h.press(admin, h.last(admin), h.last(admin).button("Kesehatan"))
        assert LINK_RE.search(h.last_text(admin))
        assert await _count(h, OfficerInvite) == 1


async def test_wrong_codes_are_rate_limited(tmp_path):
    async with Harness.create(tmp_path) as h:
        await _seed(h)
        admin, mallory = h.user(ADMIN_ID, "Admin"), h.user(6666, "Mallory")
        payload = await _invite_link(h, admin, "Dinas PUPR")
        invalid = _t(h, "This invite link is not valid. Check that you opened the whole link, or "
                        "ask the LAPOR! admin for a new one.")
        for n in range(MAX_FAILURES):
            await h.send(mallory, f"/start inv_{'x' * 31}{n}")
            assert h.last_text(mallory) == invalid
        await h.send(mallory, f"/start {payload}")
        assert h.last_text(mallory) == _t(
            h, "Too many attempts with invalid invite links. Please try again in an hour.")
        assert await _agency_ids(h, 6666) == frozenset()


async def test_admin_lists_and_revokes_with_confirmation(tmp_path):
    async with Harness.create(tmp_path) as h:
        ids = await _seed(h)
        admin, budi = h.user(ADMIN_ID, "Admin"), h.user(1001, "Budi", username="budi_pupr")
        await h.send(budi, f"/start {await _invite_link(h, admin, 'Dinas PUPR')}")
        await h.send(budi, f"/start {await _invite_link(h, admin, 'Dinas Kesehatan')}")

        await h.send(admin, "/petugas")
        listing = h.last(admin)
        assert "@budi_pupr" in listing.text and "1001" in listing.text
        assert "Dinas PUPR" in listing.text and "Dinas Kesehatan" in listing.text
        await h.press(admin, listing, listing.button("Dinas PUPR"))
        confirm = h.last(admin)
        assert confirm.method == "EditMessageText" and "Budi" in confirm.text
        # Nothing happens before the confirmation.
        assert await _agency_ids(h, 1001) == {ids["pupr"], ids["dinkes"]}

        mark = h.mark()
        yes = next(data for _, data in confirm.buttons if OfficerCb.unpack(data).action == OfficerAction.YES)
        await h.press(admin, confirm, yes)
        assert await _agency_ids(h, 1001) == {ids["dinkes"]}
        # Still an officer elsewhere: the officer menu stays (unchanged, so nothing is sent).
        assert not any(isinstance(r, (SetMyCommands, DeleteMyCommands)) and r.scope.chat_id == 1001
                       for r in h.since(mark))

        await h.send(admin, "/petugas")
        listing = h.last(admin)
        await h.press(admin, listing, listing.button("Dinas Kesehatan"))
        mark = h.mark()
        await h.press(admin, h.last(admin), h.last(admin).button(_t(h, "Yes, revoke")))
        assert await _agency_ids(h, 1001) == frozenset()
        assert any(isinstance(r, DeleteMyCommands) and r.scope.chat_id == 1001 for r in h.since(mark))


async def test_forged_admin_buttons_from_a_non_admin_change_nothing(tmp_path):
    async with Harness.create(tmp_path) as h:
        ids = await _seed(h)
        admin, budi, sari = h.user(ADMIN_ID, "Admin"), h.user(1001, "Budi"), h.user(1002, "Sari")
        await h.send(budi, f"/start {await _invite_link(h, admin, 'Dinas PUPR')}")
        invites_before = await _count(h, OfficerInvite)
        async with h.app.session_factory() as s:
            officer_id = await s.scalar(select(Officer.id))

        # An officer (not an admin) forges the admin's buttons and commands.
        for data in (
            InvitePickCb(agency_id=ids["dinkes"]).pack(),
            OfficerCb(action=OfficerAction.YES, officer_id=officer_id).pack(),
            OfficerCb(action=OfficerAction.ASK, officer_id=officer_id).pack(),
        ):
            cq = await h.press(budi, 77, data)
            assert h.answered(cq) is not None  # refused, but never left spinning
        cq = await h.press(sari, 78, OfficerCb(action=OfficerAction.YES, officer_id=officer_id).pack())
        assert h.answered(cq) is not None
        await h.send(sari, "/undang")
        await h.send(sari, "/petugas")
        assert not LINK_RE.search(h.last_text(sari)) and "1001" not in h.last_text(sari)

        assert await _count(h, OfficerInvite) == invites_before
        assert await _agency_ids(h, 1001) == {ids["pupr"]}
        async with h.app.session_factory() as s:
            assert (await s.get(Officer, officer_id)).revoked_at is None


async def test_redeeming_an_invite_is_audited_and_announced_to_the_admins(tmp_path):
    """Issue 10: a leaked link used by a stranger went unnoticed. Binding is now in /audit and
    every admin is told who joined which agency."""
    from storage.models import AuditLog
    from tests.handlers.casework_helpers import drain

    async with Harness.create(tmp_path, delivery={"per_chat_interval": 0, "global_rate": 1000}) as h:
        ids = await _seed(h)
        admin, budi = h.user(ADMIN_ID, "Admin"), h.user(1001, "Budi <x>", username="budi_pupr")
        payload = await _invite_link(h, admin, "Dinas PUPR")
        await h.send(budi, f"/start {payload}")
        await drain(h)
        joined = h.last_text(admin)
        assert "Budi &lt;x&gt; @budi_pupr" in joined and "<code>1001</code>" in joined
        assert "Dinas PUPR" in joined and "/petugas" in joined
        async with h.app.session_factory() as s:
            entry = await s.scalar(select(AuditLog).where(AuditLog.action == "invite_redeem"))
            budi_row = await s.scalar(select(Citizen).where(Citizen.telegram_id == 1001))
        assert entry is not None and entry.actor_telegram_id == 1001
        assert entry.target == f"agency:{ids['pupr']}"
        # An officer is named on cards, so their profile is kept without a citizen's consent.
        assert budi_row.username == "budi_pupr"

        # Opening one's own link again binds nothing new: no second entry, no second message.
        mark = h.mark()
        await h.send(budi, f"/start {payload}")
        await drain(h)
        assert not [r for r in h.since(mark) if getattr(r, "chat_id", None) == ADMIN_ID]
        assert await _count(h, AuditLog) == 2  # the invite and its redemption
