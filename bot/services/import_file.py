"""What the file imports (the agency directory, the category tree) share: reading the file,
CSV with comment lines, entry line numbers in TOML, the all-or-nothing error and the summary."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class ImportFileError(ValueError):
    """Every problem found, each pointing at its line or entry; nothing was written."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class ImportSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    created_names: list[str] = field(default_factory=list)
    updated_names: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return f"created {self.created}, updated {self.updated}, unchanged {self.unchanged}"


def clean(value: Any) -> str:
    return " ".join(str(value).split()) if value is not None else ""


def read_text(path: str | Path, error: type[ImportFileError]) -> tuple[str, str]:
    """The file's text and its lower-case suffix (``.toml``, ``.csv``)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise error([f"cannot read {path}: {exc.strerror or exc}"]) from None
    except UnicodeDecodeError:
        raise error([f"{path} is not UTF-8 text"]) from None
    suffix = path.suffix.lower()
    if suffix not in (".toml", ".csv"):
        raise error([f"{path}: unknown file type {suffix or '(none)'}; use .toml or .csv"])
    return text, suffix


def csv_rows(text: str) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) of every non-blank row. Lines starting with "#" are comments (the
    example files explain themselves there); they are blanked rather than dropped so that line
    numbers still match the file."""
    lines = ["" if line.lstrip().startswith("#") else line for line in text.splitlines()]
    reader = csv.reader(io.StringIO("\n".join(lines)))
    for row in reader:
        if any(cell.strip() for cell in row):
            yield reader.line_num, row


def toml_entry_places(text: str, table: str, count: int) -> list[str]:
    """How errors name the n-th ``[[table]]``: "entry 3 (line 40)". tomllib keeps no positions,
    so the headers are found in the text; without a match for each, just "entry 3"."""
    lines = [text.count("\n", 0, m.start()) + 1
             for m in re.finditer(rf"^[ \t]*\[\[[ \t]*{re.escape(table)}[ \t]*\]\]", text, re.MULTILINE)]
    return [f"entry {n}" + (f" (line {lines[n - 1]})" if len(lines) == count else "")
            for n in range(1, count + 1)]
