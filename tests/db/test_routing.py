"""Routing table: the shipped data/routing.yml, classification, working days."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.db.routing import RoutingError, add_working_days, is_working_day, load_routing

REQUIRED = (
    "noise construction pollution sanitation wages labour consumer food_safety property housing "
    "roads traffic public_transport utilities urban_management education healthcare "
    "government_service social_security suggestion other"
).split()


def test_shipped_table_has_every_category() -> None:
    routing = load_routing()
    assert set(REQUIRED) <= set(routing.categories)
    assert routing.route("other").department == "triage"
    assert routing.route("other").department_name == "分拨中心"


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("楼上每天半夜装修噪音太大，吵得睡不着", "noise"),
        ("老板拖欠我们三个月工资不发", "wages"),
        ("小区物业乱收物业费，电梯坏了也不修", "property"),
        ("路口的路灯不亮已经一个星期了", "roads"),
        ("饭店卖的食品过期变质，吃了拉肚子", "food_safety"),
        ("我们村突然停水了，什么时候恢复供水", "utilities"),
        ("河涌有工厂偷排污水，臭味很大", "pollution"),
        ("建议在东城多开几条公交线路，希望增加班次", "suggestion"),
        ("公交车司机拒载，还绕路", "public_transport"),
        ("你好，请问今天天气怎么样", "other"),
        ("", "other"),
    ],
)
def test_classify(text: str, category: str) -> None:
    assert load_routing().classify(text) == category


def test_classify_normalises_full_width_text() -> None:
    assert load_routing().classify("ＫＴＶ噪音扰民") == "noise"


def test_route_and_unknown_category() -> None:
    routing = load_routing()
    route = routing.route("wages")
    assert (route.department, route.department_name) == (
        "human_resources",
        "市人力资源和社会保障局",
    )
    assert route.deadline_days == 5 and route.priority == "high"
    assert routing.route("no_such_category") == routing.route("other")
    assert not routing.is_known("no_such_category") and not routing.is_known("other")


def test_reply_expectation_is_a_chinese_sentence() -> None:
    routing = load_routing()
    assert routing.reply_expectation("noise") == "噪音扰民类诉求一般在3个工作日内答复"
    assert "分拨中心" in routing.reply_expectation("unknown")


def test_working_days_skip_weekends_and_holidays() -> None:
    holidays = {dt.date(2026, 10, d) for d in range(1, 8)}
    workdays = {dt.date(2026, 10, 10)}  # a Saturday worked in exchange
    # Tuesday 29 Sep + 3 working days: Wed 30, (holidays 1-7 Oct), Thu 8, Fri 9
    assert add_working_days(dt.date(2026, 9, 29), 3, holidays) == dt.date(2026, 10, 9)
    # ...and the exchanged Saturday counts
    assert add_working_days(dt.date(2026, 9, 29), 4, holidays, workdays) == dt.date(2026, 10, 10)
    assert add_working_days(dt.date(2026, 9, 29), 4, holidays) == dt.date(2026, 10, 12)
    # Friday + 1 working day = Monday; time of day is kept for datetimes
    friday = dt.datetime(2026, 3, 6, 15, 30)
    assert add_working_days(friday, 1, ()) == dt.datetime(2026, 3, 9, 15, 30)
    assert add_working_days(dt.date(2026, 3, 6), 0, ()) == dt.date(2026, 3, 6)
    assert not is_working_day(dt.date(2026, 10, 10), holidays)
    with pytest.raises(ValueError):
        add_working_days(dt.date(2026, 3, 6), -1, ())


def test_shipped_holidays_drive_deadlines() -> None:
    routing = load_routing()
    assert dt.date(2026, 2, 17) in routing.holidays and dt.date(2027, 10, 1) in routing.holidays
    assert dt.date(2026, 2, 14) in routing.workdays
    # Friday 30 Apr 2026 10:00 in Dongguan, 3 working days: May 1-5 off, May 6, 7, 8
    start = dt.datetime(2026, 4, 30, 2, 0, tzinfo=dt.UTC)
    deadline = routing.deadline(start, 3)
    assert deadline.astimezone(routing.timezone).replace(tzinfo=None) == dt.datetime(
        2026, 5, 8, 23, 59, 59
    )


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "routing.yml"
    path.write_text(text, encoding="utf-8")
    return path


MINIMAL = """
departments:
  triage: {name: 分拨中心}
categories:
  other: {name: 其他, department: triage, deadline_days: 1}
"""


def test_minimal_table_loads(tmp_path: Path) -> None:
    routing = load_routing(_write(tmp_path, MINIMAL))
    assert routing.classify("任何内容") == "other" and routing.holidays == frozenset()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- a list", "mapping"),
        (MINIMAL.replace("department: triage", "department: nowhere"), "unknown department"),
        (MINIMAL.replace("deadline_days: 1", "deadline_days: soon"), "deadline_days"),
        (MINIMAL.replace("other:", "misc:"), "'other' is required"),
        (MINIMAL + "holidays: [2026-13-01]\n", "month must be"),
        (MINIMAL + "holidays: [next monday]\n", "not a date"),
        (MINIMAL.replace("{name: 其他,", "{name: 其他, priority: asap,"), "priority"),
        ("departments: {x: {name: X}}\ncategories: {other: {}}", "triage"),
        ("key: [unclosed", "cannot read"),
    ],
)
def test_bad_table_names_the_problem(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(RoutingError, match=message):
        load_routing(_write(tmp_path, text))
