"""Invites, binding, rate limiting, listing and revoking, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.domain.access import Actor, Refused
from bot.services.officers import (
    FAILURE_WINDOW,
    MAX_FAILURES,
    AgencyNotFound,
    RedeemOutcome,
    create_invite,
    hash_code,
    invite_link,
    list_officers,
    redeem_invite,
    revoke_officer,
)
from bot.services.roles import resolve_actor
from storage.models import Agency, AuditLog, Citizen, InviteFailure, Officer, OfficerInvite, Outbox, Report
from tests.actors import COMMAND_LINE, as_admin

T0 = datetime(2024, 5, 21, 2, 0, tzinfo=UTC)


@pytest.fixture
async def world(session):
    admin = Citizen(telegram_id=9000, first_name="Admin")
    budi = Citizen(telegram_id=1001, first_name="Budi", username="budi_pupr")
    sari = Citizen(telegram_id=1002, first_name="Sari")
    pupr = Agency(name="Dinas PUPR", kind="opd", code="PUPR", aliases=[])
    dinkes = Agency(name="Dinas Kesehatan", kind="opd", code="DINKES", aliases=[])
    closed = Agency(name="Dinas Lama", kind="opd", aliases=[], active=False)
    session.add_all([admin, budi, sari, pupr, dinkes, closed])
    await session.commit()
    return dict(admin=admin, budi=budi, sari=sari, pupr=pupr, dinkes=dinkes, closed=closed)


async def _roles(session, citizen) -> Actor:
    return await resolve_actor(session, citizen, admin_ids=[9000])


async def test_invite_binds_and_roles_show_the_agency(session, world):
    created = await create_invite(session, world["pupr"].id, actor=as_admin(world["admin"]),
                                  now=T0)
    assert len(created.code) == 32  # 192 bits in URL-safe base64
    row = await session.scalar(select(OfficerInvite))
    assert row.code_hash == hash_code(created.code) and created.code not in row.code_hash
    assert row.expires_at == T0 + timedelta(hours=72)
    assert created.link("lapor_bot") == f"https://t.me/lapor_bot?start=inv_{created.code}"
    assert (await _roles(session, world["budi"])).agency_ids == frozenset()

    result = await redeem_invite(session, world["budi"], f"inv_{created.code}", now=T0 + timedelta(hours=1))
    assert result.outcome is RedeemOutcome.BOUND and result.agency.id == world["pupr"].id
    roles = await _roles(session, world["budi"])
    assert roles.agency_ids == {world["pupr"].id} and roles.is_officer and not roles.is_admin

    # The same person may serve a second agency.
    second = await create_invite(session, world["dinkes"].id, actor=COMMAND_LINE, now=T0)
    assert (await redeem_invite(session, world["budi"], second.code, now=T0)).ok
    assert (await _roles(session, world["budi"])).agency_ids == {world["pupr"].id, world["dinkes"].id}


async def test_several_officers_per_agency(session, world):
    for person in (world["budi"], world["sari"]):
        created = await create_invite(session, world["pupr"].id, actor=COMMAND_LINE)
        assert (await redeem_invite(session, person, created.code)).outcome is RedeemOutcome.BOUND
    views = await list_officers(session, actor=COMMAND_LINE, agency_id=world["pupr"].id)
    assert {v.telegram_id for v in views} == {1001, 1002}
    assert {v.username for v in views} == {"budi_pupr", None}


async def test_a_used_invite_cannot_be_used_again(session, world):
    created = await create_invite(session, world["pupr"].id, actor=COMMAND_LINE, now=T0)
    assert (await redeem_invite(session, world["budi"], created.code, now=T0)).ok
    # Budi opening his own link again is harmless.
    again = await redeem_invite(session, world["budi"], created.code, now=T0)
    assert again.outcome is RedeemOutcome.ALREADY_OFFICER
    refused = await redeem_invite(session, world["sari"], created.code, now=T0)
    assert refused.outcome is RedeemOutcome.USED
    assert (await _roles(session, world["sari"])).agency_ids == frozenset()
    assert await session.scalar(select(func.count()).select_from(InviteFailure)) == 1


async def test_an_expired_invite_is_refused(session, world):
    created = await create_invite(session, world["pupr"].id, actor=COMMAND_LINE, now=T0)
    late = T0 + timedelta(hours=72)
    result = await redeem_invite(session, world["budi"], created.code, now=late)
    assert result.outcome is RedeemOutcome.EXPIRED
    assert (await _roles(session, world["budi"])).agency_ids == frozenset()
    just_in_time = await create_invite(session, world["pupr"].id, actor=COMMAND_LINE,
                                       ttl=timedelta(hours=1), now=T0)
    ok = await redeem_invite(session, world["budi"], just_in_time.code,
                             now=T0 + timedelta(minutes=59))
    assert ok.outcome is RedeemOutcome.BOUND


async def test_wrong_codes_are_rate_limited_per_user(session, world):
    created = await create_invite(session, world["pupr"].id, actor=COMMAND_LINE, now=T0)
    for n in range(MAX_FAILURES):
        bad = "inv_" + "A" * 32 if n % 2 else "inv_garbage"
        outcome = (await redeem_invite(session, world["sari"], bad, now=T0 + timedelta(minutes=n))).outcome
        assert outcome is RedeemOutcome.INVALID
    # Even the right code is refused now, and nothing is consumed.
    blocked = await redeem_invite(session, world["sari"], created.code, now=T0 + timedelta(minutes=10))
    assert blocked.outcome is RedeemOutcome.RATE_LIMITED
    assert (await session.get(OfficerInvite, created.invite.id)).used_at is None
    # Someone else is not affected.
    assert (await redeem_invite(session, world["budi"], "inv_nope", now=T0)).outcome is RedeemOutcome.INVALID
    # An hour after the failures the window has passed.
    later = T0 + timedelta(minutes=MAX_FAILURES - 1) + FAILURE_WINDOW + timedelta(seconds=1)
    assert (await redeem_invite(session, world["sari"], created.code, now=later)).outcome is RedeemOutcome.BOUND


async def test_the_failure_count_survives_a_new_session(session_factory, world):
    async with session_factory() as s:
        sari = await s.get(Citizen, world["sari"].id)
        for _ in range(MAX_FAILURES):
            await redeem_invite(s, sari, "inv_x", now=T0)
    async with session_factory() as s:  # as after a restart
        sari = await s.get(Citizen, world["sari"].id)
        assert (await redeem_invite(s, sari, "inv_x", now=T0)).outcome is RedeemOutcome.RATE_LIMITED


async def test_only_admins_invite_list_and_revoke(session, world):
    officer = Actor(citizen_id=world["budi"].id, agency_ids=frozenset({world["pupr"].id}))
    with pytest.raises(Refused):
        await create_invite(session, world["pupr"].id, actor=officer)
    with pytest.raises(Refused):
        await list_officers(session, actor=officer)
    with pytest.raises(Refused):
        await revoke_officer(session, 1, actor=officer)
    assert await session.scalar(select(func.count()).select_from(OfficerInvite)) == 0


async def test_no_invites_for_inactive_or_missing_agencies(session, world):
    with pytest.raises(AgencyNotFound):
        await create_invite(session, world["closed"].id, actor=COMMAND_LINE)
    with pytest.raises(AgencyNotFound):
        await create_invite(session, 99999, actor=COMMAND_LINE)


async def test_revoke_takes_effect_at_once_and_a_new_invite_restores(session, world):
    created = await create_invite(session, world["pupr"].id, actor=COMMAND_LINE)
    await redeem_invite(session, world["budi"], created.code)
    officer = await session.scalar(select(Officer))

    result = await revoke_officer(session, officer.id, actor=as_admin(world["admin"]))
    assert result.telegram_id == 1001 and not result.already_revoked and not result.still_officer
    assert (await _roles(session, world["budi"])).agency_ids == frozenset()
    assert await list_officers(session, actor=COMMAND_LINE) == []
    row = await session.get(Officer, officer.id)
    assert row.revoked_at is not None and row.revoked_by_id == world["admin"].id

    again = await revoke_officer(session, officer.id, actor=as_admin(world["admin"]))
    assert again.already_revoked
    audit = (await session.scalars(select(AuditLog).order_by(AuditLog.id))).all()
    assert [(a.action, a.actor_telegram_id) for a in audit] == [
        ("invite", None), ("invite_redeem", 1001), ("revoke", 9000)]
    assert audit[2].target == f"agency:{world['pupr'].id}" and audit[2].detail["officer_id"] == officer.id
    assert await revoke_officer(session, 424242, actor=COMMAND_LINE) is None

    fresh = await create_invite(session, world["pupr"].id, actor=COMMAND_LINE)
    assert (await redeem_invite(session, world["budi"], fresh.code)).outcome is RedeemOutcome.BOUND
    assert (await _roles(session, world["budi"])).agency_ids == {world["pupr"].id}
    assert await session.scalar(select(func.count()).select_from(Officer)) == 1


async def test_revoke_keeps_other_agencies_and_tells_the_officer(session, world):
    from bot.domain.workdays import WorkCalendar
    from bot.i18n import build_i18n
    from bot.ui.notifier import OutboxNotifier

    for agency in (world["pupr"], world["dinkes"]):
        created = await create_invite(session, agency.id, actor=COMMAND_LINE)
        await redeem_invite(session, world["budi"], created.code)
    pupr_binding = await session.scalar(select(Officer).where(Officer.agency_id == world["pupr"].id))
    result = await revoke_officer(session, pupr_binding.id, actor=as_admin(world["admin"]),
                                  notifier=OutboxNotifier(build_i18n("id"), WorkCalendar()))
    assert result.still_officer
    assert (await _roles(session, world["budi"])).agency_ids == {world["dinkes"].id}
    notice = await session.scalar(select(Outbox))
    assert notice.chat_id == 1001 and "Dinas PUPR" in notice.payload["text"]


def test_links_use_the_deep_link_prefix():
    assert invite_link("bot", "abc") == "https://t.me/bot?start=inv_abc"


async def test_what_is_queued_for_a_revoked_officer_about_the_agencys_reports_is_cancelled(session, world):
    from bot.services.outbox import enqueue_message

    for agency in (world["pupr"], world["dinkes"]):
        created = await create_invite(session, agency.id, actor=COMMAND_LINE)
        await redeem_invite(session, world["budi"], created.code)
    now = datetime.now(UTC)
    reports = {}
    for name in ("pupr", "dinkes"):
        report = Report(tracking_id=f"LPR-{name.upper()[:4]}-0001", classification="complaint", title="t",
                        body="b", privacy="anonymous", status="in_progress", agency_id=world[name].id)
        session.add(report)
        await session.flush()
        reports[name] = report
    chat = world["budi"].telegram_id
    for key in (f"report:{reports['pupr'].id}", f"report:{reports['dinkes'].id}", "officer_reminder:2024-05-20",
                "broadcast:1"):
        await enqueue_message(session, chat, f"about {key}", group_key=key)
    # As a citizen (their own report's update): not the officer's mail.
    await enqueue_message(session, chat, "your own report", citizen_id=world["budi"].id,
                          group_key=f"report:{reports['pupr'].id}")
    await session.commit()
    binding = await session.scalar(select(Officer).where(Officer.agency_id == world["pupr"].id))
    await revoke_officer(session, binding.id, actor=as_admin(world["admin"]), now=now)
    rows = {r.payload["text"]: r.status for r in (await session.scalars(select(Outbox))).all()}
    assert rows == {
        f"about report:{reports['pupr'].id}": "cancelled",
        "about officer_reminder:2024-05-20": "cancelled",
        f"about report:{reports['dinkes'].id}": "pending",  # still their agency
        "about broadcast:1": "pending",
        "your own report": "pending",
    }
