"""A small reader of the workbooks bot/reports/export.py writes (zip + XML),
so the tests check the file itself, not the library that wrote it."""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any
from xml.etree import ElementTree

NS = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
}
REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


def _column(ref: str) -> int:
    letters = re.match(r"[A-Z]+", ref)
    assert letters is not None
    n = 0
    for ch in letters.group(0):
        n = n * 26 + ord(ch) - 64
    return n - 1


def read_workbook(data: bytes) -> dict[str, list[list[Any]]]:
    """Sheet name -> rows of cell values (str, float, bool or None); a
    formula cell reads as None (its value is never stored by the exports)."""
    book = zipfile.ZipFile(io.BytesIO(data))
    strings: list[str] = []
    if "xl/sharedStrings.xml" in book.namelist():
        root = ElementTree.fromstring(book.read("xl/sharedStrings.xml"))
        strings = ["".join(t.text or "" for t in si.iter(f"{{{NS['m']}}}t"))
                   for si in root.findall("m:si", NS)]  # fmt: skip
    rels = ElementTree.fromstring(book.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target") for r in rels}
    workbook = ElementTree.fromstring(book.read("xl/workbook.xml"))
    sheets: dict[str, list[list[Any]]] = {}
    for sheet in workbook.find("m:sheets", NS) or []:
        path = "xl/" + str(targets[sheet.get(REL)]).lstrip("/").removeprefix("xl/")
        root = ElementTree.fromstring(book.read(path))
        rows: list[list[Any]] = []
        for row in root.iter(f"{{{NS['m']}}}row"):
            cells: list[Any] = []
            for c in row.findall("m:c", NS):
                col = _column(c.get("r", "A"))
                while len(cells) < col:
                    cells.append(None)
                v = c.find("m:v", NS)
                kind = c.get("t")
                inline = c.find("m:is", NS)
                if kind == "inlineStr" and inline is not None:  # a string kept in the cell
                    value: Any = "".join(t.text or "" for t in inline.iter(f"{{{NS['m']}}}t"))
                elif v is None:
                    value = None
                elif kind == "s":
                    value = strings[int(v.text or 0)]
                elif kind == "b":
                    value = v.text == "1"
                elif kind == "str":
                    value = v.text
                else:
                    value = float(v.text or 0)
                cells.append(value)
            rows.append(cells)
        sheets[str(sheet.get("name"))] = rows
    return sheets
