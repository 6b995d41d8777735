"""The report's life in SP4N-LAPOR! itself: LAPOR!'s form, its tracking number, the connector.

A district enters complaints from its other channels into SP4N-LAPOR! by hand; this module
gives the coordinator the fields in LAPOR!'s own order and wording (``LaporForm``, also the
``lapor-bot export --format lapor`` columns) and records the tracking number LAPOR! gave
(``record_lapor_id``), which the citizen is told of and sees in /laporan.

``LaporConnector`` is where an automatic integration plugs in. LAPOR!'s integration API is
documented to registered integrators only, so the one implementation here is the manual path
(``ManualConnector``): ``submit`` hands the form to a person, ``fetch_status`` knows nothing. A
district's integrator implements both against LAPOR!'s API and passes the object to
``build_app`` (``lapor_connector=``); nothing else changes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.access import Action, Actor
from bot.domain.enums import ActorRole, Classification, EventKind, Privacy
from bot.domain.lapor import lapor_report_url, normalize_lapor_id
from bot.services import audit, recipients
from bot.services.casework import core
from bot.services.casework.core import Casework
from bot.services.notices import LaporRecorded
from storage.models import Report
from storage.repositories.agencies import AgencyRepo
from storage.repositories.reports import ReportRepo

# LAPOR!'s own field names, in the order of its form (lapor.go.id, "Sampaikan Laporan Anda").
# Indonesian whatever the reader's language: they must match the form being filled in.
HEADERS = ("Nomor pelacakan kanal", "Klasifikasi", "Judul", "Isi Laporan", "Tanggal Kejadian",
           "Lokasi", "Instansi Tujuan", "Kategori", "Anonim", "Rahasia", "Nomor LAPOR!")
_CLASSIFICATION = {
    Classification.COMPLAINT: "Pengaduan",
    Classification.ASPIRATION: "Aspirasi",
    Classification.INFORMATION: "Permintaan Informasi",
}


@dataclass(frozen=True)
class LaporForm:
    """One report as LAPOR!'s form asks for it (plain text, not escaped)."""

    tracking_id: str  # ours: to find the report again when recording LAPOR!'s number
    klasifikasi: str
    judul: str
    isi_laporan: str
    tanggal_kejadian: str  # DD/MM/YYYY, or "" when not given
    lokasi: str
    instansi_tujuan: str
    kategori: str
    anonim: str  # Ya | Tidak
    rahasia: str
    lapor_id: str  # "" until recorded

    def cells(self) -> tuple[str, ...]:
        return (self.tracking_id, self.klasifikasi, self.judul, self.isi_laporan, self.tanggal_kejadian,
                self.lokasi, self.instansi_tujuan, self.kategori, self.anonim, self.rahasia, self.lapor_id)


def form_of(report: Report | Row, agency_name: str | None, category_name: str | None) -> LaporForm:
    """``report``: the ORM object, or a row of the export's query with the same column names."""
    place = report.location_text or ""
    if report.latitude is not None and report.longitude is not None:
        place = f"{place} ({report.latitude:.6f}, {report.longitude:.6f})".strip()
    return LaporForm(
        tracking_id=report.tracking_id,
        klasifikasi=_CLASSIFICATION.get(report.classification, report.classification),
        judul=report.title,
        isi_laporan=report.body,
        tanggal_kejadian=report.incident_date.strftime("%d/%m/%Y") if report.incident_date else "",
        lokasi=place,
        instansi_tujuan=agency_name or "",
        kategori=category_name or "",
        anonim="Ya" if report.privacy == Privacy.ANONYMOUS else "Tidak",
        rahasia="Ya" if report.privacy == Privacy.CONFIDENTIAL else "Tidak",
        lapor_id=report.lapor_id or "",
    )


# -- the connector ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Submission:
    """What submitting gave: LAPOR!'s tracking number, or None when a person enters the form."""

    lapor_id: str | None


@dataclass(frozen=True)
class LaporStatus:
    status: str
    updated_at: datetime | None = None


class LaporConnector(Protocol):
    async def submit(self, form: LaporForm) -> Submission: ...

    async def fetch_status(self, lapor_id: str) -> LaporStatus | None: ...


class ManualConnector:
    """The coordinator enters the form at lapor.go.id and types back the number it gives."""

    async def submit(self, form: LaporForm) -> Submission:
        return Submission(lapor_id=None)

    async def fetch_status(self, lapor_id: str) -> LaporStatus | None:
        return None


# -- use cases ----------------------------------------------------------------------------------
async def lapor_form(session: AsyncSession, actor: Actor, report_id: int) -> LaporForm:
    """The form for one report, for an admin to enter into LAPOR!."""
    report = await core.report_for(session, actor, Action.RECORD_LAPOR_ID, report_id)
    agency_id = report.agency_id or report.requested_agency_id
    agency = await AgencyRepo(session).get(agency_id) if agency_id else None
    return form_of(report, agency.name if agency else None, report.category.name if report.category else None)


class LaporIdTaken(Exception):
    """The number is already recorded on another report (a typo, or the wrong report)."""

    def __init__(self, tracking_id: str) -> None:
        super().__init__(tracking_id)
        self.tracking_id = tracking_id


async def record_lapor_id(
    session: AsyncSession, cw: Casework, actor: Actor, report_id: int, number: str, now: datetime, *,
    report_url: str,
) -> Report:
    """Record LAPOR!'s tracking number on a report (correcting it is recording again). The
    reporter is told, with a link to the report's page on lapor.go.id; audited; commits.

    Raises ``ValueError`` for a number that is not one, ``LaporIdTaken`` when another report
    has it, ``Refused`` for someone who may not or an unknown report."""
    report = await core.report_for(session, actor, Action.RECORD_LAPOR_ID, report_id)
    lapor_id = normalize_lapor_id(number)
    if lapor_id is None:
        raise ValueError("not a LAPOR! tracking number")
    if report.lapor_id == lapor_id:
        return report
    holder = await ReportRepo(session).by_lapor_id(lapor_id)
    if holder is not None:
        raise LaporIdTaken(holder.tracking_id)
    previous = report.lapor_id
    report.lapor_id, report.lapor_recorded_at, report.updated_at = lapor_id, now, now
    await core.add_event(session, report, EventKind.LAPOR_RECORDED, role=ActorRole.ADMIN,
                         actor_id=actor.citizen_id, agency_id=None, from_status=None, to_status=None,
                         note=lapor_id, now=now)
    # None for a report filed through the Open311 API: nobody to tell in Telegram.
    if (to := await recipients.reporter_of(session, report)) is not None:
        notice = LaporRecorded(report, lapor_id, lapor_report_url(report_url, lapor_id))
        await cw.notifier.send(session, to, notice, now=now)
    await audit.record(session, actor, audit.AuditAction.LAPOR_ID, report.tracking_id,
                       {"report_id": report.id, "lapor_id": lapor_id, "previous": previous})
    try:
        await session.commit()
    except IntegrityError:  # another admin recorded the same number a moment ago
        await session.rollback()
        raise LaporIdTaken("") from None
    return report


async def stream_lapor_rows(session: AsyncSession, start: datetime, end: datetime,
                           batch: int = 1000) -> AsyncIterator[Sequence[Row]]:
    """Every verified report received in [start, end), in batches of the rows ``lapor_forms``
    turns into forms (the export: the rows are fetched here, the forms made in its worker
    thread)."""
    async for rows in ReportRepo(session).stream_verified_between(start, end, batch):
        yield rows


def lapor_forms(rows: Sequence[Row], agency_names: dict[int, str]) -> list[tuple[datetime, LaporForm]]:
    """Each row of ``stream_lapor_rows`` as LAPOR!'s form, with its report's submission time."""
    return [
        (r.submitted_at, form_of(r, agency_names.get(r.agency_id or r.requested_agency_id or 0),
                                 r.category_name))
        for r in rows
    ]
