"""Agency group chats: an officer asks in the group (``/hubungkan``), an admin confirms in their
private chat, and from then on the agency's reports, reminders and escalations go to the group
as well as (or instead of) the officers' private chats. In a forum supergroup each report gets
its own topic (``topic_for``; the delivery worker opens it), closed when the report ends and
reopened with it (``follow_report_status``).

Who may is ``bot.domain.access`` (an officer of that agency asks or unlinks; an admin decides,
unlinks and sets the delivery). Every change is audited and commits here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import access
from bot.domain.access import Action, Actor, Reason, Refused
from bot.domain.enums import GroupDelivery, GroupLinkStatus
from bot.domain.lifecycle import TERMINAL
from bot.services import recipients
from bot.services.audit import record
from bot.services.notices import GroupLinkDecided, GroupLinkRequested, GroupUnlinked, TopicClosing
from bot.services.outbox import enqueue
from bot.services.ports import Notifier
from storage.models import AgencyGroup, Report, ReportTopic
from storage.repositories.agencies import AgencyRepo
from storage.repositories.group_chats import GroupChatRepo

log = logging.getLogger(__name__)

# Telegram: a topic name is 1–128 characters.
TOPIC_NAME_MAX = 128


class GroupAudit:
    REQUEST = "group_link_request"
    CONFIRM = "group_link_confirm"
    DECLINE = "group_link_decline"
    UNLINK = "group_unlink"
    DELIVERY = "group_delivery"
    MIGRATE = "group_migrate"
    FORUM = "group_forum"


@dataclass(frozen=True)
class GroupChat:
    """The group a command came from, as Telegram described it."""

    chat_id: int
    title: str
    is_forum: bool


@dataclass(frozen=True)
class LinkOutcome:
    link: AgencyGroup
    agency_name: str
    # A request for a linked group whose topics were switched on or off: updated, no new link.
    forum_changed: bool = False


async def request_link(
    session: AsyncSession, notifier: Notifier, admin_ids: tuple[int, ...] | list[int], actor: Actor,
    chat: GroupChat, agency_id: int, now: datetime,
) -> LinkOutcome:
    """An officer of ``agency_id`` asks to link ``chat``; the admins get a confirm button. A
    request for a chat already linked to that agency is refused as NOT_NOW; an earlier pending
    request from the same chat is replaced."""
    access.ensure_may_link_group(actor, agency_id)
    assert actor.citizen_id is not None
    agency = await AgencyRepo(session).get_active(agency_id)
    if agency is None:
        raise Refused(Reason.INVALID)
    repo = GroupChatRepo(session)
    for link in await repo.in_chat(chat.chat_id, GroupLinkStatus.ACTIVE):
        if link.agency_id == agency_id:
            if link.is_forum != chat.is_forum:
                # Topics switched on (or off) since the link: asking again is how the bot learns
                # it; the link stays, only how reports are laid out changes.
                await repo.change(link.id, GroupLinkStatus.ACTIVE,
                                  {"is_forum": chat.is_forum, "title": chat.title[:255]})
                await record(session, actor, GroupAudit.FORUM, f"agency:{agency_id}",
                             {"chat_id": chat.chat_id, "link_id": link.id, "is_forum": chat.is_forum})
                await session.commit()
                return LinkOutcome(link, agency.name, forum_changed=True)
            raise Refused(Reason.NOT_NOW)
    for old in await repo.in_chat(chat.chat_id, GroupLinkStatus.PENDING):
        await repo.change(old.id, GroupLinkStatus.PENDING, {"status": GroupLinkStatus.DECLINED, "decided_at": now})
    link = await repo.add(AgencyGroup(
        agency_id=agency_id, chat_id=chat.chat_id, title=chat.title[:255], is_forum=chat.is_forum,
        status=GroupLinkStatus.PENDING, delivery=GroupDelivery.ALSO, requested_by_id=actor.citizen_id,
    ))
    await record(session, actor, GroupAudit.REQUEST, f"agency:{agency_id}",
                 {"chat_id": chat.chat_id, "title": chat.title, "link_id": link.id})
    for to in await recipients.admins(session, admin_ids):
        await notifier.send(session, to, GroupLinkRequested(link.id, agency.name, chat.title, chat.is_forum),
                            now=now, group_key=f"group_link:{link.id}")
    await session.commit()
    log.info("group %s asks to be linked to agency #%s (request #%s)", chat.chat_id, agency_id, link.id)
    return LinkOutcome(link, agency.name)


async def decide_link(
    session: AsyncSession, notifier: Notifier, actor: Actor, link_id: int, approve: bool, now: datetime,
) -> LinkOutcome:
    """An admin confirms or declines a pending request (CONFLICT when already decided). On
    confirming, the agency's previous group and the chat's link to another agency end."""
    access.ensure(actor, Action.ADMINISTER)
    repo = GroupChatRepo(session)
    link = await repo.get(link_id)
    if link is None:
        raise Refused(Reason.INVALID)
    target = GroupLinkStatus.ACTIVE if approve else GroupLinkStatus.DECLINED
    if not await repo.change(link.id, GroupLinkStatus.PENDING,
                             {"status": target, "decided_by_id": actor.citizen_id, "decided_at": now}):
        await session.rollback()
        raise Refused(Reason.CONFLICT)
    if approve:
        previous = [*await repo.in_chat(link.chat_id, GroupLinkStatus.ACTIVE)]
        if (old := await repo.active_for_agency(link.agency_id)) is not None:
            previous.append(old)
        for old in previous:
            if old.id != link.id:
                await _end(session, actor, old, now)
    name = await _agency_name(session, link.agency_id)
    await record(session, actor, GroupAudit.CONFIRM if approve else GroupAudit.DECLINE, f"agency:{link.agency_id}",
                 {"chat_id": link.chat_id, "title": link.title, "link_id": link.id})
    await notifier.send(session, recipients.group(link), GroupLinkDecided(name, approve), now=now,
                        group_key=f"group_link:{link.id}")
    await session.commit()
    link = await repo.get(link.id)
    assert link is not None
    return LinkOutcome(link, name)


async def unlink(session: AsyncSession, notifier: Notifier, actor: Actor, link_id: int, now: datetime) -> LinkOutcome:
    """An admin (from /grup) or an officer of the agency (``/putuskan`` in the group) ends a link."""
    repo = GroupChatRepo(session)
    link = await repo.get(link_id)
    if link is None or link.status != GroupLinkStatus.ACTIVE:
        raise Refused(Reason.CONFLICT if link is not None else Reason.INVALID)
    if not actor.is_admin:
        access.ensure_may_link_group(actor, link.agency_id)
    if not await _end(session, actor, link, now):
        await session.rollback()
        raise Refused(Reason.CONFLICT)
    name = await _agency_name(session, link.agency_id)
    await notifier.send(session, recipients.group(link), GroupUnlinked(name, link.title), now=now,
                        group_key=f"group_link:{link.id}")
    await session.commit()
    return LinkOutcome(link, name)


async def chat_migrated(session: AsyncSession, old_chat_id: int, new_chat_id: int) -> int:
    """Telegram turned the group into a supergroup (switching its topics on does that) under a
    new id: its links follow. How many moved."""
    repo = GroupChatRepo(session)
    moved = 0
    for status in (GroupLinkStatus.ACTIVE, GroupLinkStatus.PENDING):
        for link in await repo.in_chat(old_chat_id, status):
            await repo.change(link.id, status, {"chat_id": new_chat_id})
            await record(session, None, GroupAudit.MIGRATE, f"agency:{link.agency_id}",
                         {"link_id": link.id, "from_chat_id": old_chat_id, "to_chat_id": new_chat_id})
            moved += 1
    await session.commit()
    if moved:
        log.info("group %s became supergroup %s: %s link(s) moved", old_chat_id, new_chat_id, moved)
    return moved


async def agencies_of(session: AsyncSession, actor: Actor) -> list[tuple[int, str]]:
    """The active agencies the officer serves, to pick the one a group is for."""
    repo = AgencyRepo(session)
    found = [await repo.get_active(agency_id) for agency_id in sorted(actor.agency_ids)]
    return [(agency.id, agency.name) for agency in found if agency is not None]


async def active_link_in_chat(session: AsyncSession, chat_id: int) -> AgencyGroup | None:
    links = await GroupChatRepo(session).in_chat(chat_id, GroupLinkStatus.ACTIVE)
    return links[0] if links else None


async def bot_left(
    session: AsyncSession, notifier: Notifier, admin_ids: tuple[int, ...] | list[int], chat_id: int, now: datetime,
) -> int:
    """Telegram says the bot is no longer in the group: its links end and the admins hear of it
    (messages to it would only fail). How many links ended."""
    repo = GroupChatRepo(session)
    ended = 0
    for link in await repo.in_chat(chat_id, GroupLinkStatus.ACTIVE):
        if await _end(session, None, link, now):
            ended += 1
            name = await _agency_name(session, link.agency_id)
            for to in await recipients.admins(session, admin_ids):
                await notifier.send(session, to, GroupUnlinked(name, link.title, bot_removed=True), now=now,
                                    group_key=f"group_link:{link.id}")
    await session.commit()
    return ended


async def set_delivery(session: AsyncSession, actor: Actor, link_id: int, delivery: GroupDelivery) -> LinkOutcome:
    access.ensure(actor, Action.ADMINISTER)
    repo = GroupChatRepo(session)
    link = await repo.get(link_id)
    if link is None or link.status != GroupLinkStatus.ACTIVE:
        raise Refused(Reason.CONFLICT if link is not None else Reason.INVALID)
    await repo.change(link.id, GroupLinkStatus.ACTIVE, {"delivery": delivery})
    await record(session, actor, GroupAudit.DELIVERY, f"agency:{link.agency_id}",
                 {"chat_id": link.chat_id, "link_id": link.id, "delivery": delivery.value})
    await session.commit()
    link = await repo.get(link.id)
    assert link is not None
    return LinkOutcome(link, await _agency_name(session, link.agency_id))


async def linked_groups(session: AsyncSession, actor: Actor) -> list[LinkOutcome]:
    """Every active link, for the admin's /grup."""
    access.ensure(actor, Action.ADMINISTER)
    return [LinkOutcome(link, agency.name) for link, agency in await GroupChatRepo(session).active_with_agency()]


async def topic_for(session: AsyncSession, chat_id: int, report: Report) -> ReportTopic:
    """The report's topic in a forum group, written (not yet opened) on first use."""
    repo = GroupChatRepo(session)
    topic = await repo.topic(report.id, chat_id)
    if topic is None:
        name = f"{report.tracking_id} · {' '.join(report.title.split())}"
        topic = await repo.add_topic(ReportTopic(report_id=report.id, chat_id=chat_id,
                                                 name=name[:TOPIC_NAME_MAX]))
    return topic


async def follow_report_status(
    session: AsyncSession, notifier: Notifier, report: Report, previous: str, now: datetime,
) -> None:
    """A report that ended (closed, rejected, archived, withdrawn) closes its forum topics, with a
    last line in each; one that reopened opens them again. Queued in the status change's
    transaction, through the outbox like every message: the delivery worker finds each topic's
    thread when the row goes out. Topics in a group no longer linked, or no longer a forum, are
    left as they are."""
    ended, was_ended = report.status in TERMINAL, previous in TERMINAL
    if ended == was_ended:
        return
    repo = GroupChatRepo(session)
    for topic in await repo.topics_of(report.id):
        if (topic.closed_at is not None) == ended:
            continue
        link = await active_link_in_chat(session, topic.chat_id)
        if link is None or not link.is_forum:  # unlinked, or its topics switched off since
            continue
        if ended:
            await notifier.send(session, recipients.group(link), TopicClosing(report), now=now)
        await enqueue(session, chat_id=topic.chat_id, method="closeForumTopic" if ended else "reopenForumTopic",
                      payload={}, group_key=f"report:{report.id}", report_topic_id=topic.id)
        await repo.topic_closed(topic.id, now if ended else None)


async def _end(session: AsyncSession, actor: Actor | None, link: AgencyGroup, now: datetime) -> bool:
    ok = await GroupChatRepo(session).change(link.id, GroupLinkStatus.ACTIVE, {
        "status": GroupLinkStatus.UNLINKED, "unlinked_at": now,
        "unlinked_by_id": actor.citizen_id if actor is not None else None,
    })
    if ok:
        await record(session, actor, GroupAudit.UNLINK, f"agency:{link.agency_id}",
                     {"chat_id": link.chat_id, "title": link.title, "link_id": link.id,
                      **({} if actor is not None else {"by": "telegram: the bot left the group"})})
    return ok


async def _agency_name(session: AsyncSession, agency_id: int) -> str:
    agency = await AgencyRepo(session).get(agency_id)
    return agency.name if agency is not None else "?"
