"""Loading the category tree from a TOML or CSV file (``lapor-bot categories import FILE``).

Like the agency directory import: the file is the source of truth for the categories it
lists, matched by ``code``; categories it does not list are left alone (switch one off with
``active = false``); importing the same file twice changes nothing. The tree has two levels at
most, so a citizen reaches any category in two taps. Every problem is collected before anything
is written: a file imports whole or not at all.

Open311 service attributes (extra questions for API clients) can be given in TOML only, as
``[[category.attribute]]`` tables under their category.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.categories import CODE_MAX, NAME_MAX, OTHER_CODE, valid_code
from bot.services.import_file import ImportFileError, ImportSummary, csv_rows, read_text, toml_entry_places
from bot.services.import_file import clean as _clean
from storage.models import Category
from storage.repositories.agencies import AgencyRepo
from storage.repositories.categories import CategoryRepo

DESCRIPTION_MAX = 1000
LAPOR_TOPIC_MAX = 32
_KEYS = {"code", "name", "name_en", "parent", "default_agency", "lapor_topic_id", "description",
         "active", "attribute"}
_CSV_KEYS = _KEYS - {"attribute"}
# GeoReport v2 attribute datatypes.
DATATYPES = {"string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"}
_LIST_TYPES = {"singlevaluelist", "multivaluelist"}


@dataclass(frozen=True)
class CategoryEntry:
    where: str
    code: str
    name: str
    parent: str | None = None
    name_en: str | None = None
    default_agency: str | None = None
    lapor_topic_id: str | None = None
    description: str | None = None
    active: bool = True
    attributes: tuple[dict[str, Any], ...] = ()


class CategoryImportError(ImportFileError):
    pass


# -- parsing ---------------------------------------------------------------------------------
def parse_file(path: str | Path) -> list[CategoryEntry]:
    text, suffix = read_text(path, CategoryImportError)
    return parse_toml(text) if suffix == ".toml" else parse_csv(text)


def parse_toml(text: str) -> list[CategoryEntry]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CategoryImportError([f"not valid TOML: {exc}"]) from None
    items = data.get("category")
    if not isinstance(items, list) or not items:
        raise CategoryImportError(["no [[category]] entries found"])
    entries: list[CategoryEntry] = []
    problems: list[str] = []
    for where, item in zip(toml_entry_places(text, "category", len(items)), items, strict=True):
        if unknown := set(item) - _KEYS:
            problems.append(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
            continue
        _entry(where, item, entries, problems)
    if problems:
        raise CategoryImportError(problems)
    return entries


def parse_csv(text: str) -> list[CategoryEntry]:
    header: list[str] | None = None
    entries: list[CategoryEntry] = []
    problems: list[str] = []
    for line_num, row in csv_rows(text):
        if header is None:
            header = [cell.strip().lower() for cell in row]
            unknown = set(header) - _CSV_KEYS
            if {"code", "name"} - set(header) or unknown:
                msg = f"line {line_num}: the header needs code and name (optional: "
                msg += ", ".join(sorted(_CSV_KEYS - {"code", "name"})) + ")"
                if unknown:
                    msg += f"; unknown column(s) {', '.join(sorted(unknown))}"
                raise CategoryImportError([msg])
            continue
        where = f"line {line_num}"
        if len(row) > len(header):
            problems.append(f"{where}: {len(row)} columns, the header has {len(header)}")
            continue
        cells = {k: v.strip() for k, v in zip(header, row, strict=False) if v.strip()}
        _entry(where, cells, entries, problems)
    if header is None:
        raise CategoryImportError(["the file is empty"])
    if problems:
        raise CategoryImportError(problems)
    if not entries:
        raise CategoryImportError(["no categories below the header"])
    return entries


def _bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    text = _clean(value).lower()
    return {"true": True, "yes": True, "ya": True, "1": True,
            "false": False, "no": False, "tidak": False, "0": False}.get(text)


def _entry(where: str, item: dict[str, Any], entries: list[CategoryEntry], problems: list[str]) -> None:
    code = _clean(item.get("code")).lower()
    name = _clean(item.get("name"))
    if not code:
        problems.append(f"{where}: code is missing")
        return
    if code == OTHER_CODE:
        problems.append(f"{where}: the code {OTHER_CODE!r} is reserved for \"Lainnya / Tidak tahu\"")
        return
    if not valid_code(code):
        problems.append(f"{where}: code {code!r} may hold only a-z, 0-9, '.', '_' and '-' "
                        f"(at most {CODE_MAX} characters, starting with a letter or digit)")
        return
    if not name:
        problems.append(f"{where}: name is missing for {code!r}")
        return
    name_en = _clean(item.get("name_en")) or None
    for label, value in (("name", name), ("name_en", name_en)):
        if value and len(value) > NAME_MAX:
            problems.append(f"{where}: {label} longer than {NAME_MAX} characters")
            return
    description = " ".join(str(item.get("description") or "").split()) or None
    if description and len(description) > DESCRIPTION_MAX:
        problems.append(f"{where}: description longer than {DESCRIPTION_MAX} characters")
        return
    topic = _clean(item.get("lapor_topic_id")) or None
    if topic and len(topic) > LAPOR_TOPIC_MAX:
        problems.append(f"{where}: lapor_topic_id longer than {LAPOR_TOPIC_MAX} characters")
        return
    active = True if item.get("active") in (None, "") else _bool(item.get("active"))
    if active is None:
        problems.append(f"{where}: active must be true or false")
        return
    attributes = _attributes(where, item.get("attribute", []), problems)
    if attributes is None:
        return
    entries.append(CategoryEntry(
        where, code, name, _clean(item.get("parent")).lower() or None, name_en,
        _clean(item.get("default_agency")) or None, topic, description, active, attributes,
    ))


def _attributes(where: str, raw: Any, problems: list[str]) -> tuple[dict[str, Any], ...] | None:
    if not isinstance(raw, list) or not all(isinstance(a, dict) for a in raw):
        problems.append(f"{where}: attributes are [[category.attribute]] tables")
        return None
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for order, attr in enumerate(raw, start=1):
        code = _clean(attr.get("code"))
        datatype = _clean(attr.get("datatype") or "string").lower()
        description = _clean(attr.get("description"))
        required = attr.get("required", False)
        values = attr.get("values", [])
        label = f"{where}, attribute {order}"
        if not code or not re.fullmatch(r"[A-Za-z0-9_.-]{1,32}", code) or code in seen:
            problems.append(f"{label}: code missing, repeated or not made of letters, digits, '_', '.', '-'")
            return None
        if datatype not in DATATYPES:
            problems.append(f"{label}: datatype must be one of {', '.join(sorted(DATATYPES))}")
            return None
        if not description or not isinstance(required, bool):
            problems.append(f"{label}: needs a description, and required as true or false")
            return None
        if datatype in _LIST_TYPES and not (
            isinstance(values, list) and values
            and all(isinstance(v, dict) and _clean(v.get("key")) and _clean(v.get("name")) for v in values)
        ):
            problems.append(f"{label}: a {datatype} needs values = [{{key = ..., name = ...}}, ...]")
            return None
        seen.add(code)
        out.append({
            "code": code, "datatype": datatype, "description": description, "required": required,
            "order": order,
            "values": [{"key": _clean(v["key"]), "name": _clean(v["name"])} for v in values]
            if datatype in _LIST_TYPES else [],
        })
    return tuple(out)


# -- applying --------------------------------------------------------------------------------
async def import_categories(
    session: AsyncSession, entries: list[CategoryEntry], *, dry_run: bool = False
) -> ImportSummary:
    """Create or update every entry in one transaction; nothing is written if any is wrong."""
    existing = {c.code: c for c in await CategoryRepo(session).all_including_inactive()}
    problems: list[str] = []
    in_file: dict[str, CategoryEntry] = {}
    for e in entries:
        if (other := in_file.setdefault(e.code, e)) is not e:
            problems.append(f"{e.where}: code {e.code!r} is listed twice (also at {other.where})")

    # The tree as it will be after the import: every code with its parent's code.
    code_of = {c.id: code for code, c in existing.items()}
    final_parent: dict[str, str | None] = {
        code: code_of.get(c.parent_id) if c.parent_id else None for code, c in existing.items()
    }
    final_parent.update({e.code: e.parent for e in entries})
    agencies = AgencyRepo(session)
    agency_ids: dict[str, int | None] = {}
    for e in entries:
        if e.parent is not None:
            if e.parent == e.code:
                problems.append(f"{e.where}: {e.code!r} cannot be its own parent")
            elif e.parent not in final_parent:
                problems.append(f"{e.where}: parent {e.parent!r} is not in the file or the tree")
            elif final_parent[e.parent] is not None:
                problems.append(f"{e.where}: {e.parent!r} is itself under another category; the tree "
                                "has two levels so that a citizen needs two taps at most")
            elif any(parent == e.code for parent in final_parent.values()):
                problems.append(f"{e.where}: {e.code!r} has categories under it, so it cannot sit "
                                f"under {e.parent!r} (two levels at most)")
        if e.default_agency is not None:
            agency = await agencies.by_code_or_name(e.default_agency)
            if agency is None:
                problems.append(f"{e.where}: default_agency {e.default_agency!r} is not in the agency "
                                "directory (import it first, by code or name)")
            agency_ids[e.code] = agency.id if agency else None
    if problems:
        raise CategoryImportError(problems)

    summary = ImportSummary()
    rows: dict[str, Category] = {}
    before: dict[str, tuple | None] = {}
    for position, e in enumerate(entries):
        row = existing.get(e.code)
        before[e.code] = _snapshot(row) if row is not None else None
        if row is None:
            row = Category(code=e.code, name=e.name)
            session.add(row)
        row.name, row.name_en, row.description = e.name, e.name_en, e.description
        row.lapor_topic_id, row.active, row.position = e.lapor_topic_id, e.active, position
        row.attributes = list(e.attributes)
        row.default_agency_id = agency_ids.get(e.code)
        rows[e.code] = row
    await session.flush()  # ids for new parents
    by_code = {**existing, **rows}
    for e in entries:
        rows[e.code].parent_id = by_code[e.parent].id if e.parent else None
    await session.flush()
    for e in entries:
        if before[e.code] is None:
            summary.created += 1
            summary.created_names.append(e.code)
        elif before[e.code] != _snapshot(rows[e.code]):
            summary.updated += 1
            summary.updated_names.append(e.code)
        else:
            summary.unchanged += 1
    if dry_run:
        await session.rollback()
    else:
        await session.commit()
    return summary


def _snapshot(c: Category) -> tuple:
    return (c.name, c.name_en, c.description, c.lapor_topic_id, c.active, c.position,
            repr(c.attributes), c.default_agency_id, c.parent_id)
