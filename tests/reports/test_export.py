"""CSV and XLSX exports: every figure and table, read back from the file."""

from __future__ import annotations

import csv
import io
from typing import Any

from bot.db import Database
from bot.reports import compute_report
from bot.reports.export import to_csv, to_xlsx
from tests.reports.scene import DAY, NOW, small_day
from tests.reports.xlsx import read_workbook


def csv_sections(text: str) -> dict[str, list[list[str]]]:
    out: dict[str, list[list[str]]] = {}
    current: list[list[str]] = []
    for row in csv.reader(io.StringIO(text)):
        if not row:
            continue
        if len(row) == 1 and row[0].startswith("# "):
            current = out.setdefault(row[0].split()[-1], [])
            continue
        current.append(row)
    return out


async def report(db: Database) -> dict[str, Any]:
    await small_day(db)
    db.clock = lambda: NOW
    return await compute_report(db, DAY, DAY)


async def test_csv_holds_every_figure_and_table(db: Database) -> None:
    doc = await report(db)
    sections = csv_sections(to_csv(doc))
    assert list(sections) == [
        "report", "figures", "series", "breakdown_channel", "breakdown_category",
        "breakdown_department", "breakdown_town", "top_questions", "complaint_categories",
        "on_time_by_department", "low_ratings", "overdue_tickets",
    ]  # fmt: skip
    head, *rows = sections["figures"]
    assert head[:5] == ["指标 figure", "指标名称 name", "数值 value", "分子 numerator",
                        "分母 denominator"]  # fmt: skip
    by_key = {r[0]: r for r in rows}
    assert set(by_key) == set(doc["figures"])
    for key, figure in doc["figures"].items():
        value = by_key[key][2]
        assert (value == "") if figure["value"] is None else float(value) == figure["value"]
        assert int(by_key[key][3]) == figure["numerator"]
        assert int(by_key[key][4]) == figure["denominator"]
    assert by_key["message_answered_5s_rate"][1] == "消息5秒应答率"
    assert '"coverage"' in by_key["online_success_rate"][5]
    low_head, *low = sections["low_ratings"]
    assert low_head[4] == "评价内容 comment"
    assert [r[4] for r in low] == ["没解决", "", "等太久"]
    # one row per channel and figure
    assert len(sections["breakdown_channel"]) - 1 == 4 * len(doc["figures"])


def low_rating_doc(rating: int, comment: str) -> dict[str, Any]:
    """A document with one low rating and its comment (nothing else)."""
    row = {"source": "agent", "rating": rating, "comment": comment,
           "conversation_id": "web:x", "at": None}  # fmt: skip
    return {"figures": {}, "tables": {"low_ratings": [row]}}


def test_text_that_would_be_a_formula_is_neutralised() -> None:
    doc = low_rating_doc(1, "=HYPERLINK(1)")
    text = to_csv(doc)
    assert "'=HYPERLINK(1)" in text
    sheets = read_workbook(to_xlsx(doc))
    low = next(rows for name, rows in sheets.items() if name.endswith("low_ratings"))
    assert low[1][4] == "=HYPERLINK(1)"  # a plain string cell, not a formula


async def test_xlsx_has_a_sheet_per_section_with_the_same_numbers(db: Database) -> None:
    doc = await report(db)
    sheets = read_workbook(to_xlsx(doc))
    assert list(sheets) == [
        "报表 report", "指标 figures", "趋势 series", "按渠道 breakdown_channel",
        "按类别 breakdown_category", "按部门 breakdown_department", "按镇街 breakdown_town",
        "热点问题 top_questions", "投诉类别 complaint_categories",
        "部门按时办结率 on_time_by_department", "差评 low_ratings", "超期工单 overdue_tickets",
    ]  # fmt: skip
    head, *rows = sheets["指标 figures"]
    assert head[2] == "数值 value"
    by_key = {r[0]: r for r in rows}
    assert by_key["message_answered_5s_rate"][2:5] == [19 / 21, 19.0, 21.0]
    assert by_key["handoff_wait_p90_s"][2] == 57.0
    assert by_key["resolved_by_agent_rate"][1] == "人工解决率"
    # a null value is an empty cell
    assert len(by_key["overdue_tickets"]) >= 5
    on_time = sheets["部门按时办结率 on_time_by_department"]
    assert on_time[0] == ["键 key", "名称 label", "按时 on_time", "应办结 judged", "数值 value"]
    assert on_time[1] == ["ecology_environment", "市生态环境局", 2.0, 3.0, 2 / 3]
    about = dict((r[0], r[1] if len(r) > 1 else None) for r in sheets["报表 report"][1:])
    assert about["since"] == "2026-11-30" and about["drills_excluded"] is True


def test_control_characters_in_citizen_text_do_not_break_the_workbook() -> None:
    sheets = read_workbook(to_xlsx(low_rating_doc(2, "太慢\x07了\x00")))
    low = next(rows for name, rows in sheets.items() if name.endswith("low_ratings"))
    assert low[1][3:5] == [2.0, "太慢了"]
