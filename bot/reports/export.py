"""CSV and Excel (.xlsx) exports of a report document (bot/reports/compute.py).

Both hold the same data: the figures of the window, the series, the
breakdowns (long format: one row per group and figure) and every table.
Headers put the Chinese name beside the English key ("数值 value"). The CSV
has one section per table, each starting with a ``# 标题 key`` line and
separated by an empty line; the workbook has one sheet per section.

Text that came from citizens (comments) could start with ``=``, ``+``, ``-``
or ``@``, which a spreadsheet would run as a formula: such cells get a
leading apostrophe in the CSV and are written as plain strings in the
workbook. The workbook is written with openpyxl, the library that also reads
the city's knowledge export (bot/knowledge_import.py).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

FIGURE_FIELDS = ("value", "numerator", "denominator")
HEADERS: dict[str, str] = {
    "period": "周期",
    "dimension": "维度",
    "key": "键",
    "label": "名称",
    "figure": "指标",
    "name": "指标名称",
    "value": "数值",
    "numerator": "分子",
    "denominator": "分母",
    "extra": "其他",
    "kind": "类型",
    "count": "本期",
    "previous": "上期",
    "change": "变化",
    "change_rate": "变化率",
    "on_time": "按时",
    "judged": "应办结",
    "source": "来源",
    "department": "部门",
    "department_name": "部门名称",
    "category": "类别",
    "rating": "评分",
    "comment": "评价内容",
    "ticket_number": "工单编号",
    "conversation_id": "会话",
    "at": "时间",
    "status": "状态",
    "deadline": "办理时限",
    "overdue_hours": "超期小时",
}
TABLE_TITLES = {
    "top_questions": "热点问题",
    "complaint_categories": "投诉类别",
    "on_time_by_department": "部门按时办结率",
    "low_ratings": "差评",
    "overdue_tickets": "超期工单",
}
TABLE_COLUMNS = {
    "top_questions": ("key", "kind", "label", "count", "previous", "change", "change_rate"),
    "complaint_categories": ("key", "label", "count", "previous", "change", "change_rate"),
    "on_time_by_department": ("key", "label", "on_time", "judged", "value"),
    "low_ratings": (
        "source",
        "department",
        "category",
        "rating",
        "comment",
        "ticket_number",
        "conversation_id",
        "at",
    ),  # fmt: skip
    "overdue_tickets": (
        "ticket_number",
        "department",
        "department_name",
        "category",
        "status",
        "deadline",
        "overdue_hours",
    ),  # fmt: skip
}
BREAKDOWN_TITLES = {
    "channel": "按渠道",
    "category": "按类别",
    "department": "按部门",
    "town": "按镇街",
}


def header(key: str) -> str:
    name = HEADERS.get(key)
    return f"{name} {key}" if name else key


def _extra(figure: dict[str, Any]) -> str:
    rest = {k: v for k, v in figure.items() if k not in FIGURE_FIELDS}
    return json.dumps(rest, ensure_ascii=False, sort_keys=True) if rest else ""


def _figure_cells(doc: dict[str, Any], key: str, figure: dict[str, Any]) -> list[Any]:
    name = doc.get("labels", {}).get(key, key)
    return [key, name, figure.get("value"), figure.get("numerator"),
            figure.get("denominator"), _extra(figure)]  # fmt: skip


FIGURE_COLUMNS = ("figure", "name", "value", "numerator", "denominator", "extra")


def sections(doc: dict[str, Any]) -> Iterator[tuple[str, str, list[str], list[list[Any]]]]:
    """(key, Chinese title, header row, rows) of every section of the document."""
    scope = doc.get("scope") or {}
    about: list[list[Any]] = [
        ["since", doc.get("since")],
        ["until", doc.get("until")],
        ["group", doc.get("group")],
        ["generated_at", doc.get("generated_at")],
        ["department_scope", scope.get("department")],
        ["filters", json.dumps(scope.get("filters") or {}, ensure_ascii=False, sort_keys=True)],
        ["drills_excluded", doc.get("drills_excluded")],
    ]
    yield "report", "报表", [header("key"), header("value")], about
    rows = [_figure_cells(doc, k, f) for k, f in doc.get("figures", {}).items()]
    yield "figures", "指标", [header(c) for c in FIGURE_COLUMNS], rows
    rows = [
        [entry["period"], *_figure_cells(doc, k, f)]
        for entry in doc.get("series", [])
        for k, f in entry["figures"].items()
    ]
    yield "series", "趋势", [header("period"), *(header(c) for c in FIGURE_COLUMNS)], rows
    for dim, groups in (doc.get("breakdowns") or {}).items():
        rows = [
            [g["key"], g.get("label"), *_figure_cells(doc, k, f)]
            for g in groups
            for k, f in g["figures"].items()
        ]
        head = [header("key"), header("label"), *(header(c) for c in FIGURE_COLUMNS)]
        yield f"breakdown_{dim}", BREAKDOWN_TITLES.get(dim, dim), head, rows
    for name, table in (doc.get("tables") or {}).items():
        columns = TABLE_COLUMNS.get(name) or tuple(table[0].keys() if table else ())
        rows = [[row.get(c) for c in columns] for row in table]
        yield name, TABLE_TITLES.get(name, name), [header(c) for c in columns], rows


def _safe_text(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return _safe_text(value)


def to_csv(doc: dict[str, Any]) -> str:
    """The document as CSV text (no BOM; writers add ``utf-8-sig`` for Excel)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    first = True
    for key, title, head, rows in sections(doc):
        if not first:
            writer.writerow([])
        first = False
        writer.writerow([f"# {title} {key}"])
        writer.writerow(head)
        for row in rows:
            writer.writerow([_csv_cell(v) for v in row])
    return out.getvalue()


def _sheet_name(title: str, key: str, used: set[str]) -> str:
    name = f"{title} {key}"[:31]  # Excel's limit
    for bad in "[]:*?/\\":
        name = name.replace(bad, "_")
    base, n = name, 2
    while name in used:
        name = f"{base[:28]}~{n}"
        n += 1
    used.add(name)
    return name


def to_xlsx(doc: dict[str, Any]) -> bytes:
    """The document as an Excel workbook: one sheet per section."""
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]  # the default empty sheet
    bold = Font(bold=True)
    used: set[str] = set()
    for key, title, head, rows in sections(doc):
        sheet = book.create_sheet(_sheet_name(title, key, used))
        for c, name in enumerate(head, start=1):
            _put(sheet, 1, c, name).font = bold
        for r, row in enumerate(rows, start=2):
            for c, value in enumerate(row, start=1):
                if value is not None:
                    _put(sheet, r, c, value)
        sheet.freeze_panes = "A2"
        for c in range(1, max(1, len(head)) + 1):
            sheet.column_dimensions[get_column_letter(c)].width = 16
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _put(sheet: Worksheet, r: int, c: int, value: Any) -> Any:
    """One cell: numbers and booleans as such, everything else as a plain
    string (never a formula, whatever it starts with; characters XML cannot
    hold are dropped)."""
    cell = sheet.cell(row=r, column=c)
    if isinstance(value, bool | int | float):
        cell.value = value
    else:
        cell.value = ILLEGAL_CHARACTERS_RE.sub("", str(value))
        cell.data_type = "s"  # openpyxl would store "=..." as a formula
    return cell
