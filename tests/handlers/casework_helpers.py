"""Shared set-up for the casework handler tests (not a test module itself)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from bot.services.casework.verification import SubmissionHook
from bot.services.intake import Draft, DraftAttachment, submit_report
from storage.models import Agency, AgencyGroup, Citizen, Officer, Outbox, Report
from tests.files import jpeg_with_exif, pdf_with_author
from tests.handlers.harness import Harness

# Immediate sends and no quiet hours: the tests must not depend on the time of day they run.
FAST_DELIVERY = {
    "delivery": {"per_chat_interval": 0, "global_rate": 1000},
    "notifications": {"quiet_start": "00:00", "quiet_end": "00:00"},
}
ADMIN = 9000


async def seed(h: Harness, *, reporter_id: int, officers: dict[int, str]) -> dict[str, int]:
    """Two agencies (A, B), the reporter, and officers {telegram_id: "A" | "B"}."""
    now = datetime.now(UTC)
    async with h.app.session_factory() as s:
        a = Agency(name="Dinas Alpha", kind="opd")
        b = Agency(name="Dinas Beta", kind="opd")
        s.add_all([a, b])
        s.add(Citizen(telegram_id=reporter_id, first_name="Zenobia", last_name="Quartermain",
                      username="zq_secret_handle", language="en", consent_at=now))
        await s.flush()
        for tid, which in officers.items():
            person = Citizen(telegram_id=tid, first_name=f"Officer{tid}", language="id", consent_at=now)
            s.add(person)
            await s.flush()
            s.add(Officer(agency_id=(a if which == "A" else b).id, citizen_id=person.id, bound_at=now))
        await s.commit()
        return {"A": a.id, "B": b.id}


async def file_report(h: Harness, reporter_id: int, *, agency_id: int | None, privacy: str = "anonymous",
                      title: str = "Jalan berlubang besar", with_files: bool = True,
                      attachments: list[DraftAttachment] | None = None) -> Report:
    """The intake use case with the casework hook, as the /lapor summary calls it; without
    ``attachments``, one photo and one document (none when not ``with_files``)."""
    draft = Draft(
        classification="complaint", agency_chosen=True, agency_id=agency_id, title=title,
        body="Lubang di jalan depan pasar sudah sebulan tidak diperbaiki <dan> berbahaya.",
        incident_date="2024-05-02", location_text="Jl. Propinsi km 3",
        latitude=-1.25, longitude=116.83, attachments_done=True, privacy=privacy,
        attachments=attachments if attachments is not None else
        [DraftAttachment("photo-file-1", "u1", "photo"),
         DraftAttachment("doc-file-2", "u2", "document", file_name="bukti.pdf")] if with_files else [],
    )
    for att in draft.attachments:
        # What a download gives: a photo with EXIF, a PDF naming its author, or a few bytes.
        content = jpeg_with_exif() if att.kind == "photo" or att.mime_type == "image/jpeg" else (
            pdf_with_author() if (att.file_name or "").endswith(".pdf") else b"plain bytes")
        h.telegram.files.setdefault(att.file_id, content)
    async with h.app.session_factory() as s:
        citizen = await s.scalar(select(Citizen).where(Citizen.telegram_id == reporter_id))
        hook = SubmissionHook(h.app.dp["casework"])
        return await submit_report(s, citizen, draft, h.app.calendar, datetime.now(UTC), on_submitted=hook)


async def drain(h: Harness) -> None:
    """Send every pending outbox row through the real delivery worker."""
    for _ in range(200):
        if not await h.app.delivery.run_once():
            return
    raise AssertionError("outbox never drained")


async def report(h: Harness, report_id: int) -> Report:
    async with h.app.session_factory() as s:
        return await s.get(Report, report_id)


async def outbox_rows(h: Harness) -> list[Outbox]:
    async with h.app.session_factory() as s:
        return list((await s.scalars(select(Outbox).order_by(Outbox.id))).all())


def last_button_message(h: Harness, chat_id: int, label: str):
    for sent in reversed(h.sent_to(chat_id)):
        for text, data in sent.buttons:
            if label.lower() in text.lower() and data:
                return sent, data
    raise AssertionError(f"no button {label!r} in chat {chat_id}")


async def tap(h: Harness, user, label: str) -> str:
    sent, data = last_button_message(h, user.id, label)
    cq = await h.press(user, sent, data)
    assert h.answered(cq) is not None, "callback query left unanswered"
    return cq


# -- agency group chats ----------------------------------------------------------------------------
async def group_links(h: Harness) -> list[AgencyGroup]:
    async with h.app.session_factory() as s:
        return list(await s.scalars(select(AgencyGroup).order_by(AgencyGroup.id)))


def group_button(h: Harness, chat_id: int, prefix: str, suffix: str = "") -> tuple[int, str]:
    """(message id, callback data) of the newest button in ``chat_id`` whose data starts with
    ``prefix`` and ends with ``suffix``."""
    for sent in reversed(h.sent_to(chat_id)):
        for _text, data in sent.buttons:
            if data and data.startswith(prefix) and data.endswith(suffix):
                return sent.message_id, data
    raise AssertionError(f"no {prefix}…{suffix} button in chat {chat_id}")


async def link_group(h: Harness, chat, officer_id: int) -> AgencyGroup:
    """The officer asks in the group (/hubungkan), the admin confirms with the button in their chat."""
    from bot.ui.group_callbacks import GroupDecision

    await h.send_in_group(h.user(officer_id, "Oki"), chat, "/hubungkan")
    await drain(h)
    message_id, data = group_button(h, ADMIN, "gld:", GroupDecision.CONFIRM)
    cq = await h.press(h.user(ADMIN, "Admin"), message_id, data)
    assert h.answered(cq) is not None
    await drain(h)
    (link,) = [link for link in await group_links(h) if link.chat_id == chat.id and link.status == "active"]
    return link
