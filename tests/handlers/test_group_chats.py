"""Agency group chats through the real dispatcher: linking (an officer asks in the group, an
admin confirms in private), who is refused, forged presses, the delivery setting, forum topics,
the bot removed, and the anonymous reporter's identity never reaching a group."""

from __future__ import annotations

import json

from sqlalchemy import select

from bot.domain.enums import GroupDelivery
from bot.ui.case_callbacks import OfficerAction, OfficerCb
from bot.ui.group_callbacks import (
    GroupDecision,
    GroupDecisionCb,
    GroupDeliveryCb,
    GroupLinkAgencyCb,
    GroupManage,
    GroupManageCb,
)
from storage.models import AgencyGroup, AuditLog, ReportTopic
from tests.handlers.casework_helpers import ADMIN, FAST_DELIVERY, drain, file_report, link_group, report, seed, tap
from tests.handlers.casework_helpers import group_button as _button
from tests.handlers.casework_helpers import group_links as _links
from tests.handlers.harness import Harness

REPORTER, OA, OB, MEMBER = 5551, 6661, 6663, 7771
# The anonymous reporter's identity (seed): none of it may reach a group.
SECRETS = ("Zenobia", "Quartermain", "zq_secret_handle", str(REPORTER))




def _group_dump(h: Harness, chat_id: int) -> str:
    sent = [r.model_dump(exclude_none=True) for r in h.requests if str(getattr(r, "chat_id", "")) == str(chat_id)]
    return json.dumps(sent, ensure_ascii=False, default=str)


async def _linked(h: Harness, chat, officer_id: int = OA) -> AgencyGroup:
    return await link_group(h, chat, officer_id)


async def test_an_officer_asks_an_admin_confirms_and_it_is_audited(tmp_path):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        ids = await seed(h, reporter_id=REPORTER, officers={OA: "A"})
        chat = h.group()
        await h.send_in_group(h.user(OA, "Oki"), chat, "/hubungkan")
        assert "Dinas Alpha" in h.last_text(chat.id)  # "asked the admins"
        (link,) = await _links(h)
        assert (link.status, link.agency_id, link.chat_id, link.title) == ("pending", ids["A"], chat.id, "Grup Dinas")
        await drain(h)
        assert "Dinas Alpha" in h.last_text(ADMIN) and "Grup Dinas" in h.last_text(ADMIN)

        link = await _linked(h, chat)
        assert link.delivery == GroupDelivery.ALSO
        assert "Dinas Alpha" in h.last_text(chat.id)  # "this group is now linked"
        async with h.app.session_factory() as s:
            actions = [a.action for a in await s.scalars(select(AuditLog).order_by(AuditLog.id))]
        assert actions.count("group_link_request") == 2 and "group_link_confirm" in actions

        # Unlinked from the group by an officer of the agency.
        await h.send_in_group(h.user(OA, "Oki"), chat, "/putuskan")
        await drain(h)
        assert [x.status for x in await _links(h)][-1] == "unlinked"
        async with h.app.session_factory() as s:
            assert await s.scalar(select(AuditLog).where(AuditLog.action == "group_unlink")) is not None


async def test_who_is_refused_and_forged_presses_change_nothing(tmp_path):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        ids = await seed(h, reporter_id=REPORTER, officers={OA: "A", OB: "B"})
        chat = h.group()
        # A member who is no officer, and the admin (who confirms, never asks), cannot link.
        for who in (h.user(MEMBER, "Mira"), h.user(ADMIN, "Admin")):
            await h.send_in_group(who, chat, "/hubungkan")
            assert "liaison officer" in h.last_text(chat.id) or "petugas penghubung" in h.last_text(chat.id)
        assert await _links(h) == []
        # Agency B's officer forges the agency picker for agency A.
        cq = await h.press_in_group(h.user(OB, "Budi"), chat, 1, GroupLinkAgencyCb(agency_id=ids["A"]).pack())
        assert h.answered(cq).show_alert
        assert await _links(h) == []

        await h.send_in_group(h.user(OA, "Oki"), chat, "/hubungkan")
        (pending,) = await _links(h)
        # The officer (no admin) forges the admin's confirm button; a bogus link id.
        for who, link_id in ((h.user(OA, "Oki"), pending.id), (h.user(ADMIN, "Admin"), 999)):
            data = GroupDecisionCb(link_id=link_id, decision=GroupDecision.CONFIRM).pack()
            cq = await h.press(who, 1, data)
            assert h.answered(cq).show_alert
        assert [x.status for x in await _links(h)] == ["pending"]
        # Non-admins forge /grup's buttons.
        for data in (GroupDeliveryCb(link_id=pending.id, delivery=GroupDelivery.ONLY).pack(),
                     GroupManageCb(link_id=pending.id, action=GroupManage.UNLINK).pack()):
            cq = await h.press(h.user(OA, "Oki"), 1, data)
            assert h.answered(cq).show_alert
        # A member who is no officer cannot unlink a linked group.
        link = await _linked(h, chat)
        await h.send_in_group(h.user(MEMBER, "Mira"), chat, "/putuskan")
        assert (await _links(h))[-1].status == "active" and link.status == "active"


async def test_reports_go_to_the_group_and_only_officers_of_the_agency_act_there(tmp_path):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        ids = await seed(h, reporter_id=REPORTER, officers={OA: "A", OB: "B"})
        chat = h.group()
        await _linked(h, chat)
        # Members of the group: the officer of A, one of B, one who is no officer.
        rid = (await file_report(h, REPORTER, agency_id=ids["A"])).id
        await drain(h)
        await tap(h, h.user(ADMIN, "Admin"), "Buka")
        await tap(h, h.user(ADMIN, "Admin"), "Dinas Alpha")
        await drain(h)
        card_id, take = _button(h, chat.id, "oc:", "")
        assert "Jalan berlubang besar" in (h.sent_to(chat.id)[-3].text or "") or any(
            "Jalan berlubang besar" in (m.text or "") for m in h.sent_to(chat.id))
        assert any("Jalan berlubang besar" in (m.text or "") for m in h.sent_to(OA))  # "also": private too

        # Not an officer, or an officer of another agency: refused with an alert, nothing changes.
        for who in (h.user(MEMBER, "Mira"), h.user(OB, "Budi")):
            for action in (OfficerAction.TAKE, OfficerAction.ANSWER, OfficerAction.ASK):
                cq = await h.press_in_group(who, chat, card_id, OfficerCb(a=action, r=rid).pack())
                assert h.answered(cq).show_alert
        assert (await report(h, rid)).status == "assigned"

        # The officer of A presses "Tanggapi" in the group: the text step runs in their private
        # chat; what they write in the group is not sent to the reporter.
        officer = h.user(OA, "Oki")
        cq = await h.press_in_group(officer, chat, card_id, OfficerCb(a=OfficerAction.ANSWER, r=rid).pack())
        assert h.answered(cq) is not None and not h.answered(cq).show_alert
        reporter_before = len(h.sent_to(REPORTER))
        await h.send_in_group(officer, chat, "Besok kita cek bareng ya, jangan dikirim ke warga")
        await drain(h)
        assert len(h.sent_to(REPORTER)) == reporter_before
        assert (await report(h, rid)).status == "assigned"
        await h.send(officer, "Lubang sudah ditambal hari ini.")
        await drain(h)
        assert (await report(h, rid)).status == "answered"
        assert "Lubang sudah ditambal hari ini." in h.last_text(REPORTER)
        assert not any("jangan dikirim" in (m.text or "") for m in h.sent_to(REPORTER))

        # Anonymity: nothing sent to the group names the anonymous reporter.
        dump = _group_dump(h, chat.id)
        assert "Jalan berlubang besar" in dump
        for secret in SECRETS:
            assert secret not in dump, f"{secret!r} reached the group"


async def test_the_group_instead_of_private_chats_and_unlinking_from_grup(tmp_path):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        ids = await seed(h, reporter_id=REPORTER, officers={OA: "A"})
        chat = h.group()
        link = await _linked(h, chat)
        admin = h.user(ADMIN, "Admin")
        await h.send(admin, "/grup")
        assert "Grup Dinas" in h.last_text(ADMIN)
        message_id, data = _button(h, ADMIN, "gldv:", GroupDelivery.ONLY)
        cq = await h.press(admin, message_id, data)
        assert h.answered(cq) is not None
        assert (await _links(h))[-1].delivery == GroupDelivery.ONLY

        await file_report(h, REPORTER, agency_id=ids["A"], privacy="public")
        await drain(h)
        await tap(h, admin, "Buka")
        await tap(h, admin, "Dinas Alpha")
        await drain(h)
        assert any("Jalan berlubang besar" in (m.text or "") for m in h.sent_to(chat.id))
        assert not any("Jalan berlubang besar" in (m.text or "") for m in h.sent_to(OA))

        message_id, data = _button(h, ADMIN, "glm:")
        cq = await h.press(admin, message_id, data)
        assert h.answered(cq) is not None
        assert (await _links(h))[-1].status == "unlinked" and link.id == (await _links(h))[-1].id


async def test_a_forum_gives_each_report_its_topic(tmp_path):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        ids = await seed(h, reporter_id=REPORTER, officers={OA: "A"})
        forum = h.group(-100888, "Forum Dinas", forum=True)
        link = await _linked(h, forum)
        assert link.is_forum
        rid = (await file_report(h, REPORTER, agency_id=ids["A"])).id
        await drain(h)
        admin = h.user(ADMIN, "Admin")
        await tap(h, admin, "Buka")
        await tap(h, admin, "Dinas Alpha")
        await drain(h)
        from aiogram.methods import CreateForumTopic

        (created,) = [r for r in h.requests if isinstance(r, CreateForumTopic)]
        assert created.chat_id == forum.id and created.name.endswith("Jalan berlubang besar")
        async with h.app.session_factory() as s:
            (topic,) = await s.scalars(select(ReportTopic))
        assert topic.report_id == rid and topic.message_thread_id is not None
        in_forum = [r for r in h.requests if str(getattr(r, "chat_id", "")) == str(forum.id)
                    and not isinstance(r, CreateForumTopic)]
        card_and_files = [r for r in in_forum if getattr(r, "message_thread_id", None) == topic.message_thread_id]
        # The card, the location pin and the files all went into the report's topic.
        assert len(card_and_files) >= 3
        # The officer takes it from the topic; the colleague notice... and the next message
        # about the report goes to the same topic, without a second topic.
        officer = h.user(OA, "Oki")
        card_id, _ = _button(h, forum.id, "oc:")
        cq = await h.press_in_group(officer, forum, card_id, OfficerCb(a=OfficerAction.ASK, r=rid).pack(),
                                    thread_id=topic.message_thread_id)
        assert not h.answered(cq).show_alert
        await h.send_in_group(officer, forum, "diskusi internal, bukan untuk warga", thread_id=topic.message_thread_id)
        await h.send(officer, "Di depan pasar yang mana?")
        await drain(h)
        assert (await report(h, rid)).status == "awaiting_reporter"
        assert not any("diskusi internal" in (m.text or "") for m in h.sent_to(REPORTER))
        assert len([r for r in h.requests if isinstance(r, CreateForumTopic)]) == 1
        for secret in SECRETS:
            assert secret not in _group_dump(h, forum.id)


async def test_the_bot_removed_from_the_group_ends_the_link(tmp_path):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        await seed(h, reporter_id=REPORTER, officers={OA: "A"})
        chat = h.group()
        await h.bot_membership(chat, h.user(OA, "Oki"), added=True)
        assert "/hubungkan" in h.last_text(chat.id)
        await _linked(h, chat)
        await h.bot_membership(chat, h.user(MEMBER, "Mira"), added=False)
        await drain(h)
        assert (await _links(h))[-1].status == "unlinked"
        assert "Grup Dinas" in h.last_text(ADMIN)


async def test_a_group_turned_forum_follows_its_new_id_and_lays_reports_out_in_topics(tmp_path):
    """Switching topics on makes a group a supergroup under a new id (Telegram's service message
    migrate_to_chat_id); the link follows, and /hubungkan again tells the bot it is a forum now."""
    from aiogram.methods import CreateForumTopic

    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        ids = await seed(h, reporter_id=REPORTER, officers={OA: "A"})
        old = h.group(-4242, "Grup Dinas")
        await _linked(h, old)
        forum = h.group(-1004242, "Grup Dinas", forum=True)
        await h.send_message(h.user(OA, "Oki"), chat=old, migrate_to_chat_id=forum.id)
        assert [(x.chat_id, x.status, x.is_forum) for x in await _links(h)] == [(forum.id, "active", False)]
        await h.send_in_group(h.user(OA, "Oki"), forum, "/hubungkan")
        assert "topik" in h.last_text(forum.id)
        assert [(x.chat_id, x.status, x.is_forum) for x in await _links(h)] == [(forum.id, "active", True)]
        # A member who is no officer cannot flip it.
        await h.send_in_group(h.user(MEMBER, "Mira"), forum, "/hubungkan")
        assert len(await _links(h)) == 1

        await file_report(h, REPORTER, agency_id=ids["A"])
        await drain(h)
        await tap(h, h.user(ADMIN, "Admin"), "Buka")
        await tap(h, h.user(ADMIN, "Admin"), "Dinas Alpha")
        await drain(h)
        (created,) = [r for r in h.requests if isinstance(r, CreateForumTopic)]
        assert created.chat_id == forum.id
        async with h.app.session_factory() as s:
            actions = set(await s.scalars(select(AuditLog.action)))
        assert {"group_migrate", "group_forum"} <= actions


async def test_a_report_that_ends_closes_its_topic_and_one_that_reopens_opens_it(tmp_path):
    """Issue 13: the report's topic gets a last line and is closed (closeForumTopic) when the
    report ends, through the outbox; a report reopened (the check-in's "not solved") reopens it
    before the officers hear why. Another group's chat and a topic-less group are left alone."""
    from datetime import UTC, date, datetime, timedelta

    from aiogram.methods import CloseForumTopic, CreateForumTopic, ReopenForumTopic, SendMessage
    from sqlalchemy import update

    from bot.domain.access import COMMAND_LINE, Actor
    from bot.services.casework.reporter import CHECKIN_JOB, accept_answer, answer_checkin, checkin_key, withdraw
    from bot.services.casework.verification import assign_report
    from storage.models import Citizen, Report
    from storage.repositories.jobs import JobRepo

    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        ids = await seed(h, reporter_id=REPORTER, officers={OA: "A"})
        forum = h.group(-100888, "Forum Dinas", forum=True)
        await _linked(h, forum)
        cw = h.app.dp["casework"]
        rid = (await file_report(h, REPORTER, agency_id=None, with_files=False)).id
        async with h.app.session_factory() as s:
            await assign_report(s, cw, COMMAND_LINE, rid, ids["A"], datetime.now(UTC))
        await drain(h)
        (created,) = [r for r in h.requests if isinstance(r, CreateForumTopic)]
        async with h.app.session_factory() as s:
            (topic,) = await s.scalars(select(ReportTopic))
            reporter = await s.scalar(select(Citizen).where(Citizen.telegram_id == REPORTER))
            # The officer answered (the answer itself is test_casework_flow's).
            await s.execute(update(Report).where(Report.id == rid).values(
                status="answered", reply_due=date.today() + timedelta(days=10)))
            await s.commit()
        thread = topic.message_thread_id
        assert thread is not None and created.chat_id == forum.id
        me = Actor(citizen_id=reporter.id, telegram_id=REPORTER)

        mark = h.mark()
        async with h.app.session_factory() as s:
            await accept_answer(s, cw, me, rid, 5, datetime.now(UTC))
        async with h.app.session_factory() as s:
            assert (await s.get(ReportTopic, topic.id)).closed_at is not None
        await drain(h)
        in_forum = [r for r in h.since(mark) if str(getattr(r, "chat_id", "")) == str(forum.id)]
        (last_line,) = [r for r in in_forum if isinstance(r, SendMessage) and "🔒" in r.text]
        assert last_line.message_thread_id == thread and "Selesai" in last_line.text
        (closing,) = [r for r in in_forum if isinstance(r, CloseForumTopic)]
        assert closing.message_thread_id == thread
        assert in_forum.index(last_line) < in_forum.index(closing)
        assert not h.failed()

        # "Not solved" at the check-in: the topic opens again, before the officers read why.
        mark = h.mark()
        async with h.app.session_factory() as s:
            await JobRepo(s).record_effect(CHECKIN_JOB, checkin_key(rid), datetime.now(UTC))
            await s.commit()
        async with h.app.session_factory() as s:
            await answer_checkin(s, cw, me, rid, solved=False, now=datetime.now(UTC))
        await drain(h)
        in_forum = [r for r in h.since(mark) if str(getattr(r, "chat_id", "")) == str(forum.id)]
        assert isinstance(in_forum[0], ReopenForumTopic) and in_forum[0].message_thread_id == thread
        assert [r for r in in_forum[1:] if isinstance(r, SendMessage)]  # why, in the reopened topic
        assert all(getattr(r, "message_thread_id", thread) == thread for r in in_forum)
        assert not [r for r in in_forum if isinstance(r, CloseForumTopic)]
        async with h.app.session_factory() as s:
            assert (await s.get(ReportTopic, topic.id)).closed_at is None
        assert len([r for r in h.requests if isinstance(r, CreateForumTopic)]) == 1
        for secret in SECRETS:
            assert secret not in _group_dump(h, forum.id)

        # Unlinked since: when the report ends again its topic there is left as it is.
        async with h.app.session_factory() as s:
            await s.execute(update(AgencyGroup).values(status="unlinked"))
            await s.commit()
        mark = h.mark()
        async with h.app.session_factory() as s:
            await withdraw(s, cw, me, rid, "Sudah diperbaiki warga", datetime.now(UTC))
        await drain(h)
        assert not [r for r in h.since(mark) if str(getattr(r, "chat_id", "")) == str(forum.id)]
        assert (await report(h, rid)).status == "withdrawn"


async def test_closing_a_topic_that_is_not_there_or_already_closed_is_done_not_retried(tmp_path):
    """A group that refused a report's topic (its messages went to General) has nothing to close;
    a topic the members deleted meanwhile neither; one they closed already answers
    TOPIC_NOT_MODIFIED: done, not retried."""
    from datetime import UTC, datetime

    from aiogram.methods import CloseForumTopic, CreateForumTopic, SendMessage
    from sqlalchemy import update

    from bot.domain.access import COMMAND_LINE
    from bot.services.casework.verification import assign_report, reject_report
    from storage.models import Outbox, Report
    from tests.handlers.harness import Fault

    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        ids = await seed(h, reporter_id=REPORTER, officers={OA: "A"})
        forum = h.group(-100888, "Forum Dinas", forum=True)
        await _linked(h, forum)
        cw = h.app.dp["casework"]
        refused, deleted, closed = [
            (await file_report(h, REPORTER, agency_id=None, with_files=False, title=title)).id
            for title in ("Lampu jalan mati", "Got mampet", "Sampah menumpuk")]
        h.telegram.fail(CreateForumTopic, Fault(400, "Bad Request: not enough rights to create a topic"))
        for rid in (refused, deleted, closed):
            async with h.app.session_factory() as s:
                await assign_report(s, cw, COMMAND_LINE, rid, ids["A"], datetime.now(UTC))
            await drain(h)
        async with h.app.session_factory() as s:
            topics = {t.report_id: t for t in await s.scalars(select(ReportTopic))}
            # The agency returned them all; the admin rejects each.
            await s.execute(update(Report).where(Report.id.in_([refused, deleted, closed])).values(status="returned"))
            await s.commit()
        assert topics[refused].failed_at is not None

        async def reject(rid: int) -> None:
            async with h.app.session_factory() as s:
                await reject_report(s, cw, COMMAND_LINE, rid, "Bukan pelayanan publik", datetime.now(UTC))
            await drain(h)

        await reject(refused)
        h.telegram.fail(SendMessage, Fault(400, "Bad Request: message thread not found"), chat_id=forum.id)
        await reject(deleted)  # its last line goes to General instead
        h.telegram.fail(CloseForumTopic, Fault(400, "Bad Request: TOPIC_NOT_MODIFIED"))
        await reject(closed)
        closes = [r for r in h.requests if isinstance(r, CloseForumTopic)]
        assert [c.message_thread_id for c in closes] == [topics[closed].message_thread_id]
        async with h.app.session_factory() as s:
            rows = (await s.scalars(select(Outbox).where(Outbox.method == "closeForumTopic")
                                    .order_by(Outbox.id))).all()
        assert [r.report_topic_id for r in rows] == [topics[deleted].id, topics[closed].id]  # none for refused
        assert [(r.status, r.attempts) for r in rows] == [("sent", 1), ("sent", 1)]
        last_lines = [r for r in h.requests if isinstance(r, SendMessage) and "🔒" in r.text]
        assert [r.message_thread_id for r in last_lines] == [
            topics[deleted].message_thread_id, None, topics[closed].message_thread_id]
