"""``python -m bot.knowledge import|expired``: the city's knowledge export
(CSV and Excel, generated here) merged into a copy of faq.yml, with bad rows,
duplicates and entries past their valid-until date."""

from __future__ import annotations

import datetime as dt
import importlib.util
import shutil
from pathlib import Path

import pytest
import yaml

from bot.knowledge import KNOWLEDGE_DIR, parse_faq
from bot.knowledge_import import MARKER, ImportFileError, infer_domain, main, run_import

TODAY = dt.date(2026, 12, 5)
HEAD_ZH = ["问题", "相似问", "答案", "部门", "来源", "日期", "有效期至"]
HEAD_EN = ["question", "similar questions", "answer", "department", "source", "date", "valid-until"]


def _checker():
    spec = importlib.util.spec_from_file_location("chk", Path("scripts/check_knowledge_faq.py"))
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def similar(topic: str, n: int = 10) -> str:
    return "|".join(f"{topic}第{i}种说法" for i in range(1, n + 1))


def row(topic: str, *, department: str = "东莞市交通运输局", date: object = "2026-10-01",
        until: object = "2027-10-01", answer: str | None = None) -> list[object]:  # fmt: skip
    return [f"{topic}是怎么规定的", similar(topic), answer or f"{topic}的规定以主管部门公布为准。",
            department, "东莞市政府公开信息", date, until]  # fmt: skip


@pytest.fixture
def faq(tmp_path: Path) -> Path:
    path = tmp_path / "faq.yml"
    shutil.copy(KNOWLEDGE_DIR / "faq.yml", path)
    return path


def write_csv(path: Path, header: list[str], rows: list[list[object]], encoding="utf-8") -> Path:
    import csv

    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_xlsx(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(header)
    for r in rows:
        sheet.append(r)
    book.save(path)
    return path


def test_a_good_csv_is_merged_in_the_format_the_checker_and_loader_expect(
    tmp_path: Path, faq: Path
) -> None:
    before = faq.read_text(encoding="utf-8")
    shipped = len(yaml.safe_load(before)["entries"])
    source = write_csv(tmp_path / "k.csv", HEAD_ZH, [row("市民卡乘地铁"), row("公交换乘优惠")])
    report = run_import(source, out=faq, today=TODAY)
    assert (report.added, report.updated, report.bad_rows) == (2, 0, [])
    text = faq.read_text(encoding="utf-8")
    assert text.startswith(before.rstrip("\n"))  # everything above the block is kept
    data = yaml.safe_load(text)
    entries = parse_faq(data)  # bot.knowledge's loader (build_training_data uses it)
    imported = [e for e in data["entries"] if e.get("origin") == "import"]
    assert len(entries) == shipped + 2 and len(imported) == 2
    first = imported[0]
    assert first["id"].startswith("tr_imp_") and first["domain"] == "traffic"
    assert first["department"] == "东莞市交通运输局" and first["sample"] is False
    assert first["updated"] == dt.date(2026, 10, 1) and first["valid_until"] == dt.date(2027, 10, 1)
    assert len(first["examples"]) == 10
    errors, _ = _checker().check(faq)
    assert errors == []


def test_reimporting_updates_the_same_entries(tmp_path: Path, faq: Path) -> None:
    run_import(write_csv(tmp_path / "a.csv", HEAD_ZH, [row("市民卡乘地铁")]), out=faq, today=TODAY)
    newer = row("市民卡乘地铁", answer="可以，市民卡可在轨道交通刷卡乘车。", date="2026-11-30")
    report = run_import(write_csv(tmp_path / "b.csv", HEAD_ZH, [newer]), out=faq, today=TODAY)
    assert (report.added, report.updated) == (0, 1)
    data = yaml.safe_load(faq.read_text(encoding="utf-8"))
    imported = [e for e in data["entries"] if e.get("origin") == "import"]
    assert len(imported) == 1 and imported[0]["answer"].startswith("可以，市民卡")
    assert faq.read_text(encoding="utf-8").count(MARKER) == 1


def test_an_xlsx_with_bad_rows_is_reported_whole_and_nothing_is_written(
    tmp_path: Path, faq: Path
) -> None:
    before = faq.read_bytes()
    rows = [
        row("市民卡乘地铁", date=dt.datetime(2026, 10, 1), until=dt.datetime(2027, 10, 1)),
        row("公交换乘优惠", answer="很长" * 120),  # row 3: answer too long
        row("市民卡乘地铁"),  # row 4: the same question as row 2
        row("旧的停车政策", date="2024-01-01", until="2025-01-01"),  # row 5: expired
        ["", similar("空问题"), "答案", "东莞市交通运输局", "来源", "2026-10-01", ""],  # row 6
        row("驾照期满换证", date="2026/13/01"),  # row 7: not a date
        row("某某规定", department="东莞市某某办公室"),  # row 8: no domain
        [*row("少相似问")[:1], "只有一条", *row("少相似问")[2:]],  # row 9
    ]
    source = write_xlsx(tmp_path / "k.xlsx", HEAD_EN, rows)
    report = run_import(source, out=faq, today=TODAY)
    problems = [p for r in report.rows for p in r.problems]
    assert faq.read_bytes() == before  # nothing written
    assert report.written == 0
    assert any(p.startswith("第3行 列“答案”") and "240个字" in p for p in problems)
    assert any(p.startswith("第4行 列“问题”") and "第2行" in p for p in problems)
    assert any(p.startswith("第6行 列“问题”：不能为空") for p in problems)
    assert any(p.startswith("第7行 列“日期”") for p in problems)
    assert any(p.startswith("第8行 列“部门”") and "领域" in p for p in problems)
    assert any(p.startswith("第9行 列“相似问”") and "只有1条" in p for p in problems)
    assert [r.number for r in report.expired_rows] == [5]
    assert {r.number for r in report.bad_rows} == {3, 4, 6, 7, 8, 9}


def test_skip_bad_writes_the_good_rows_and_expired_rows_only_when_asked(
    tmp_path: Path, faq: Path
) -> None:
    rows = [row("市民卡乘地铁"), row("公交换乘优惠", answer="长" * 300),
            row("旧的停车政策", date="2024-01-01", until="2025-01-01")]  # fmt: skip
    source = write_csv(tmp_path / "k.csv", HEAD_ZH, rows)
    report = run_import(source, out=faq, today=TODAY, skip_bad=True)
    assert (report.added, [r.number for r in report.bad_rows]) == (1, [3])
    assert [r.number for r in report.expired_rows] == [4]
    report = run_import(source, out=faq, today=TODAY, skip_bad=True, include_expired=True)
    assert (report.added, report.updated) == (1, 1)
    data = yaml.safe_load(faq.read_text(encoding="utf-8"))
    assert sum(e.get("origin") == "import" for e in data["entries"]) == 2


def test_dry_run_reports_and_writes_nothing(tmp_path: Path, faq: Path) -> None:
    before = faq.read_bytes()
    lines: list[str] = []
    source = write_csv(tmp_path / "k.csv", HEAD_ZH, [row("市民卡乘地铁")])
    code = main(["import", str(source), "--out", str(faq), "--dry-run", "--today", "2026-12-05"],
                say=lines.append)  # fmt: skip
    assert code == 0 and faq.read_bytes() == before
    assert any("试运行" in line and "新增 1 条" in line for line in lines)


def test_a_question_already_in_the_knowledge_or_an_example_of_another_entry_is_refused(
    tmp_path: Path, faq: Path
) -> None:
    data = yaml.safe_load(faq.read_text(encoding="utf-8"))
    existing = data["entries"][0]
    taken = existing["examples"][0]
    rows = [
        [existing["question"], similar("社保转移"), "答案。", "东莞市社会保险基金管理中心",
         "来源", "2026-10-01", ""],
        ["社保新问题是什么", similar("社保新问题", 9) + "|" + taken, "答案。",
         "东莞市社会保险基金管理中心", "来源", "2026-10-01", ""],
    ]  # fmt: skip
    report = run_import(write_csv(tmp_path / "k.csv", HEAD_ZH, rows), out=faq, today=TODAY)
    problems = [p for r in report.rows for p in r.problems]
    assert any(p.startswith("第2行 列“问题”") and existing["id"] in p for p in problems)
    assert any(p.startswith("第3行 列“相似问”") and taken in p for p in problems)
    assert report.written == 0


def test_file_level_problems_name_the_column_and_write_nothing(tmp_path: Path, faq: Path) -> None:
    before = faq.read_bytes()
    with pytest.raises(ImportFileError, match="不认识的列“备注”"):
        run_import(write_csv(tmp_path / "a.csv", [*HEAD_ZH, "备注"], [row("x")]), out=faq)
    with pytest.raises(ImportFileError, match="缺少列 答案"):
        run_import(
            write_csv(tmp_path / "b.csv", ["问题", "相似问", "部门", "来源", "日期"], []), out=faq
        )
    with pytest.raises(ImportFileError, match="只支持"):
        run_import(tmp_path / "c.txt", out=faq)
    assert faq.read_bytes() == before
    lines: list[str] = []
    assert main(["import", str(tmp_path / "a.csv"), "--out", str(faq)], say=lines.append) == 2
    assert lines[-1] == "未写入任何内容。"


def test_a_gb18030_csv_from_excel_is_read(tmp_path: Path, faq: Path) -> None:
    source = write_csv(tmp_path / "k.csv", HEAD_ZH, [row("市民卡乘地铁")], encoding="gb18030")
    assert run_import(source, out=faq, today=TODAY).added == 1


def test_expired_lists_entries_past_valid_until(tmp_path: Path, faq: Path) -> None:
    rows = [row("市民卡乘地铁", until="2026-12-20"), row("公交换乘优惠", until="2027-06-01")]
    run_import(write_csv(tmp_path / "k.csv", HEAD_ZH, rows), out=faq, today=TODAY)
    lines: list[str] = []
    assert main(["expired", "--file", str(faq), "--today", "2026-12-05"], say=lines.append) == 0
    assert lines == ["共 0 条已过（或即将过）有效期。"]
    lines.clear()
    code = main(["expired", "--file", str(faq), "--today", "2026-12-21"], say=lines.append)
    assert code == 1 and len(lines) == 2 and "市民卡乘地铁" in lines[0]
    lines.clear()
    main(["expired", "--file", str(faq), "--today", "2026-12-05", "--within", "30"],
         say=lines.append)  # fmt: skip
    assert "2026-12-20" in lines[0]


def test_an_import_waits_for_the_knowledge_editors_file_lock(tmp_path: Path, faq: Path) -> None:
    import fcntl
    import threading

    source = write_csv(tmp_path / "k.csv", HEAD_ZH, [row("市民卡乘地铁")])
    done = threading.Event()
    with (faq.parent / ".editor.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # an editor is changing faq.yml
        worker = threading.Thread(
            target=lambda: (run_import(source, out=faq, today=TODAY), done.set())
        )
        worker.start()
        assert not done.wait(1.0)  # the import waits
        fcntl.flock(handle, fcntl.LOCK_UN)
    worker.join(60)
    assert done.is_set()
    assert "origin: import" in faq.read_text(encoding="utf-8")


def test_the_block_uses_the_files_own_layout(tmp_path: Path, faq: Path) -> None:
    run_import(write_csv(tmp_path / "k.csv", HEAD_ZH, [row("市民卡乘地铁")]), out=faq, today=TODAY)
    block = faq.read_text(encoding="utf-8").split(MARKER, 1)[1]
    assert (
        "\n  - id: tr_imp_" in block and "\n    examples:\n      - 市民卡乘地铁第1种说法" in block
    )


def test_departments_of_the_new_domains_are_recognised() -> None:
    assert infer_domain("东莞市公安局出入境管理支队") == "public_security"
    assert infer_domain("东莞市公安局") == "household_registration"
    assert infer_domain("东莞市城市管理和综合执法局") == "urban_management"
    assert infer_domain("东莞市生态环境局") == "environment"
    assert infer_domain("东莞市文化广电旅游体育局") == "culture_tourism"
    assert infer_domain("东莞市农业农村局") == "agriculture"
