"""Export files written row batch by row batch to disk, in parts a bot may upload.

A year at a million reports is ~70 MB of CSV, over the 50 MB a bot may send. So the chat's
CSV is zip-compressed (about 5× at level 1), and when even that would not fit, the year is split at
month boundaries into several files, planned beforehand from the number of reports per month
and a generous size per row (``BYTES_PER_ROW``, measured in bench/data_scale.py). Nothing is
held in memory but one batch; the caller runs ``PartWriter.write`` in a worker thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import re
import shutil
import zipfile
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.services.xlsx_stream import XlsxWriter

# What a bot may upload (sendDocument), minus room for the multipart envelope.
UPLOAD_LIMIT = 50 * 1000 * 1000
PART_LIMIT = 48 * 1000 * 1000

# Planning estimates, deliberately high (measured on the 1M bench, issue 15: CSV ~170 B, zipped
# at level 1 ~29 B, XLSX ~48 B per row).
BYTES_PER_ROW = {"zip": 60, "xlsx": 90, "csv": 220}


@dataclass(frozen=True)
class ExportPart:
    filename: str
    path: Path
    rows: int
    months: tuple[int, int]  # first and last month (1-12) it covers


def plan_parts(rows_per_month: Sequence[int], bytes_per_row: int, limit: int | None) -> list[tuple[int, int]]:
    """Consecutive month ranges ``(first, last)`` (1-based) each estimated under ``limit``;
    one range for the whole year when it fits (or when there is no limit). A single month
    over the limit still makes one part: the caller checks the real size."""
    if limit is None or sum(rows_per_month) * bytes_per_row <= limit:
        return [(1, 12)]
    parts: list[tuple[int, int]] = []
    first, size = 1, 0
    for month, n in enumerate(rows_per_month, start=1):
        if size and n and size + n * bytes_per_row > limit:
            parts.append((first, month - 1))
            first, size = month, 0
        size += n * bytes_per_row
    parts.append((first, 12))
    return parts


def part_name(base: str, plan: Sequence[tuple[int, int]], index: int) -> str:
    """``base`` for a single part, ``{base}-MM-MM`` (its months) for one of several."""
    if len(plan) == 1:
        return base
    first, last = plan[index]
    return f"{base}-{first:02d}-{last:02d}"


# What XML 1.0 cannot hold (openpyxl's ILLEGAL_CHARACTERS_RE).
_ILLEGAL_CHARACTERS = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")
# What starts a formula in a spreadsheet.
_FORMULA_START = frozenset(("=", "+", "-", "@", "\t", "\r"))


def clean_text(value: str) -> str:
    """Text fit for a cell: a control character in a Telegram name or a report made the whole
    workbook unreadable (XML 1.0 cannot hold it), so they go (from the CSV too, so both files say the same); a
    name like "=HYPERLINK(...)" would run as a formula in Excel (CSV/formula injection), so it
    gets a leading quote. Writers take cells as they are: every text a person typed (names,
    usernames, agency and category names, titles) goes through here first."""
    # Most text needs nothing: one C-level check instead of a regex per cell.
    if value.isprintable() and value[:1] not in _FORMULA_START:
        return value
    value = _ILLEGAL_CHARACTERS.sub("", value)
    if value[:1] in _FORMULA_START and value != "-":
        return "'" + value
    return value


def cell(value: object) -> object:
    """Any value as a cell: text cleaned, None empty."""
    if isinstance(value, str):
        return clean_text(value)
    return "" if value is None else value


def header_row(headers: Sequence[str]) -> list[object]:
    return [cell(h) for h in headers]


class _CsvSink:
    """A CSV file, written into a zip member as it goes when ``zipped``."""

    def __init__(self, path: Path, member: str, zipped: bool) -> None:
        self.path, self.member, self.zipped = path, member, zipped
        self._zip: zipfile.ZipFile | None = None
        if zipped:
            self._zip = zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1)
            raw = self._zip.open(member, "w", force_zip64=True)
        else:
            raw = open(path, "wb")
        # The BOM makes Excel read UTF-8 instead of the system code page.
        self._text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
        self._writer = csv.writer(self._text)

    def extend(self, rows: Sequence[Sequence[object]]) -> None:
        self._writer.writerows(rows)

    def close(self) -> None:
        self._text.close()
        if self._zip is not None:
            self._zip.close()


class _XlsxSink:
    """An XLSX workbook streamed to disk (``xlsx_stream``), header bold and frozen, widths
    from the headers."""

    def __init__(self, path: Path, title: str, headers: Sequence[str]) -> None:
        self.path = path
        head = [str(cell(h)) for h in headers]
        self._book = XlsxWriter(path, title, head, [min(max(len(h) + 2, 12), 40) for h in head])

    def extend(self, rows: Sequence[Sequence[object]]) -> None:
        self._book.extend(rows)

    def close(self) -> None:
        self._book.close()


class PartWriter:
    """Writes rows, oldest first, into the planned parts. ``kind``: "csv" (plain), "zip" (CSV in
    a zip) or "xlsx". Files are named ``{base}.{ext}``, or ``{base}-MM-MM.{ext}`` per part."""

    def __init__(self, directory: Path, base: str, kind: str, headers: Sequence[str],
                 plan: list[tuple[int, int]], sheet_title: str = "LAPOR",
                 limit: int | None = PART_LIMIT) -> None:
        self.directory, self.base, self.kind, self.limit = directory, base, kind, limit
        self.headers = list(headers)
        self.plan = plan
        self.sheet_title = sheet_title
        self.parts: list[ExportPart] = []
        self._index = -1
        self._sink: Any = None
        self._rows = 0


    def _open(self, index: int) -> None:
        self._close()
        self._index, self._rows = index, 0
        name = part_name(self.base, self.plan, index)
        if self.kind == "xlsx":
            self._sink = _XlsxSink(self.directory / f"{name}.xlsx", self.sheet_title, self.headers)
        else:
            zipped = self.kind == "zip"
            path = self.directory / f"{name}.{'zip' if zipped else 'csv'}"
            self._sink = _CsvSink(path, f"{name}.csv", zipped)
            self._sink.extend([header_row(self.headers)])

    def _close(self) -> None:
        if self._sink is None:
            return
        self._sink.close()
        self.parts.append(ExportPart(self._sink.path.name, self._sink.path, self._rows, self.plan[self._index]))
        self._sink = None

    def write(self, rows: Sequence[tuple[int, Sequence[object]]]) -> None:
        """``(month 1-12, cells)`` per row, months never decreasing; cells as they go into the
        file (text through ``clean_text``, no None). Written in runs, one per part touched."""
        run: list[Sequence[object]] = []
        for month, cells in rows:
            if self._sink is None or month > self.plan[self._index][1]:
                self._extend(run)
                run = []
                while self._sink is None or month > self.plan[self._index][1]:
                    self._open(self._index + 1)
            run.append(cells)
        self._extend(run)

    def _extend(self, run: list[Sequence[object]]) -> None:
        if run:
            self._sink.extend(run)
            self._rows += len(run)

    def discard(self) -> None:
        """Closes the open file of an export given up (its directory is removed next)."""
        if self._sink is not None:
            with contextlib.suppress(Exception):
                self._sink.close()
            self._sink = None

    def finish(self) -> list[ExportPart]:
        """The parts; every planned part exists (an empty year still has its header row). A
        single zip small enough to send as it is becomes a plain CSV again: easier on a phone."""
        while self._index < len(self.plan) - 1:
            self._open(self._index + 1)
        self._close()
        if self.kind == "zip" and len(self.parts) == 1:
            self.parts = [_plain_if_it_fits(self.parts[0], self.limit)]
        return self.parts


def _plain_if_it_fits(part: ExportPart, limit: int | None) -> ExportPart:
    """A zipped part as a plain CSV again when its CSV is small enough to send as it is."""
    with zipfile.ZipFile(part.path) as zf:
        (info,) = zf.infolist()
        if limit is not None and info.file_size > limit:
            return part
        plain = part.path.with_suffix(".csv")
        with zf.open(info) as src, open(plain, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
    part.path.unlink()
    return ExportPart(plain.name, plain, part.rows, part.months)



# The CSV the database writes: one part at a time, ``(first month, last month, write) -> rows``.
CopyPart = Callable[[int, int, Callable[[bytes], Awaitable[None]]], Awaitable[int]]
# Bytes handed to the compressing thread at a time, and how many such pieces may wait for it.
_DEFLATE_PIECE = 1 << 20
_DEFLATE_QUEUE = 4


class _Deflated:
    """A zip member written by a thread of its own while the database streams the CSV: the
    compression (0.1-0.2 s of CPU per 100k rows, issue 15) runs alongside the COPY instead of
    after it, and off the event loop (zlib and the CRC release the GIL). Chunks are gathered into
    pieces of ``_DEFLATE_PIECE`` bytes (the COPY hands over a few kB at a time); at most
    ``_DEFLATE_QUEUE`` pieces wait, so memory stays flat when the disk or the CPU is slower
    than the server."""

    def __init__(self, path: Path, member: str) -> None:
        self._zip = zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1)
        self._member = self._zip.open(member, "w", force_zip64=True)
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="export-zip")
        self._piece = bytearray()
        self._waiting: deque[asyncio.Future[Any]] = deque()

    async def write(self, chunk: bytes) -> None:
        self._piece += chunk
        if len(self._piece) >= _DEFLATE_PIECE:
            await self._hand_over()

    async def _hand_over(self) -> None:
        piece, self._piece = bytes(self._piece), bytearray()
        self._waiting.append(asyncio.get_running_loop().run_in_executor(self._pool, self._member.write, piece))
        while len(self._waiting) > _DEFLATE_QUEUE:
            await self._waiting.popleft()

    async def finish(self) -> None:
        if self._piece:
            await self._hand_over()
        while self._waiting:
            await self._waiting.popleft()
        await asyncio.get_running_loop().run_in_executor(self._pool, self._close)
        self._pool.shutdown()

    def _close(self) -> None:
        self._member.close()
        self._zip.close()

    def discard(self) -> None:
        """After a failure or a cancellation: the thread's last piece, then the file closed."""
        for waiting in self._waiting:
            waiting.cancel()  # a piece not started is dropped; the one being written ends first
        self._pool.shutdown(wait=True)
        with contextlib.suppress(Exception):
            self._close()


async def copied_parts(directory: Path, base: str, headers: Sequence[str], copy: CopyPart, *, zipped: bool,
                       limit: int | None, months: Callable[[], Awaitable[Sequence[int]]]) -> list[ExportPart]:
    """The year as CSV files whose rows someone else writes (PostgreSQL's COPY, chunks of
    finished CSV, ``"\n"`` line ends like the header here), first as one part, its rows counted
    by the COPY itself: a plain CSV when not ``zipped`` (the command line); otherwise compressed
    as it streams in, and a plain CSV again when that fits ``limit``. Only a zip over ``limit``
    splits the year: ``months()`` gives the reports per month (by then the COPY has read the
    table: the count reads memory, not the disk), the parts are planned at the size per row just
    measured (at least ``BYTES_PER_ROW["zip"]``) and each is copied again.

    Why not count first, as ``PartWriter``'s callers do: on a cold table the month counts were
    the export's largest share of reads from the disk (~50k small reads at a million reports,
    none paced by the read-ahead, issue 15), for a plan that is one part nearly always."""
    head = io.StringIO()
    csv.writer(head, lineterminator="\n").writerow(header_row(headers))
    # The BOM makes Excel read UTF-8 instead of the system code page.
    header = head.getvalue().encode("utf-8-sig")
    if not zipped or limit is None:
        path = directory / f"{base}.csv"
        with open(path, "wb") as out:
            out.write(header)

            async def write(chunk: bytes) -> None:
                out.write(chunk)  # into the page cache: microseconds, not worth a thread

            n = await copy(1, 12, write)
        return [ExportPart(path.name, path, n, (1, 12))]
    whole = await _copied_zip(directory, base, header, copy, (1, 12))
    size = whole.path.stat().st_size
    if size <= limit:
        return [await asyncio.to_thread(_plain_if_it_fits, whole, limit)]
    per_row = max(BYTES_PER_ROW["zip"], -(-size // max(whole.rows, 1)))
    plan = plan_parts(await months(), per_row, limit)
    if len(plan) == 1:
        return [whole]  # one month over the limit: the caller sees it (``too_large``)
    whole.path.unlink()
    return [await _copied_zip(directory, part_name(base, plan, index), header, copy, span)
            for index, span in enumerate(plan)]


async def _copied_zip(directory: Path, name: str, header: bytes, copy: CopyPart,
                      months: tuple[int, int]) -> ExportPart:
    """One part's COPY compressed as it streams in (``_Deflated``)."""
    path = directory / f"{name}.zip"
    deflated = _Deflated(path, f"{name}.csv")
    try:
        await deflated.write(header)
        n = await copy(*months, deflated.write)
        await deflated.finish()
    except BaseException:
        deflated.discard()
        raise
    return ExportPart(path.name, path, n, months)
