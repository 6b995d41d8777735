"""A one-sheet XLSX workbook written row batch by row batch straight into its zip.

openpyxl's write-only mode builds an element per cell and serialises it through ElementTree:
30 s of CPU per 100k export rows of 20 columns (issue 15, measured on the 1M-report bench), a
hundred times what the rows cost to make. An export needs one sheet of text and whole numbers,
a bold frozen header and column widths, so the sheet's XML is written here as text: strings
inline (``t="inlineStr"``, no shared-string table to hold in memory), numbers as values, cells
without references (optional in SpreadsheetML; Excel, LibreOffice and openpyxl count them).
The other parts of the package are fixed. Memory holds one batch.

Cells must already be fit for XML: text through ``export_files.clean_text`` (no control
characters); ``&``, ``<`` and ``>`` are escaped here.
"""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import IO

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

_CONTENT_TYPES = _HEAD + (
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    '</Types>'
)
_ROOT_RELS = _HEAD + (
    f'<Relationships xmlns="{_PKG_REL}">'
    f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
    '</Relationships>'
)
_WORKBOOK_RELS = _HEAD + (
    f'<Relationships xmlns="{_PKG_REL}">'
    f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{_REL}/styles" Target="styles.xml"/>'
    '</Relationships>'
)
# Style 0: normal; style 1: bold (the header row).
_STYLES = _HEAD + (
    f'<styleSheet xmlns="{_MAIN}">'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    '</styleSheet>'
)


def _escape(text: str) -> str:
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if "\r" in text:
        # A reader turns a literal carriage return into a line feed (XML's end-of-line rule).
        text = text.replace("\r", "&#13;")
    return text


def _text_cell(text: str, style: str = "") -> str:
    # Without xml:space="preserve" a reader may drop leading and trailing spaces.
    space = ' xml:space="preserve"' if text[0].isspace() or text[-1].isspace() else ""
    return f'<c t="inlineStr"{style}><is><t{space}>{_escape(text)}</t></is></c>'


class XlsxWriter:
    """``XlsxWriter(path, title, headers, widths)``, then ``extend(rows)`` any number of
    times, then ``close()``. Cells: str, int or float; "" and None are empty cells."""

    def __init__(self, path: Path, title: str, headers: Sequence[str], widths: Sequence[float]) -> None:
        self.path = path
        self._zip = zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1)
        self._zip.writestr("[Content_Types].xml", _CONTENT_TYPES)
        self._zip.writestr("_rels/.rels", _ROOT_RELS)
        self._zip.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        self._zip.writestr("xl/styles.xml", _STYLES)
        self._zip.writestr("xl/workbook.xml", _HEAD + (
            f'<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><sheets>'
            f'<sheet name="{_escape(title[:31]).replace(chr(34), "&quot;")}" sheetId="1" r:id="rId1"/>'
            '</sheets></workbook>'))
        self._sheet: IO[bytes] = self._zip.open("xl/worksheets/sheet1.xml", "w", force_zip64=True)
        cols = "".join(f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>'
                       for i, w in enumerate(widths, start=1))
        head = "".join(_text_cell(h, ' s="1"') if h else "<c/>" for h in headers)
        self._write(
            _HEAD + f'<worksheet xmlns="{_MAIN}">'
            # The header row stays in view while scrolling.
            '<sheetViews><sheetView workbookViewId="0">'
            '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
            '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>'
            f'<sheetFormatPr defaultRowHeight="15"/><cols>{cols}</cols><sheetData>'
            f'<row r="1">{head}</row>')
        self._row = 1

    def _write(self, text: str) -> None:
        self._sheet.write(text.encode("utf-8"))

    def extend(self, rows: Sequence[Sequence[object]]) -> None:
        out = []
        n = self._row
        for cells in rows:
            n += 1
            out.append(f'<row r="{n}">')
            for value in cells:
                if value.__class__ is str:
                    out.append(_text_cell(value) if value else "<c/>")
                elif value is None:
                    out.append("<c/>")
                else:  # a number (bool is an int too: written as 1 or 0)
                    out.append(f"<c><v>{int(value) if value.__class__ is bool else value}</v></c>")
            out.append("</row>")
        self._row = n
        self._write("".join(out))

    def close(self) -> None:
        self._write("</sheetData></worksheet>")
        self._sheet.close()
        self._zip.close()
