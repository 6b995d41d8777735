"""submit_report on SQLite and PostgreSQL, and the draft's step rules."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

import bot.services.intake as intake
from bot.domain.workdays import WorkCalendar
from bot.services.intake import (
    AttachmentRefusal,
    Draft,
    DraftAttachment,
    DraftIncomplete,
    Step,
    check_attachment,
    next_step,
    submit_report,
)
from storage.models import Agency, Attachment, Citizen, Report, ReportEvent

# Friday 17 May 2024, 10:00 WITA. Verification: Mon 20, Tue 21, Wed 22 (Vesak was 23 May).
NOW = datetime(2024, 5, 17, 2, 0, tzinfo=UTC)


def _draft(**kw) -> Draft:
    base = dict(
        classification="complaint",
        agency_chosen=True,
        title="Jalan berlubang",
        body="Jalan di depan pasar berlubang besar, berbahaya bagi pengendara motor.",
        incident_date="2024-05-16",
        location_text="Jl. Propinsi km 3",
        attachments=[
            DraftAttachment("f1", "u1", "photo", 50_000),
            DraftAttachment("f2", "u2", "document", 120_000, "application/pdf", "surat.pdf"),
        ],
        attachments_done=True,
        privacy="anonymous",
        language="en",
    )
    base.update(kw)
    return Draft(**base)


async def _citizen(session, **kw) -> Citizen:
    c = Citizen(telegram_id=42, **kw)
    session.add(c)
    await session.commit()
    return c


async def test_submit_files_report_attachments_and_event(session):
    agency = Agency(name="Dinas PUPR", kind="opd")
    session.add(agency)
    await session.flush()
    citizen = await _citizen(session)
    cal = WorkCalendar("Asia/Makassar")

    report = await submit_report(session, citizen, _draft(agency_id=agency.id), cal, NOW)
    session.expunge_all()

    row = await session.scalar(select(Report).where(Report.id == report.id))
    assert row.tracking_id.startswith("LPR-") and len(row.tracking_id) == 13
    assert row.status == "submitted"
    assert row.classification == "complaint" and row.privacy == "anonymous"
    assert row.requested_agency_id == agency.id and row.agency_id is None
    assert row.incident_date == date(2024, 5, 16)
    assert row.verify_due == date(2024, 5, 22)
    assert row.completion_due == cal.add_working_days(date(2024, 5, 17), 14)
    assert row.language == "en"
    assert row.submitted_at == NOW
    atts = (await session.scalars(select(Attachment).where(Attachment.report_id == row.id))).all()
    assert sorted((a.file_id, a.kind, a.file_size) for a in atts) == [
        ("f1", "photo", 50_000),
        ("f2", "document", 120_000),
    ]
    events = (await session.scalars(select(ReportEvent).where(ReportEvent.report_id == row.id))).all()
    assert [(e.kind, e.to_status, e.actor_role, e.actor_citizen_id) for e in events] == [
        ("submitted", "submitted", "citizen", citizen.id)
    ]


async def test_submit_unknown_agency_and_skipped_fields(session):
    citizen = await _citizen(session, language="id")
    draft = _draft(
        classification="aspiration", incident_date=None, date_skipped=True, location_text=None,
        location_skipped=True, attachments=[], privacy="public",
    )
    report = await submit_report(session, citizen, draft, WorkCalendar(), NOW)
    assert report.requested_agency_id is None
    assert report.incident_date is None and report.location_text is None
    # the citizen's own language wins over the one the form started in
    assert report.language == "id"
    assert report.completion_due == WorkCalendar().add_working_days(date(2024, 5, 17), 5)


async def test_tracking_id_collision_is_retried(session, monkeypatch):
    citizen = await _citizen(session)
    first = await submit_report(session, citizen, _draft(), WorkCalendar(), NOW)
    ids = iter([first.tracking_id, first.tracking_id, "LPR-7K3M-Q9XD"])
    monkeypatch.setattr(intake, "new_tracking_id", lambda: next(ids))

    second = await submit_report(session, citizen, _draft(), WorkCalendar(), NOW)
    assert second.tracking_id == "LPR-7K3M-Q9XD"
    assert await session.scalar(select(func.count()).select_from(Report)) == 2


async def test_incomplete_draft_is_refused_and_nothing_written(session):
    citizen = await _citizen(session)
    with pytest.raises(DraftIncomplete) as info:
        await submit_report(session, citizen, _draft(location_text=None), WorkCalendar(), NOW)
    assert info.value.step == Step.LOCATION
    assert await session.scalar(select(func.count()).select_from(Report)) == 0


def test_complaint_cannot_skip_date_or_location():
    d = _draft(incident_date=None, date_skipped=True)
    assert d.first_missing() == Step.DATE
    d = _draft(classification="information", incident_date=None, date_skipped=True,
               location_text=None, location_skipped=True)
    assert d.is_complete()


def test_next_step_linear_and_while_editing():
    d = _draft()
    assert next_step(d, Step.TITLE, editing=False) == Step.BODY
    assert next_step(d, Step.TITLE, editing=True) == Step.CONFIRM
    # an aspiration without date turned into a complaint needs the date before the summary
    d = _draft(incident_date=None, date_skipped=True)
    assert next_step(d, Step.CLASSIFICATION, editing=True) == Step.DATE


def test_draft_survives_json_round_trip():
    import json

    d = _draft(agency_id=7, agency_name="Dinas <PUPR>", latitude=-1.25, longitude=116.83)
    again = Draft.from_data(json.loads(json.dumps(d.to_data())))
    assert again == d


def test_draft_data_is_what_asdict_gives_and_shares_nothing_mutable():
    from dataclasses import asdict

    d = _draft(held=[DraftAttachment("h", "u7", "document", 10, "application/pdf", "a.pdf")])
    data = d.to_data()
    assert data == asdict(d)
    assert list(data) == list(asdict(d))  # the same order (the stored JSON is unchanged)
    data["attachments"][0]["file_id"] = "changed"
    data["held"].clear()
    assert d.attachments[0].file_id != "changed" and d.held


def test_attachment_limits():
    d = _draft()
    assert check_attachment(d, DraftAttachment("x", "u1", "photo"), max_count=5, max_mb=1) == (
        AttachmentRefusal.DUPLICATE
    )
    assert check_attachment(d, DraftAttachment("x", "u9", "photo"), max_count=2, max_mb=1) == (
        AttachmentRefusal.TOO_MANY
    )
    big = DraftAttachment("x", "u9", "video", file_size=1024 * 1024 + 1)
    assert check_attachment(d, big, max_count=5, max_mb=1) == AttachmentRefusal.TOO_BIG
    ok = DraftAttachment("x", "u9", "video", file_size=1024 * 1024)
    assert check_attachment(d, ok, max_count=5, max_mb=1) is None


def test_an_anonymous_draft_keeps_only_a_coarse_point_and_names_the_files_no_cleaner_strips():
    d = Draft(privacy="anonymous", latitude=-1.2563417, longitude=116.8312789, attachments=[
        DraftAttachment("p", "u1", "photo"), DraftAttachment("v", "u2", "video"),
        DraftAttachment("d", "u3", "document", mime_type="application/msword", file_name="a.doc"),
        DraftAttachment("f", "u4", "document", mime_type="application/pdf", file_name="a.pdf"),
    ])
    assert d.protect_anonymity() and (d.latitude, d.longitude) == (-1.256, 116.831)
    assert not d.protect_anonymity()  # idempotent
    assert [a.file_id for a in d.uncleanable()] == ["v", "d"]
    public = Draft(privacy="public", latitude=-1.2563417, longitude=116.8312789)
    assert not public.protect_anonymity() and public.latitude == -1.2563417


def test_privacy_is_asked_before_the_location_and_the_files():
    order = list(Step)
    assert order.index(Step.PRIVACY) < order.index(Step.LOCATION) < order.index(Step.ATTACHMENTS)
