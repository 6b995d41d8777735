"""Importing the category tree (``lapor-bot categories import``) into a real database, SQLite
and PostgreSQL: the example file, idempotence, and every refusal before anything is written."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.services.agency_import import import_agencies_file
from bot.services.category_import import CategoryImportError, import_categories, parse_csv, parse_file, parse_toml
from storage.models import Agency, Category

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


async def _count(session) -> int:
    return await session.scalar(select(func.count()).select_from(Category))


async def _by_code(session, code: str) -> Category:
    return await session.scalar(select(Category).where(Category.code == code))


async def test_example_tree_imports_with_default_agencies_and_reimport_changes_nothing(session):
    await import_agencies_file(session, EXAMPLES / "agencies-ppu.toml")
    entries = parse_file(EXAMPLES / "categories.toml")
    first = await import_categories(session, entries)
    total = await _count(session)
    assert first.created == total == len(entries) > 20 and first.updated == first.unchanged == 0

    infra, road = await _by_code(session, "infrastruktur"), await _by_code(session, "jalan-rusak")
    assert road.parent_id == infra.id and infra.parent_id is None
    pupr = await session.scalar(select(Agency).where(Agency.code == "PUPR"))
    assert road.default_agency_id == pupr.id
    assert road.attributes[0]["code"] == "ukuran" and len(road.attributes[0]["values"]) == 3
    # Two levels: nothing sits under a category that itself has a parent.
    rows = (await session.scalars(select(Category))).all()
    parent_of = {c.id: c.parent_id for c in rows}
    assert all(parent_of[p] is None for p in set(parent_of.values()) - {None})

    again = await import_categories(session, parse_file(EXAMPLES / "categories.toml"))
    assert (again.created, again.updated, again.unchanged) == (0, 0, total)


async def test_a_changed_entry_is_updated_in_place_and_others_are_left_alone(session):
    await import_categories(session, parse_toml(
        '[[category]]\ncode = "a"\nname = "A"\n[[category]]\ncode = "b"\nname = "B"\n'))
    summary = await import_categories(session, parse_toml(
        '[[category]]\ncode = "a"\nname = "A baru"\nactive = false\n'))
    assert (summary.created, summary.updated) == (0, 1)
    a, b = await _by_code(session, "a"), await _by_code(session, "b")
    assert (a.name, a.active, b.name, b.active) == ("A baru", False, "B", True)
    assert await _count(session) == 2


def test_csv_with_comments_and_parents():
    entries = parse_csv("# comment\ncode,name,parent,name_en\ninfra,Infrastruktur,,Infrastructure\n"
                        "jalan,Jalan rusak,infra,\n")
    assert [(e.code, e.parent, e.name_en) for e in entries] == [
        ("infra", None, "Infrastructure"), ("jalan", "infra", None)]


@pytest.mark.parametrize(("text", "problem"), [
    ('[[category]]\ncode = "lainnya"\nname = "X"\n', "reserved"),
    ('[[category]]\ncode = "Bad Code!"\nname = "X"\n', "may hold only"),
    ('[[category]]\ncode = "x"\n', "name is missing"),
    ('[[category]]\ncode = "x"\nname = "X"\ncolour = "red"\n', "unknown key"),
    ('[[category]]\ncode = "x"\nname = "X"\n[[category.attribute]]\ncode = "s"\ndescription = "Size?"\n'
     'datatype = "singlevaluelist"\nrequired = true\n', "needs values"),
])
def test_bad_entries_are_refused_with_their_place(text, problem):
    with pytest.raises(CategoryImportError) as exc:
        parse_toml(text)
    assert problem in exc.value.problems[0] and "entry 1 (line 1)" in exc.value.problems[0]


@pytest.mark.parametrize(("text", "problem"), [
    # Three levels would need three taps.
    ('[[category]]\ncode = "a"\nname = "A"\n[[category]]\ncode = "b"\nname = "B"\nparent = "a"\n'
     '[[category]]\ncode = "c"\nname = "C"\nparent = "b"\n', "two levels"),
    ('[[category]]\ncode = "a"\nname = "A"\nparent = "nowhere"\n', "not in the file or the tree"),
    ('[[category]]\ncode = "a"\nname = "A"\ndefault_agency = "NOPE"\n', "not in the agency directory"),
    ('[[category]]\ncode = "a"\nname = "A"\n[[category]]\ncode = "a"\nname = "B"\n', "listed twice"),
])
async def test_an_inconsistent_file_writes_nothing(session, text, problem):
    with pytest.raises(CategoryImportError) as exc:
        await import_categories(session, parse_toml(text))
    assert any(problem in p for p in exc.value.problems), exc.value.problems
    await session.rollback()
    assert await _count(session) == 0
