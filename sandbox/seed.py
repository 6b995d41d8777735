"""What the sandbox starts with: the example directory, one admin, one officer per agency, a few
citizens, and (``--seed-demo``) a few dozen reports in every status.

The people are simulated Telegram users of the local Bot API server *and* rows in the database
(admins and officers are bound directly, as if they had redeemed an invite long ago). Demo
reports are written through the models, with the timeline events the services would have
written, so the statistics have history to show without replaying weeks of casework.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import deadlines, timing
from bot.domain.enums import (
    ActorRole,
    Classification,
    EventKind,
    GroupDelivery,
    GroupLinkStatus,
    Privacy,
    ReportStatus,
)
from bot.domain.tracking import new_tracking_id
from bot.domain.workdays import WorkCalendar
from bot.services.agency_import import import_agencies_file
from sandbox.botapi.models import SimUser
from storage.models import Agency, AgencyGroup, Citizen, Officer, Report, ReportEvent

# Telegram ids far from each other so a person's role is visible from the id in logs.
ADMIN_ID = 9_000_001
OFFICER_ID_BASE = 8_000_000
CITIZEN_ID_BASE = 7_000_000
GROUP_MEMBER_ID = 6_000_001
GROUP_CHAT_ID = -100_900_000_001

S = ReportStatus


def default_directory() -> Path:
    """examples/agencies-ppu.toml of the source tree (the sandbox runs from a checkout)."""
    return Path(__file__).resolve().parents[1] / "examples" / "agencies-ppu.toml"


def citizen_user(n: int, language: str = "id") -> SimUser:
    return SimUser(id=CITIZEN_ID_BASE + n, first_name=f"Warga {n}", language_code=language)


@dataclass(frozen=True)
class OfficerSeat:
    user: SimUser
    agency_id: int
    agency_name: str
    agency_code: str | None


@dataclass(frozen=True)
class GroupSeat:
    """An agency's forum group, linked already (as if an officer had sent /hubungkan and the
    admin confirmed): its officer and a member who is no officer, to show who may press what."""

    chat_id: int
    title: str
    agency_id: int
    agency_name: str
    members: tuple[SimUser, ...]


@dataclass
class People:
    """Everyone the page can act as."""

    admin: SimUser
    officers: list[OfficerSeat] = field(default_factory=list)
    citizens: list[SimUser] = field(default_factory=list)
    groups: list[GroupSeat] = field(default_factory=list)

    def all_users(self) -> list[SimUser]:
        members = [m for g in self.groups for m in g.members]
        return [self.admin, *(o.user for o in self.officers), *self.citizens,
                *(m for m in members if m.id not in {o.user.id for o in self.officers})]

    def officer_for(self, agency_code: str) -> OfficerSeat:
        return next(o for o in self.officers if o.agency_code == agency_code)

    def next_citizen(self, language: str = "id") -> SimUser:
        user = citizen_user(len(self.citizens) + 1, language)
        self.citizens.append(user)
        return user


def _officer_user(index: int, agency: Agency) -> SimUser:
    short = agency.code or agency.name.split(" ", 1)[-1]
    handle = "".join(ch for ch in (agency.code or f"a{agency.id}").lower() if ch.isalnum())
    return SimUser(
        id=OFFICER_ID_BASE + index, first_name="Petugas", last_name=short,
        username=f"petugas_{handle}"[:32], language_code="id",
    )


async def seed_people(
    session: AsyncSession, directory: Path, *, citizens: int, language: str = "id"
) -> People:
    """Import the directory and bind the admin and one officer per agency. Commits."""
    await import_agencies_file(session, directory)  # commits
    now = datetime.now(UTC)
    admin = SimUser(id=ADMIN_ID, first_name="Admin", last_name="Diskominfo",
                    username="admin_diskominfo", language_code=language)
    session.add(_citizen_row(admin, now))
    agencies = (await session.scalars(select(Agency).where(Agency.active).order_by(Agency.id))).all()
    people = People(admin=admin)
    for i, agency in enumerate(agencies, start=1):
        user = _officer_user(i, agency)
        row = _citizen_row(user, now)
        session.add(row)
        await session.flush()
        session.add(Officer(agency_id=agency.id, citizen_id=row.id, bound_at=now))
        people.officers.append(OfficerSeat(user, agency.id, agency.name, agency.code))
    for _ in range(citizens):
        # Citizens get no row: the bot meets them on their first /start, as a newcomer would.
        people.next_citizen(language)
    if people.officers:
        people.groups.append(await _seed_group(session, people, people.officers[0], now))
    await session.commit()
    return people


async def _seed_group(session: AsyncSession, people: People, seat: OfficerSeat, now: datetime) -> GroupSeat:
    """The first agency's forum group, its officer and a staff member who is no officer in it,
    linked to the agency; the bot is an admin there so it can open a topic per report."""
    short = seat.agency_code or seat.agency_name
    staff = SimUser(id=GROUP_MEMBER_ID, first_name="Staf", last_name=short, language_code=people.admin.language_code)
    row = await session.scalar(select(Citizen).where(Citizen.telegram_id == seat.user.id))
    assert row is not None
    group = GroupSeat(GROUP_CHAT_ID, f"Grup {short}", seat.agency_id, seat.agency_name, (seat.user, staff))
    session.add(AgencyGroup(
        agency_id=seat.agency_id, chat_id=group.chat_id, title=group.title, is_forum=True,
        status=GroupLinkStatus.ACTIVE, delivery=GroupDelivery.ALSO, requested_by_id=row.id, decided_at=now,
    ))
    return group


def _citizen_row(user: SimUser, now: datetime) -> Citizen:
    return Citizen(
        telegram_id=user.id, first_name=user.first_name, last_name=user.last_name,
        username=user.username, language=user.language_code, consent_at=now,
    )


# -- demo reports --------------------------------------------------------------------------------

# (title, body, agency code, classification)
_SUBJECTS: list[tuple[str, str, str, Classification]] = [
    ("Jalan berlubang di Jl. Propinsi km 4", "Lubang besar di tengah jalan, sudah dua motor jatuh minggu ini.",
     "PUPR", Classification.COMPLAINT),
    ("Lampu jalan padam di depan pasar", "Sejak sepekan lampu jalan di depan Pasar Induk mati, rawan kejahatan.",
     "DISHUB", Classification.COMPLAINT),
    ("Sampah menumpuk di TPS Nenang", "Sampah tidak diangkut sejak lima hari dan berbau.",
     "DLH", Classification.COMPLAINT),
    ("Air PDAM keruh di Kelurahan Penajam", "Air keruh kecokelatan sejak hujan deras kemarin.",
     "PDAM", Classification.COMPLAINT),
    ("Antrean KTP-el sangat lama", "Datang jam 8 pagi, baru dilayani jam 2 siang.",
     "DUKCAPIL", Classification.COMPLAINT),
    ("Jadwal vaksinasi anak di puskesmas", "Kapan jadwal imunisasi dasar di Puskesmas Waru bulan ini?",
     "DINKES", Classification.INFORMATION),
    ("Usul taman baca di kantor desa", "Mohon disediakan pojok baca untuk anak-anak di balai desa.",
     "DISDIKBUD", Classification.ASPIRATION),
    ("Drainase tersumbat saat hujan", "Air meluap ke rumah warga setiap hujan karena selokan tersumbat.",
     "PUPR", Classification.COMPLAINT),
    ("Pelayanan IGD lambat", "Pasien menunggu lebih dari dua jam tanpa penanganan.",
     "RSUD", Classification.COMPLAINT),
    ("Pedagang berjualan di trotoar", "Trotoar di Jl. Provinsi tertutup lapak, pejalan kaki turun ke jalan.",
     "SATPOLPP", Classification.COMPLAINT),
    ("Cara bayar PBB secara daring", "Apakah PBB bisa dibayar lewat aplikasi bank?",
     "BAPENDA", Classification.INFORMATION),
    ("Pohon tumbang menutup jalan desa", "Pohon besar tumbang setelah angin kencang, jalan tertutup.",
     "BPBD", Classification.COMPLAINT),
    ("Usul jalur sepeda ke sekolah", "Mohon dibuat jalur sepeda aman dari permukiman ke SMP 1.",
     "DISHUB", Classification.ASPIRATION),
    ("Sinyal internet kantor kecamatan putus", "Layanan daring di kantor kecamatan sering terhenti.",
     "DISKOMINFO", Classification.COMPLAINT),
]

# How many demo reports of each status (about three dozen in all).
_DEMO_MIX: list[tuple[ReportStatus, int]] = [
    (S.SUBMITTED, 4), (S.POSTPONED, 2), (S.RETURNED, 2), (S.ASSIGNED, 4), (S.IN_PROGRESS, 4),
    (S.AWAITING_REPORTER, 2), (S.ANSWERED, 4), (S.CLOSED, 10), (S.REJECTED, 3), (S.ARCHIVED, 2),
    (S.WITHDRAWN, 2),
]

_ANSWER = "Terima kasih atas laporannya. Petugas kami sudah menindaklanjuti di lapangan."


@dataclass
class _Timeline:
    report: Report
    events: list[ReportEvent] = field(default_factory=list)

    def add(self, kind: EventKind, at: datetime, role: ActorRole, *, actor: int | None, agency: int | None,
            from_status: str | None, to_status: str | None, note: str | None = None) -> None:
        self.events.append(ReportEvent(
            created_at=at, actor_role=role, actor_citizen_id=actor, agency_id=agency, kind=kind,
            from_status=from_status, to_status=to_status, note=note,
        ))


def _working_day_back(cal: WorkCalendar, today: date, days: int) -> date:
    day = today - timedelta(days=days)
    while days and not cal.is_working_day(day):
        day -= timedelta(days=1)
    return day


def _working_moment(cal: WorkCalendar, day, hour: int, rng: random.Random) -> datetime:
    local = datetime.combine(day, time(hour, rng.randrange(60)), tzinfo=cal.now_local().tzinfo)
    return local.astimezone(UTC)


async def seed_demo_reports(
    session: AsyncSession, people: People, calendar: WorkCalendar, *, seed: int = 6
) -> int:
    """Write the demo reports of ``_DEMO_MIX`` spread over the last two months. Commits."""
    rng = random.Random(seed)
    citizens = await _citizen_rows(session, people)
    officers = await _officer_citizen_ids(session)
    admin_id = await session.scalar(select(Citizen.id).where(Citizen.telegram_id == people.admin.id))
    agencies = {a.code: a.id for a in (await session.scalars(select(Agency))).all() if a.code}
    today = calendar.now_local().date()
    count = 0
    for status, n in _DEMO_MIX:
        for _ in range(n):
            title, body, code, classification = _SUBJECTS[count % len(_SUBJECTS)]
            agency_id = agencies.get(code)
            age = rng.randrange(1, 45) if status not in (S.SUBMITTED, S.ASSIGNED) else rng.randrange(0, 6)
            submitted = _working_moment(calendar, _working_day_back(calendar, today, age),
                                        rng.randrange(8, 15), rng)
            reporter = citizens[count % len(citizens)]
            t = _build(status, title, body, classification, agency_id, submitted, reporter.id, admin_id,
                       officers.get(agency_id), calendar, rng, today)
            count += 1
            r = t.report
            # Its last step's time is when a terminal report ended (closing, rejection, withdrawal).
            for name, value in timing.facts_of_history(r.submitted_at, r.status, r.first_response_at, r.closed_at,
                                                       r.closed_at or r.updated_at, calendar,
                                                       answered_at=r.answered_at,
                                                       completion_due=r.completion_due).items():
                setattr(r, name, value)
            session.add(r)
            await session.flush()
            for event in t.events:
                event.report_id = t.report.id
                session.add(event)
    await session.commit()
    return count


def _build(status, title, body, classification, agency_id, submitted, reporter_id, admin_id, officer_id,
           cal: WorkCalendar, rng: random.Random, today) -> _Timeline:
    privacy = rng.choice([Privacy.PUBLIC, Privacy.PUBLIC, Privacy.ANONYMOUS, Privacy.CONFIDENTIAL])
    report = Report(
        tracking_id=new_tracking_id(), citizen_id=reporter_id, classification=classification.value,
        title=title, body=body, privacy=privacy.value, supervisory=False, status=status.value,
        language="id", requested_agency_id=agency_id if rng.random() < 0.6 else None,
        location_text="Penajam Paser Utara" if classification == Classification.COMPLAINT else None,
        submitted_at=submitted, created_at=submitted, updated_at=submitted,
        verify_due=deadlines.verify_due(submitted, cal),
        completion_due=deadlines.completion_due(submitted, classification, False, cal),
    )
    t = _Timeline(report)
    t.add(EventKind.SUBMITTED, submitted, ActorRole.CITIZEN, actor=reporter_id, agency=None,
          from_status=None, to_status=S.SUBMITTED)
    now = datetime.now(UTC)

    def step(after: datetime, max_days: int) -> datetime:
        # Later than ``after`` by some working days, but never in the future.
        day = cal.add_working_days(cal.local_date(after), rng.randrange(0, max_days + 1))
        moment = max(_working_moment(cal, day, rng.randrange(8, 16), rng), after + timedelta(minutes=5))
        return min(moment, now)

    if status in (S.SUBMITTED,):
        return t
    if status == S.WITHDRAWN:
        # The reporter took it back while it waited for verification, with their reason.
        at = step(submitted, 2)
        t.add(EventKind.WITHDRAWN, at, ActorRole.CITIZEN, actor=reporter_id, agency=None,
              from_status=S.SUBMITTED, to_status=status, note="Masalahnya sudah diperbaiki warga sendiri.")
        report.updated_at = at
        return t
    if status in (S.POSTPONED, S.REJECTED, S.ARCHIVED):
        at = step(submitted, 2)
        kind = {
            S.POSTPONED: EventKind.POSTPONED, S.REJECTED: EventKind.REJECTED, S.ARCHIVED: EventKind.ARCHIVED
        }[status]
        note = "Laporan terlalu umum; mohon lengkapi lokasi." if status == S.REJECTED else None
        t.add(kind, at, ActorRole.ADMIN, actor=admin_id, agency=None, from_status=S.SUBMITTED, to_status=status,
              note=note)
        report.updated_at = at
        if status in (S.REJECTED, S.ARCHIVED):
            report.closed_at = at if status == S.REJECTED else None
        return t

    assigned = step(submitted, 3)
    t.add(EventKind.ASSIGNED, assigned, ActorRole.ADMIN, actor=admin_id, agency=agency_id,
          from_status=S.SUBMITTED, to_status=S.ASSIGNED)
    report.agency_id, report.assigned_at = agency_id, assigned
    report.followup_due = deadlines.followup_due(assigned, cal)
    report.updated_at = assigned
    if status == S.ASSIGNED:
        return t
    if status == S.RETURNED:
        at = step(assigned, 2)
        t.add(EventKind.RETURNED, at, ActorRole.OFFICER, actor=officer_id, agency=agency_id,
              from_status=S.ASSIGNED, to_status=S.RETURNED, note="Bukan kewenangan kami; mohon dialihkan.")
        report.status, report.agency_id, report.first_response_at, report.updated_at = S.RETURNED, None, at, at
        return t

    taken = step(assigned, 2)
    t.add(EventKind.TAKEN, taken, ActorRole.OFFICER, actor=officer_id, agency=agency_id,
          from_status=S.ASSIGNED, to_status=S.IN_PROGRESS)
    report.first_response_at = report.updated_at = taken
    if status == S.IN_PROGRESS:
        return t
    if status == S.AWAITING_REPORTER:
        at = step(taken, 1)
        t.add(EventKind.INFO_REQUESTED, at, ActorRole.OFFICER, actor=officer_id, agency=agency_id,
              from_status=S.IN_PROGRESS, to_status=S.AWAITING_REPORTER, note="Mohon kirim foto lokasinya.")
        report.updated_at = at
        return t

    answered = step(taken, 4)
    t.add(EventKind.ANSWERED, answered, ActorRole.OFFICER, actor=officer_id, agency=agency_id,
          from_status=S.IN_PROGRESS, to_status=S.ANSWERED, note=_ANSWER)
    report.answered_at = report.updated_at = answered
    report.reply_due = deadlines.reply_due(answered, cal)
    if status == S.ANSWERED:
        return t

    closed = step(answered, 3)
    rating = rng.choice([3, 4, 4, 5, 5, 5])
    t.add(EventKind.ACCEPTED, closed, ActorRole.CITIZEN, actor=reporter_id, agency=agency_id,
          from_status=S.ANSWERED, to_status=S.CLOSED, note=f"{rating}/5")
    report.closed_at = report.updated_at = closed
    report.rating = rating
    return t


async def _citizen_rows(session: AsyncSession, people: People) -> list[Citizen]:
    """The seeded citizens' rows, made now: demo reports need an owner the page can act as."""
    now = datetime.now(UTC)
    rows = []
    for user in people.citizens:
        row = await session.scalar(select(Citizen).where(Citizen.telegram_id == user.id))
        if row is None:
            row = _citizen_row(user, now)
            session.add(row)
        rows.append(row)
    await session.flush()
    return rows


async def _officer_citizen_ids(session: AsyncSession) -> dict[int, int]:
    rows = await session.execute(select(Officer.agency_id, Officer.citizen_id).where(Officer.revoked_at.is_(None)))
    return {agency_id: citizen_id for agency_id, citizen_id in rows.all()}
