"""Issue #5 audit: assign and reject (casework) and invite and revoke (officers) are recorded in
the action's own transaction, and /audit lists them with who did them."""

from __future__ import annotations

from sqlalchemy import select

from bot.services.officers import create_invite, revoke_officer
from storage.models import AuditLog, Citizen, Officer
from tests.actors import as_admin
from tests.handlers.casework_helpers import ADMIN, FAST_DELIVERY, drain, file_report, report, seed, tap
from tests.handlers.harness import Harness

REPORTER, OFFICER = 5551, 6661


async def test_assign_reject_invite_revoke_show_in_audit(tmp_path):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        ids = await seed(h, reporter_id=REPORTER, officers={OFFICER: "A"})
        admin = h.user(ADMIN, "Koordinator", username="kominfo_ppu")

        assigned = await file_report(h, REPORTER, agency_id=ids["A"], title="Jalan berlubang")
        await drain(h)
        await tap(h, admin, "Buka")
        await tap(h, admin, "Dinas Alpha")
        assert (await report(h, assigned.id)).status == "assigned"

        rejected = await file_report(h, REPORTER, agency_id=None, title="Halo saja")
        await drain(h)
        await tap(h, admin, "Buka")
        await tap(h, admin, "Tolak")
        await tap(h, admin, "Terlalu umum")
        await tap(h, admin, "Tolak tanpa catatan")
        assert (await report(h, rejected.id)).status == "rejected"

        async with h.app.session_factory() as s:
            me = await s.scalar(select(Citizen).where(Citizen.telegram_id == ADMIN))
            officer = await s.scalar(select(Officer))
            await create_invite(s, ids["B"], actor=as_admin(me))
            await revoke_officer(s, officer.id, actor=as_admin(me))

        async with h.app.session_factory() as s:
            entries = (await s.scalars(select(AuditLog).order_by(AuditLog.id))).all()
        assert [(e.action, e.target) for e in entries] == [
            ("assign", assigned.tracking_id),
            ("reject", rejected.tracking_id),
            ("invite", f"agency:{ids['B']}"),
            ("revoke", f"agency:{ids['A']}"),
        ]
        assert {e.actor_telegram_id for e in entries} == {ADMIN}
        assert entries[0].detail["agency_id"] == ids["A"]
        # The reporter's identity is not the audit trail's business.
        assert all(str(REPORTER) not in str(e.detail) for e in entries)

        await h.send(admin, "/audit")
        shown = h.last_text(admin).splitlines()
        assert "@kominfo_ppu" in shown[1]
        # Newest first: revoke, invite, reject, assign.
        assert "mencabut pejabat penghubung" in shown[1]
        assert "mengundang pejabat penghubung" in shown[2]
        assert "menolak" in shown[3] and rejected.tracking_id in shown[3]
        assert "mendisposisikan" in shown[4] and assigned.tracking_id in shown[4]
