"""Importing the agency directory into a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.services.agency_import import AgencyImportError, import_agencies_file
from storage.models import Agency

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


async def _count(session) -> int:
    return await session.scalar(select(func.count()).select_from(Agency))


async def _by_name(session, name: str) -> Agency:
    return await session.scalar(select(Agency).where(Agency.name == name))


async def test_example_toml_imports_and_reimport_changes_nothing(session):
    first = await import_agencies_file(session, EXAMPLES / "agencies-ppu.toml")
    total = await _count(session)
    assert first.created == total > 20 and first.updated == first.unchanged == 0

    sepaku = await _by_name(session, "Kecamatan Sepaku")
    pemaluan = await _by_name(session, "Kelurahan Pemaluan")
    bumi = await _by_name(session, "Desa Bumi Harapan")  # parent given by name, not code
    assert pemaluan.parent_id == sepaku.id and bumi.parent_id == sepaku.id
    pdam = await _by_name(session, "Perumda Air Minum Danum Taka")
    assert pdam.kind == "bumd" and "PDAM" in pdam.aliases and pdam.code == "PDAM"

    again = await import_agencies_file(session, EXAMPLES / "agencies-ppu.toml")
    assert (again.created, again.updated, again.unchanged) == (0, 0, total)
    assert await _count(session) == total


async def test_reimport_updates_by_code_and_by_name(session, tmp_path):
    path = tmp_path / "a.toml"
    path.write_text(
        '[[agency]]\nname = "Dinas PU"\nkind = "opd"\ncode = "PUPR"\n\n'
        '[[agency]]\nname = "Kecamatan Waru"\nkind = "kecamatan"\n\n'
        '[[agency]]\nname = "Desa Sesulu"\nkind = "desa"\nparent = "Kecamatan Waru"\n'
    )
    await import_agencies_file(session, path)
    pu_id = (await _by_name(session, "Dinas PU")).id

    # Renamed (matched by code), given aliases, kecamatan given a code (matched by name), and the
    # desa listed before its kecamatan, which it now names by the new code.
    path.write_text(
        '[[agency]]\nname = "Desa Sesulu"\nkind = "desa"\nparent = "KEC-WARU"\n\n'
        '[[agency]]\nname = "Dinas Pekerjaan Umum dan Penataan Ruang"\nkind = "opd"\ncode = "PUPR"\n'
        'aliases = ["PUPR"]\n\n'
        '[[agency]]\nname = "kecamatan waru"\nkind = "kecamatan"\ncode = "KEC-WARU"\n'
    )
    summary = await import_agencies_file(session, path)
    assert (summary.created, summary.updated, summary.unchanged) == (0, 2, 1)
    assert await _count(session) == 3
    session.expire_all()
    pu = await session.get(Agency, pu_id)
    assert pu.name == "Dinas Pekerjaan Umum dan Penataan Ruang" and pu.aliases == ["PUPR"]
    waru = await _by_name(session, "kecamatan waru")
    assert waru.code == "KEC-WARU"
    assert (await _by_name(session, "Desa Sesulu")).parent_id == waru.id


async def test_csv_import_with_parents_before_they_appear(session):
    summary = await import_agencies_file(session, EXAMPLES / "agencies-example.csv")
    assert summary.created == await _count(session) == 7
    waru = await _by_name(session, "Kecamatan Waru")
    assert (await _by_name(session, "Desa Api-Api")).parent_id == waru.id
    assert (await _by_name(session, "Kelurahan Waru")).parent_id == waru.id


async def test_a_bad_file_writes_nothing(session, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("name,kind,parent\nDinas A,opd,\nDesa B,desa,Kecamatan Hilang\n")
    with pytest.raises(AgencyImportError, match="line 3: parent 'Kecamatan Hilang'"):
        await import_agencies_file(session, path)
    assert await _count(session) == 0


async def test_parent_may_already_be_in_the_directory(session, tmp_path):
    (tmp_path / "kec.csv").write_text("name,kind,code\nKecamatan Babulu,kecamatan,KEC-BABULU\n")
    (tmp_path / "desa.csv").write_text("name,kind,parent\nDesa Babulu Laut,desa,kec-babulu\n")
    await import_agencies_file(session, tmp_path / "kec.csv")
    await import_agencies_file(session, tmp_path / "desa.csv")
    babulu = await _by_name(session, "Kecamatan Babulu")
    assert (await _by_name(session, "Desa Babulu Laut")).parent_id == babulu.id


async def test_dry_run_reports_but_writes_nothing(session):
    summary = await import_agencies_file(session, EXAMPLES / "agencies-example.csv", dry_run=True)
    assert summary.created == 7
    assert await _count(session) == 0
