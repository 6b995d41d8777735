"""AgencyRepo, the directory the intake form browses (SQLite and PostgreSQL)."""

from __future__ import annotations

from storage.models import Agency
from storage.repositories.agencies import AgencyRepo


async def _seed(session) -> dict[str, Agency]:
    rows = {
        "dinkes": Agency(name="Dinas Kesehatan", kind="opd", aliases=["Dinkes"]),
        "pupr": Agency(name="Dinas Pekerjaan Umum dan Penataan Ruang", kind="opd", aliases=["PUPR", "PU"]),
        "disdik": Agency(name="Dinas Pendidikan", kind="opd", aliases=[]),
        "old": Agency(name="Dinas Lama", kind="opd", active=False),
        "pdam": Agency(name="Perumda Air Minum Danum Taka", kind="bumd", aliases=["PDAM"]),
        "penajam": Agency(name="Kecamatan Penajam", kind="kecamatan"),
        "waru": Agency(name="Kecamatan Waru", kind="kecamatan"),
    }
    session.add_all(rows.values())
    await session.flush()
    rows["nenang"] = Agency(name="Kelurahan Nenang", kind="kelurahan", parent_id=rows["penajam"].id)
    rows["girimukti"] = Agency(name="Desa Girimukti", kind="desa", parent_id=rows["penajam"].id)
    rows["waru_k"] = Agency(name="Kelurahan Waru", kind="kelurahan", parent_id=rows["waru"].id)
    session.add_all([rows["nenang"], rows["girimukti"], rows["waru_k"]])
    await session.commit()
    return rows


async def test_list_by_kind_pages_active_rows_by_name(session):
    await _seed(session)
    repo = AgencyRepo(session)
    assert await repo.count_by_kind("opd") == 3
    page1 = await repo.list_by_kind("opd", limit=2)
    page2 = await repo.list_by_kind("opd", offset=2, limit=2)
    assert [a.name for a in page1] == ["Dinas Kesehatan", "Dinas Pekerjaan Umum dan Penataan Ruang"]
    assert [a.name for a in page2] == ["Dinas Pendidikan"]


async def test_children_of_a_kecamatan(session):
    rows = await _seed(session)
    repo = AgencyRepo(session)
    kids = await repo.children(rows["penajam"].id)
    assert [a.name for a in kids] == ["Desa Girimukti", "Kelurahan Nenang"]
    assert await repo.count_children(rows["penajam"].id) == 2
    assert await repo.count_children(rows["waru"].id) == 1


async def test_search_matches_names_and_aliases_case_insensitively(session):
    rows = await _seed(session)
    repo = AgencyRepo(session)
    assert [a.id for a in await repo.search("pdam")] == [rows["pdam"].id]
    assert [a.id for a in await repo.search("  KESEHATAN ")] == [rows["dinkes"].id]
    # exact alias first, then the rest by name
    found = await repo.search("pu")
    assert found[0].id == rows["pupr"].id
    names = [a.name for a in await repo.search("waru")]
    assert names == ["Kecamatan Waru", "Kelurahan Waru"]
    assert await repo.search("lama") == []  # inactive
    assert await repo.search("   ") == []
    assert await repo.search('"]') == []  # JSON punctuation does not match the alias text
    assert len(await repo.search("a", limit=3)) == 3


async def test_get_active(session):
    rows = await _seed(session)
    repo = AgencyRepo(session)
    assert (await repo.get_active(rows["dinkes"].id)).name == "Dinas Kesehatan"
    assert await repo.get_active(rows["old"].id) is None
    assert (await repo.get(rows["old"].id)).name == "Dinas Lama"
