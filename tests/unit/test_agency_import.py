"""Parsing and checking an agency directory file, before any database is involved."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from bot.domain.enums import AgencyKind
from bot.services.agency_import import (
    AgencyEntry,
    AgencyImportError,
    _plan,
    parse_csv,
    parse_file,
    parse_toml,
)
from storage.models import Agency

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_toml_entries_with_parent_code_and_aliases():
    entries = parse_toml(
        """
[[agency]]
name = "Dinas  Kesehatan"
kind = "OPD"
code = "DINKES"
aliases = ["Dinkes", "dinkes", " "]

[[agency]]
name = "Desa Sesulu"
kind = "desa"
parent = "KEC-WARU"
"""
    )
    assert entries[0] == AgencyEntry("entry 1 (line 2)", "Dinas Kesehatan", AgencyKind.OPD, None,
                                     "DINKES", ("Dinkes",))
    assert entries[1].parent == "KEC-WARU" and entries[1].aliases is None
    assert entries[1].where == "entry 2 (line 8)"


def test_toml_errors_name_every_bad_entry():
    with pytest.raises(AgencyImportError) as err:
        parse_toml(
            """
[[agency]]
name = "Dinas A"
kind = "dinas"

[[agency]]
kind = "opd"

[[agency]]
name = "Dinas B"
kind = "opd"
colour = "red"
"""
        )
    problems = err.value.problems
    assert len(problems) == 3
    assert problems[0].startswith("entry 1 (line 2): unknown kind 'dinas'")
    assert problems[1] == "entry 2 (line 6): name is missing"
    assert problems[2] == "entry 3 (line 9): unknown key(s) colour"


def test_toml_syntax_error_and_no_entries():
    with pytest.raises(AgencyImportError, match="not valid TOML"):
        parse_toml("[[agency]\nname=")
    with pytest.raises(AgencyImportError, match="no \\[\\[agency\\]\\] entries"):
        parse_toml("title = 'x'\n")


def test_csv_with_comments_quotes_and_line_numbers():
    entries = parse_csv(
        "# example\n"
        "name,kind,parent,code,aliases\n"
        '"Dinas Komunikasi, Informatika",opd,,DISKOMINFO,Kominfo;Diskominfo\n'
        "\n"
        "Desa Api-Api,desa,KEC-WARU,,\n"
    )
    assert [e.where for e in entries] == ["line 3", "line 5"]
    assert entries[0].name == "Dinas Komunikasi, Informatika"
    assert entries[0].aliases == ("Kominfo", "Diskominfo")
    assert entries[1].code is None and entries[1].aliases is None and entries[1].parent == "KEC-WARU"


def test_csv_errors():
    with pytest.raises(AgencyImportError, match="line 1: the header needs name and kind"):
        parse_csv("nama,jenis\nA,opd\n")
    with pytest.raises(AgencyImportError) as err:
        parse_csv("name,kind\nA,opd\nB,kantor\nC,opd,extra\n")
    assert err.value.problems[0].startswith("line 3: unknown kind 'kantor'")
    assert err.value.problems[1] == "line 4: 3 columns, the header has 2"


def test_shipped_examples_parse_and_plan_cleanly():
    toml_entries = parse_file(EXAMPLES / "agencies-ppu.toml")
    names = {e.name for e in toml_entries}
    for expected in ("Dinas Pekerjaan Umum dan Penataan Ruang", "Perumda Air Minum Danum Taka",
                     "Kecamatan Penajam", "Kecamatan Waru", "Kecamatan Babulu", "Kecamatan Sepaku",
                     "RSUD Ratu Aji Putri Botung"):
        assert expected in names
    assert {e.kind for e in toml_entries} == set(AgencyKind)
    assert _plan(toml_entries, []) is not None
    csv_entries = parse_file(EXAMPLES / "agencies-example.csv")
    assert _plan(csv_entries, []) is not None
    assert "EXAMPLE" in (EXAMPLES / "agencies-ppu.toml").read_text().splitlines()[1]


def test_unknown_file_type(tmp_path):
    path = tmp_path / "agencies.xlsx"
    path.write_text("x")
    with pytest.raises(AgencyImportError, match="unknown file type .xlsx"):
        parse_file(path)


_entry_numbers = itertools.count(1)


def _e(name, kind="opd", parent=None, code=None):
    return AgencyEntry(f"entry {next(_entry_numbers)}", name, AgencyKind(kind), parent, code, None)


def test_missing_parent_and_duplicates():
    with pytest.raises(AgencyImportError) as err:
        _plan([_e("A", code="X"), _e("a"), _e("B", code="x"), _e("C", parent="Nowhere")], [])
    text = "\n".join(err.value.problems)
    assert "'a' is listed twice" in text
    assert "code 'x' is used twice" in text
    assert "parent 'Nowhere' of 'C' is not in the file or the directory" in text


def test_cycles_are_reported_once_with_their_path():
    entries = [_e("A", parent="B"), _e("B", parent="C"), _e("C", parent="A"), _e("D", parent="D"),
               _e("E", parent="A")]
    with pytest.raises(AgencyImportError) as err:
        _plan(entries, [])
    cycles = [p for p in err.value.problems if "cycle" in p]
    assert len(cycles) == 2
    assert any("A → B → C → A" in p for p in cycles)
    assert any("D → D" in p for p in cycles)


def test_cycle_through_the_existing_directory():
    # In the database X sits under A; the file puts A under X.
    a = Agency(id=1, name="A", kind="opd", parent_id=2, aliases=[])
    x = Agency(id=2, name="X", kind="opd", parent_id=None, aliases=[])
    with pytest.raises(AgencyImportError, match="cycle"):
        _plan([_e("X", parent="A")], [a, x])


def test_village_must_sit_under_a_kecamatan():
    with pytest.raises(AgencyImportError, match="a desa sits under a kecamatan, not 'Dinas A'"):
        _plan([_e("Dinas A"), _e("Desa B", kind="desa", parent="Dinas A")], [])


def test_rename_onto_a_name_held_by_another_agency():
    existing = [Agency(id=1, name="Dinas A", kind="opd", code="DA", aliases=[]),
                Agency(id=2, name="Dinas B", kind="opd", code="DB", aliases=[])]
    with pytest.raises(AgencyImportError, match="the name 'Dinas B' already belongs to another"):
        _plan([_e("Dinas B", code="DA")], existing)
