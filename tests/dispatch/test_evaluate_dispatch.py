"""scripts/evaluate_dispatch.py: the figures on a small set written here, and
a malformed set named with its item."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def evaluator():
    spec = importlib.util.spec_from_file_location("ed", Path("scripts/evaluate_dispatch.py"))
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SET = """
dev: false
items:
  - {text: 楼下烧烤店天天晚上吵到凌晨, location: 虎门镇北栅, category: noise, town: 虎门}
  - {text: 老板三个月没发工资了, location: 松山湖, category: wages, town: songshanhu}
  - {text: 外卖里面吃出一条虫, category: food_safety}
  - {text: 房东退租时扣了我全部押金, location: 我家附近, category: noise, town: 长安镇}
  - {text: 建议公园多装几盏路灯, location: 长安, category: suggestion, town: changan}
  - {text: 有个问题想反映一下, category: other}
"""


def test_figures_of_a_set(evaluator, tmp_path: Path, capsys) -> None:
    (tmp_path / "set.yml").write_text(SET, encoding="utf-8")
    out = tmp_path / "report.json"
    assert evaluator.main(["--dir", str(tmp_path), "--json", str(out), "--errors"]) == 0
    report = json.loads(out.read_text(encoding="utf-8"))["set.yml"]
    assert report["items"] == 6 and report["dev"] is False
    assert report["classified_items"] == 4 and report["suggestions_apart"] == 1
    assert report["category_accuracy"] == 0.75  # the 4th label is wrong on purpose
    assert (report["other_items"], report["other_to_triage"]) == (1, 1.0)  # flagged: right
    assert report["decision_accuracy"] == 0.8  # 3 of 4 complaints + the 'other' one
    assert report["town_named"] == 4 and report["town_found"] == 0.75  # 长安 as location
    assert report["town_false_found"] == 0.0
    assert sum(b["items"] for b in report["histogram"]) == 4
    printed = capsys.readouterr().out
    assert "category accuracy" in printed and "房东退租时扣了我全部押金" in printed


def test_a_malformed_set_is_named(evaluator, tmp_path: Path, capsys) -> None:
    (tmp_path / "bad.yml").write_text(
        "items:\n  - {text: 好吵, category: noise}\n  - {text: 好吵, category: loud}\n",
        encoding="utf-8",
    )
    assert evaluator.main(["--dir", str(tmp_path)]) == 1
    assert "bad.yml item 2: unknown category 'loud'" in capsys.readouterr().err
    (tmp_path / "bad.yml").write_text("items:\n  - {text: 好吵, category: noise, town: 火星}\n")
    assert evaluator.main(["--dir", str(tmp_path)]) == 1
    assert "unknown town '火星'" in capsys.readouterr().err
