"""Loading the agency directory from a TOML or CSV file (``lapor-bot agencies import FILE``).

The file is the source of truth for each agency's name, kind and parent; ``code`` and
``aliases`` are changed only when the entry gives them, so codes assigned later by hand survive
a re-import of an older file. An entry matches an existing agency by code when it has one, else
by name (case-insensitive), so importing the same file twice changes nothing. Parents may be
named by name or code and may appear anywhere in the file (or already be in the database).

Every problem is collected with its line (CSV, TOML) or entry number before anything is
written: a file either imports whole or not at all.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.enums import AgencyKind
from bot.services.import_file import ImportFileError, ImportSummary, csv_rows, read_text, toml_entry_places
from bot.services.import_file import clean as _clean
from storage.models import Agency
from storage.repositories.agencies import AgencyRepo

NAME_MAX = 200
CODE_MAX = 32
# Kelurahan and desa sit under a kecamatan (domain.md, "People").
_NEEDS_KECAMATAN = {AgencyKind.KELURAHAN, AgencyKind.DESA}


@dataclass(frozen=True)
class AgencyEntry:
    where: str  # "line 12" or "entry 3 (line 40)": how errors point at it
    name: str
    kind: AgencyKind
    parent: str | None = None
    code: str | None = None
    aliases: tuple[str, ...] | None = None


class AgencyImportError(ImportFileError):
    pass


def _key(text: str) -> str:
    return " ".join(text.split()).casefold()


# -- parsing ---------------------------------------------------------------------------------
def parse_file(path: str | Path) -> list[AgencyEntry]:
    text, suffix = read_text(path, AgencyImportError)
    return parse_toml(text) if suffix == ".toml" else parse_csv(text)


def parse_toml(text: str) -> list[AgencyEntry]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise AgencyImportError([f"not valid TOML: {exc}"]) from None
    items = data.get("agency")
    if not isinstance(items, list) or not items:
        raise AgencyImportError(["no [[agency]] entries found"])
    entries: list[AgencyEntry] = []
    problems: list[str] = []
    for where, item in zip(toml_entry_places(text, "agency", len(items)), items, strict=True):
        aliases = item.get("aliases")
        if isinstance(aliases, str):
            aliases = aliases.split(";")
        elif aliases is not None and not (
            isinstance(aliases, list) and all(isinstance(a, str) for a in aliases)
        ):
            problems.append(f"{where}: aliases must be a list of strings")
            continue
        unknown = set(item) - {"name", "kind", "parent", "code", "aliases"}
        if unknown:
            problems.append(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
            continue
        _entry(where, item.get("name"), item.get("kind"), item.get("parent"), item.get("code"),
               aliases, entries, problems)
    if problems:
        raise AgencyImportError(problems)
    return entries


def parse_csv(text: str) -> list[AgencyEntry]:
    header: list[str] | None = None
    entries: list[AgencyEntry] = []
    problems: list[str] = []
    for line_num, row in csv_rows(text):
        if header is None:
            header = [cell.strip().lower() for cell in row]
            missing = {"name", "kind"} - set(header)
            unknown = set(header) - {"name", "kind", "parent", "code", "aliases"}
            if missing or unknown:
                msg = f"line {line_num}: the header needs name and kind"
                msg += " (optional: parent, code, aliases)"
                if unknown:
                    msg += f"; unknown column(s) {', '.join(sorted(unknown))}"
                raise AgencyImportError([msg])
            continue
        where = f"line {line_num}"
        if len(row) > len(header):
            problems.append(f"{where}: {len(row)} columns, the header has {len(header)}")
            continue
        cells = dict(zip(header, (c.strip() for c in row), strict=False))
        aliases = cells.get("aliases")
        _entry(where, cells.get("name"), cells.get("kind"), cells.get("parent"),
               cells.get("code"), aliases.split(";") if aliases else None, entries, problems)
    if header is None:
        raise AgencyImportError(["the file is empty"])
    if problems:
        raise AgencyImportError(problems)
    if not entries:
        raise AgencyImportError(["no agencies below the header"])
    return entries


def _entry(where, name, kind, parent, code, aliases, entries, problems) -> None:
    name = _clean(name)
    if not name:
        problems.append(f"{where}: name is missing")
        return
    if len(name) > NAME_MAX:
        problems.append(f"{where}: name longer than {NAME_MAX} characters")
        return
    try:
        kind_value = AgencyKind(_clean(kind).lower())
    except ValueError:
        allowed = ", ".join(k.value for k in AgencyKind)
        problems.append(f"{where}: unknown kind {_clean(kind)!r} for {name!r} (use one of {allowed})")
        return
    code = _clean(code) or None
    if code and len(code) > CODE_MAX:
        problems.append(f"{where}: code longer than {CODE_MAX} characters")
        return
    alias_tuple = None
    if aliases is not None:
        seen: dict[str, str] = {}
        for alias in aliases:
            if (alias := _clean(alias)) and _key(alias) not in seen:
                seen[_key(alias)] = alias
        alias_tuple = tuple(seen.values())
    entries.append(AgencyEntry(where, name, kind_value, _clean(parent) or None, code, alias_tuple))


# -- applying --------------------------------------------------------------------------------
@dataclass
class _Plan:
    entries: list[AgencyEntry]
    matches: list[Agency | None]
    # Per entry: ("file", index) or ("db", agency id) or None (top level).
    parents: list[tuple[str, int] | None]


def _plan(entries: list[AgencyEntry], existing: list[Agency]) -> _Plan:
    problems: list[str] = []
    by_name = {_key(a.name): a for a in existing}
    by_code = {_key(a.code): a for a in existing if a.code}

    file_names: dict[str, int] = {}
    file_codes: dict[str, int] = {}
    for i, e in enumerate(entries):
        if (j := file_names.setdefault(_key(e.name), i)) != i:
            problems.append(f"{e.where}: {e.name!r} is listed twice (also at {entries[j].where})")
        if e.code and (j := file_codes.setdefault(_key(e.code), i)) != i:
            problems.append(f"{e.where}: code {e.code!r} is used twice (also at {entries[j].where})")

    matches: list[Agency | None] = []
    matched_ids: dict[int, int] = {}
    for i, e in enumerate(entries):
        match = (by_code.get(_key(e.code)) if e.code else None) or by_name.get(_key(e.name))
        if match is not None and (j := matched_ids.setdefault(match.id, i)) != i:
            problems.append(f"{e.where}: matches the same agency as {entries[j].where} ({match.name!r})")
        matches.append(match)
    for i, e in enumerate(entries):
        # A rename onto a name (or a code onto one) held by an agency this file does not touch.
        holder = by_name.get(_key(e.name))
        if holder is not None and holder is not matches[i] and holder.id not in matched_ids:
            problems.append(f"{e.where}: the name {e.name!r} already belongs to another agency")
        holder = by_code.get(_key(e.code)) if e.code else None
        if holder is not None and holder is not matches[i] and holder.id not in matched_ids:
            problems.append(f"{e.where}: the code {e.code!r} already belongs to {holder.name!r}")

    parents: list[tuple[str, int] | None] = []
    for e in entries:
        target: tuple[str, int] | None = None
        if e.parent:
            ref = _key(e.parent)
            if ref in file_codes:
                target = ("file", file_codes[ref])
            elif ref in file_names:
                target = ("file", file_names[ref])
            elif ref in by_code:
                target = ("db", by_code[ref].id)
            elif ref in by_name:
                target = ("db", by_name[ref].id)
            else:
                problems.append(f"{e.where}: parent {e.parent!r} of {e.name!r} is not in the file "
                                "or the directory")
        parents.append(target)

    kinds = {k.value: k for k in AgencyKind}
    kind_of = {a.id: kinds.get(a.kind) for a in existing}
    for i, e in enumerate(entries):
        target = parents[i]
        if target is None or e.kind not in _NEEDS_KECAMATAN:
            continue
        parent_kind = entries[target[1]].kind if target[0] == "file" else kind_of.get(target[1])
        if parent_kind is not AgencyKind.KECAMATAN:
            problems.append(f"{e.where}: a {e.kind.value} sits under a kecamatan, "
                            f"not {e.parent!r}")

    problems += _cycles(entries, matches, parents, existing, matched_ids)
    if problems:
        raise AgencyImportError(problems)
    return _Plan(entries, matches, parents)


def _cycles(entries, matches, parents, existing, matched_ids) -> list[str]:
    """Parent chains that loop, over the directory as it will be after the import."""
    db_parent = {a.id: a.parent_id for a in existing}

    def node(ref: tuple[str, int] | None) -> tuple[str, int] | None:
        # An existing agency the file updates is the same node as its entry.
        if ref is not None and ref[0] == "db" and ref[1] in matched_ids:
            return ("file", matched_ids[ref[1]])
        return ref

    def parent_of(n: tuple[str, int]) -> tuple[str, int] | None:
        if n[0] == "file":
            return node(parents[n[1]])
        pid = db_parent.get(n[1])
        return node(("db", pid)) if pid is not None else None

    problems: list[str] = []
    reported: set[tuple[str, int]] = set()
    for i in range(len(entries)):
        path: list[tuple[str, int]] = []
        current: tuple[str, int] | None = ("file", i)
        while current is not None and current not in path:
            path.append(current)
            current = parent_of(current)
        if current is None or current in reported:
            continue
        loop = path[path.index(current):]
        reported.update(loop)
        names = [entries[n[1]].name if n[0] == "file" else f"#{n[1]}" for n in loop]
        first = next((entries[n[1]] for n in loop if n[0] == "file"), entries[i])
        problems.append(f"{first.where}: parents form a cycle: {' → '.join(names + names[:1])}")
    return problems


async def import_agencies(
    session: AsyncSession, entries: list[AgencyEntry], *, dry_run: bool = False
) -> ImportSummary:
    """Create or update every entry in one transaction; nothing is written if any is wrong."""
    repo = AgencyRepo(session)
    plan = _plan(entries, list(await repo.all_including_inactive()))
    summary = ImportSummary()
    rows: list[Agency] = []
    before: list[tuple | None] = []
    for e, match in zip(plan.entries, plan.matches, strict=True):
        if match is None:
            row = Agency(name=e.name, kind=e.kind.value, code=e.code, aliases=list(e.aliases or ()))
            session.add(row)
            before.append(None)
        else:
            row = match
            before.append(_snapshot(row))
            row.name, row.kind = e.name, e.kind.value
            if e.code is not None:
                row.code = e.code
            if e.aliases is not None:
                row.aliases = list(e.aliases)
        rows.append(row)
    await session.flush()  # ids for the new rows, which parents below may point at

    for i, row in enumerate(rows):
        target = plan.parents[i]
        row.parent_id = None if target is None else (
            rows[target[1]].id if target[0] == "file" else target[1]
        )
        if before[i] is None:
            summary.created += 1
            summary.created_names.append(row.name)
        elif before[i] != _snapshot(row):
            summary.updated += 1
            summary.updated_names.append(row.name)
        else:
            summary.unchanged += 1
    await session.flush()
    if dry_run:
        await session.rollback()
    else:
        await session.commit()
    return summary


async def import_agencies_file(
    session: AsyncSession, path: str | Path, *, dry_run: bool = False
) -> ImportSummary:
    return await import_agencies(session, parse_file(path), dry_run=dry_run)


def _snapshot(agency: Agency) -> tuple:
    return (agency.name, agency.kind, agency.code, tuple(agency.aliases or ()), agency.parent_id)
