"""Import the city's own knowledge export (CSV or Excel) into ``data/knowledge/faq.yml``.

``python -m bot.knowledge import FILE.csv|FILE.xlsx [--dry-run] [--skip-bad]
[--include-expired] [--out FAQ.yml] [--today YYYY-MM-DD]`` and
``python -m bot.knowledge expired [--today YYYY-MM-DD] [--within DAYS]``.

Columns (header row; English or Chinese, any order):
question/问题, similar questions/相似问, answer/答案, department/部门,
source/来源, date/日期, valid-until/有效期至; optional id/编号 and
domain/领域 (a domain key of faq.yml or its Chinese name; without it the
domain is inferred from the department). Similar questions are separated by
new lines, "|", ";" or "；". An unknown column is an error (its data would
otherwise be lost).

Validation names the row (as numbered in the spreadsheet, header = row 1) and
the column of every problem, reports every row, and writes nothing when any
row is bad, unless ``--skip-bad`` (then the good rows are written and the bad
ones listed). The rules are those of ``scripts/check_knowledge_faq.py``
(answer length and form, at least ``MIN_EXAMPLES`` similar questions,
phrasings owned by other intents, examples used by another entry or by the
service catalog): the merged file is checked with it before anything is
written, and any new problem is reported against its row.

Rows past their valid-until date are reported and not imported unless
``--include-expired``. Imported entries carry ``origin: import``,
``sample: false``, ``department`` and ``valid_until``; their id is the
domain's prefix + ``imp_`` + a hash of the question, so importing a newer
export updates the same entries. They live in a managed block at the end of
faq.yml (after a marker comment); everything above it is kept byte for byte.
The file is replaced atomically. Then run ``make train``.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import fcntl
import hashlib
import importlib.util
import io
import os
import re
import shutil
import sys
import tempfile
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

from bot.config import ROOT

FAQ_PATH = ROOT / "data" / "knowledge" / "faq.yml"
CHECKER = ROOT / "scripts" / "check_knowledge_faq.py"
MARKER = (
    "  # ---- imported from the city's knowledge export by `python -m bot.knowledge import`;"
    " managed block, re-import to change ----"
)
ORIGIN = "import"

# field -> (Chinese column title used in messages, accepted header spellings)
COLUMNS: dict[str, tuple[str, tuple[str, ...]]] = {
    "question": ("问题", ("question", "问题", "标准问", "标准问题")),
    "similar": (
        "相似问",
        ("similar questions", "similar_questions", "similar", "相似问", "相似问题"),
    ),
    "answer": ("答案", ("answer", "答案", "回答")),
    "department": ("部门", ("department", "部门", "责任部门")),
    "source": ("来源", ("source", "来源")),
    "date": ("日期", ("date", "日期", "更新日期")),
    "valid_until": (
        "有效期至",
        ("valid-until", "valid_until", "valid until", "有效期至", "有效期"),
    ),
    "id": ("编号", ("id", "编号")),
    "domain": ("领域", ("domain", "领域", "分类")),
}
REQUIRED = ("question", "similar", "answer", "department", "source", "date")
_SPLIT = re.compile(r"[\n|;；]+")
_NORM = re.compile(r"[\s,，。.!！?？、:：;；\"'“”‘’()（）]+")
# Department words -> domain, most specific first.
DEPARTMENT_DOMAINS: tuple[tuple[str, str], ...] = (
    ("公积金", "housing_provident_fund"),
    ("医疗保障", "medical_insurance"),
    ("医保", "medical_insurance"),
    ("交警", "traffic"),
    ("交通", "traffic"),
    ("车管", "traffic"),
    ("劳动", "labour"),
    ("仲裁", "labour"),
    ("社会保险", "social_insurance"),
    ("社保", "social_insurance"),
    ("人力资源", "social_insurance"),
    ("出入境", "public_security"),
    ("移民管理", "public_security"),
    ("公安", "household_registration"),
    ("派出所", "household_registration"),
    ("户籍", "household_registration"),
    ("教育", "education"),
    ("市场监督", "business"),
    ("市场监管", "business"),
    ("税务", "tax"),
    ("供水", "utilities"),
    ("供电", "utilities"),
    ("燃气", "utilities"),
    ("水务", "utilities"),
    ("住房", "housing"),
    ("住建", "housing"),
    ("卫生健康", "healthcare"),
    ("卫健", "healthcare"),
    ("民政", "civil_affairs"),
    # part B domains
    ("城市管理", "urban_management"),
    ("城管", "urban_management"),
    ("生态环境", "environment"),
    ("文化广电旅游体育", "culture_tourism"),
    ("农业农村", "agriculture"),
)


class ImportFileError(ValueError):
    """The file as a whole cannot be read (format, header); nothing is written."""


@dataclass
class Row:
    number: int  # the spreadsheet's row number (header = 1)
    values: dict[str, Any]
    problems: list[str] = field(default_factory=list)
    entry: dict[str, Any] | None = None
    expired: bool = False

    def bad(self, column: str, message: str) -> None:
        title = COLUMNS[column][0] if column in COLUMNS else column
        self.problems.append(f"第{self.number}行 列“{title}”：{message}")


@dataclass
class ImportReport:
    rows: list[Row]
    written: int = 0
    updated: int = 0
    added: int = 0
    out: Path | None = None
    dry_run: bool = False

    @property
    def bad_rows(self) -> list[Row]:
        return [r for r in self.rows if r.problems]

    @property
    def expired_rows(self) -> list[Row]:
        return [r for r in self.rows if r.expired and not r.problems]


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value).strip()
    return value


def _header_key(title: Any) -> str | None:
    text = re.sub(r"\s+", " ", str(title or "")).strip().lower()
    for key, (_, spellings) in COLUMNS.items():
        if text in spellings:
            return key
    return None


def read_table(path: Path) -> list[list[Any]]:
    """The rows of a CSV (UTF-8, UTF-8 with BOM or GB18030) or the first sheet of an .xlsx."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        raw = path.read_bytes()
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:  # pragma: no cover - gb18030 decodes nearly anything
            raise ImportFileError(f"{path}: 无法识别文件编码（请另存为 UTF-8 CSV）")
        return [list(r) for r in csv.reader(io.StringIO(text, newline=""))]
    if suffix in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        try:
            book = load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # noqa: BLE001 - any unreadable workbook
            raise ImportFileError(f"{path}: 无法读取 Excel 文件：{exc}") from None
        try:
            sheet = book.worksheets[0]
            return [list(r) for r in sheet.iter_rows(values_only=True)]
        finally:
            book.close()
    raise ImportFileError(f"{path}: 只支持 .csv 和 .xlsx 文件")


def parse_rows(table: list[list[Any]]) -> list[Row]:
    """Rows keyed by field; header problems raise ``ImportFileError``."""
    if not table:
        raise ImportFileError("文件是空的（没有表头）")
    header = table[0]
    keys: list[str | None] = []
    for i, title in enumerate(header, start=1):
        if title is None or str(title).strip() == "":
            keys.append(None)
            continue
        key = _header_key(title)
        if key is None:
            raise ImportFileError(
                f"第1行 第{i}列：不认识的列“{title}”（数据不会导入，请改名或删除该列）"
            )
        if key in keys:
            raise ImportFileError(f"第1行 第{i}列：列“{title}”重复")
        keys.append(key)
    missing = [COLUMNS[k][0] for k in REQUIRED if k not in keys]
    if missing:
        raise ImportFileError(f"第1行：缺少列 {'、'.join(missing)}")
    rows = []
    for number, cells in enumerate(table[1:], start=2):
        values = {}
        for i, cell in enumerate(cells):
            key = keys[i] if i < len(keys) else None
            cell = _clean(cell)
            if key is None:
                if cell not in (None, ""):
                    rows.append(Row(number, {}, [f"第{number}行 第{i + 1}列：有数据但没有列名"]))
                    break
                continue
            values[key] = cell
        else:
            if all(v in (None, "") for v in values.values()):
                continue  # an empty line
            rows.append(Row(number, values))
    return rows


def parse_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value or "").strip()
    match = re.fullmatch(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?", text)
    if not match:
        return None
    try:
        return dt.date(*(int(g) for g in match.groups()))
    except ValueError:
        return None


def _norm(text: str) -> str:
    return _NORM.sub("", unicodedata.normalize("NFKC", text)).lower()


def _checker() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_knowledge_faq", CHECKER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def infer_domain(department: str) -> str | None:
    return next((d for word, d in DEPARTMENT_DOMAINS if word in department), None)


def build_entry(row: Row, domains: dict[str, str], checker: ModuleType, today: dt.date) -> None:
    """Validate one row and build its faq.yml entry (``row.entry``);
    problems go to ``row.problems``."""
    v = row.values
    for key in REQUIRED:
        if v.get(key) in (None, ""):
            row.bad(key, "不能为空")
    question = str(v.get("question") or "")
    answer = str(v.get("answer") or "")
    examples = [e.strip() for e in _SPLIT.split(str(v.get("similar") or "")) if e.strip()]
    if answer and len(answer) > checker.MAX_ANSWER_CHARS:
        row.bad("answer", f"答案有{len(answer)}个字，超过{checker.MAX_ANSWER_CHARS}字上限")
    if "\n" in answer:
        row.bad("answer", "答案不能分多行")
    if v.get("similar") not in (None, "") and len(examples) < checker.MIN_EXAMPLES:
        row.bad("similar", f"相似问只有{len(examples)}条，至少需要{checker.MIN_EXAMPLES}条")
    seen: dict[str, str] = {}
    for example in examples:
        if _norm(example) in seen:
            row.bad("similar", f"相似问“{example}”重复")
        seen[_norm(example)] = example
    updated = parse_date(v.get("date")) if v.get("date") not in (None, "") else None
    if v.get("date") not in (None, "") and updated is None:
        row.bad("date", f"“{v.get('date')}”不是日期（请用 2026-11-20 这样的格式）")
    valid_until = None
    if v.get("valid_until") not in (None, ""):
        valid_until = parse_date(v.get("valid_until"))
        if valid_until is None:
            row.bad(
                "valid_until", f"“{v.get('valid_until')}”不是日期（请用 2026-11-20 这样的格式）"
            )
        elif updated is not None and valid_until < updated:
            row.bad("valid_until", f"有效期至 {valid_until} 早于日期 {updated}")
    department = str(v.get("department") or "")
    domain = _domain(row, domains, department)
    entry_id = _entry_id(row, domain, question, checker)
    if row.problems or domain is None or entry_id is None or updated is None:
        return
    row.expired = valid_until is not None and valid_until < today
    entry: dict[str, Any] = {
        "id": entry_id, "domain": domain, "question": question, "answer": answer,
        "source": str(v["source"]), "updated": updated, "sample": False, "origin": ORIGIN,
        "department": department,
    }  # fmt: skip
    if valid_until is not None:
        entry["valid_until"] = valid_until
    entry["examples"] = examples
    row.entry = entry


def _domain(row: Row, domains: dict[str, str], department: str) -> str | None:
    given = str(row.values.get("domain") or "").strip()
    if given:
        by_name = {name: key for key, name in domains.items()}
        domain = given if given in domains else by_name.get(given)
        if domain is None:
            row.bad("domain", f"不认识的领域“{given}”（可用：{'、'.join(domains.values())}）")
        return domain
    if not department:
        return None
    domain = infer_domain(department)
    if domain is None or domain not in domains:
        row.bad("department", f"无法根据部门“{department}”判断领域，请增加“领域”列")
        return None
    return domain


def _entry_id(row: Row, domain: str | None, question: str, checker: ModuleType) -> str | None:
    if domain is None:
        return None
    prefix = checker.PREFIX.get(domain)
    if prefix is None:
        row.bad("domain", f"领域 {domain} 没有编号前缀")
        return None
    given = str(row.values.get("id") or "").strip()
    if given:
        if not checker.ID_RE.match(given) or not given.startswith(prefix):
            row.bad("id", f"编号“{given}”须为小写英文、数字和下划线，并以 {prefix} 开头")
            return None
        return given
    digest = hashlib.sha256(_norm(question).encode()).hexdigest()[:10]
    return f"{prefix}imp_{digest}"


def _split_file(text: str) -> tuple[str, list[dict[str, Any]]]:
    """(the text above the managed block, the imported entries in it)."""
    head, _, block = text.partition(MARKER)
    if not block:
        return text.rstrip("\n") + "\n", []
    entries = yaml.safe_load("entries:\n" + block) or {}
    return head.rstrip("\n") + "\n", list(entries.get("entries") or [])


class _IndentedDumper(yaml.SafeDumper):
    """Lists indented under their key, as in the hand-written file (and as the
    knowledge editor, bot/knowledge_editor/faq_file.py, expects)."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _render(head: str, entries: list[dict[str, Any]]) -> str:
    if not entries:
        return head
    body = yaml.dump(
        entries, Dumper=_IndentedDumper, allow_unicode=True, sort_keys=False, width=1000
    )
    indented = "".join("  " + line if line.strip() else line for line in body.splitlines(True))
    return f"{head}\n{MARKER}\n{indented}"


def run_import(
    path: Path,
    *,
    out: Path = FAQ_PATH,
    dry_run: bool = False,
    skip_bad: bool = False,
    include_expired: bool = False,
    today: dt.date | None = None,
) -> ImportReport:
    """Validate ``path`` and merge its rows into ``out``; see the module docstring."""
    with _editor_lock(out.parent):
        return _run_import(path, out, dry_run, skip_bad, include_expired, today)


@contextlib.contextmanager
def _editor_lock(folder: Path) -> Iterator[None]:
    """The knowledge editor's file lock (bot/knowledge_editor/editor.py): an
    import and an editor's change of faq.yml never interleave."""
    with (folder / ".editor.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run_import(
    path: Path,
    out: Path,
    dry_run: bool,
    skip_bad: bool,
    include_expired: bool,
    today: dt.date | None,
) -> ImportReport:
    today = today or dt.date.today()
    checker = _checker()
    text = out.read_text(encoding="utf-8")
    current = yaml.safe_load(text)
    domains: dict[str, str] = dict(current.get("domains") or {})
    rows = parse_rows(read_table(path))
    report = ImportReport(rows, out=out, dry_run=dry_run)
    for row in rows:
        if not row.problems:
            build_entry(row, domains, checker, today)
    _duplicates(rows, current.get("entries") or [])
    head, imported = _split_file(text)
    merged, added, updated = _merge(imported, rows, include_expired)
    candidate = _render(head, merged)
    _check_merged(candidate, text, rows, checker, out.parent / "services.yml")
    if report.bad_rows and not skip_bad:
        return report
    if report.bad_rows:  # --skip-bad: drop them and check again
        merged, added, updated = _merge(imported, rows, include_expired)
        candidate = _render(head, merged)
        _check_merged(candidate, text, rows, checker, out.parent / "services.yml")
        if any(r.problems and r.entry is not None for r in rows):
            return report  # pragma: no cover - a second-round problem: write nothing
    parsed = yaml.safe_load(candidate) or {}
    ids = {str(e.get("id")) for e in parsed.get("entries") or []}
    if not {str(e["id"]) for e in merged} <= ids:
        raise ImportFileError(f"{out}: 'entries' is not the last key, the block cannot be added")
    report.added, report.updated = added, updated
    report.written = added + updated
    if not dry_run and report.written:
        _write_atomically(out, candidate)
    return report


def _duplicates(rows: list[Row], existing: list[dict[str, Any]]) -> None:
    """The same question twice in the file, or already a hand-written entry."""
    first: dict[str, int] = {}
    by_question = {
        _norm(str(e.get("question", ""))): str(e.get("id"))
        for e in existing
        if e.get("origin") != ORIGIN
    }
    for row in rows:
        if row.entry is None:
            continue
        key = _norm(row.entry["question"])
        if key in first:
            row.bad("question", f"与第{first[key]}行的问题重复")
        elif key in by_question:
            row.bad("question", f"与知识库现有条目 {by_question[key]} 的问题重复")
        else:
            first[key] = row.number


def _merge(
    imported: list[dict[str, Any]], rows: list[Row], include_expired: bool
) -> tuple[list[dict[str, Any]], int, int]:
    merged = {str(e.get("id")): e for e in imported}
    added = updated = 0
    for row in rows:
        if row.entry is None or row.problems or (row.expired and not include_expired):
            continue
        if row.entry["id"] in merged:
            updated += 1
        else:
            added += 1
        merged[row.entry["id"]] = row.entry
    return list(merged.values()), added, updated


def _check_merged(
    candidate: str, before: str, rows: list[Row], checker: ModuleType, services: Path
) -> None:
    """Run the knowledge checker on the merged file; new problems go to their rows."""
    old = set(_run_checker(before, checker, services))
    new = [e for e in _run_checker(candidate, checker, services) if e not in old]
    by_id = {r.entry["id"]: r for r in rows if r.entry is not None}
    for error in new:
        row = next((r for i, r in by_id.items() if re.search(rf"\b{re.escape(i)}\b", error)), None)
        if row is None:
            # Counted rules (entries per domain ...) that no single row owns: every row.
            for r in rows:
                if r.entry is not None:
                    r.bad("question", f"知识库检查未通过：{error}")
            continue
        column = "similar" if "example" in error else "answer" if "answer" in error else "question"
        if row.entry is not None and not any(error in p for p in row.problems):
            row.bad(column, f"知识库检查未通过：{error}")


def _run_checker(text: str, checker: ModuleType, services: Path) -> list[str]:
    """The checker's problems with ``text`` as faq.yml next to ``services``
    (it also checks examples against the service catalog beside the file)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "faq.yml"
        path.write_text(text, encoding="utf-8")
        if services.exists():
            shutil.copyfile(services, Path(folder) / "services.yml")
        errors, _ = checker.check(path)
    return list(errors)


def _write_atomically(path: Path, text: str) -> None:
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=".faq-", suffix=".yml")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def expired_entries(
    path: Path = FAQ_PATH, today: dt.date | None = None, within_days: int = 0
) -> list[dict[str, Any]]:
    """Entries of ``path`` whose ``valid_until`` is before ``today`` + ``within_days``."""
    limit = (today or dt.date.today()) + dt.timedelta(days=within_days)
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    found = []
    for entry in data.get("entries") or []:
        until = parse_date(entry.get("valid_until")) if entry.get("valid_until") else None
        if until is not None and until < limit:
            found.append(entry)
    return sorted(found, key=lambda e: parse_date(e["valid_until"]) or dt.date.min)


def _print_report(report: ImportReport, skip_bad: bool, say: Callable[[str], None]) -> None:
    for row in report.rows:
        for problem in row.problems:
            say(f"错误 {problem}")
    for row in report.expired_rows:
        assert row.entry is not None
        say(
            f"已过期 第{row.number}行 {row.entry['id']}"
            f"（有效期至 {row.entry['valid_until']}）：{row.entry['question']}"
        )
    good = len(report.rows) - len(report.bad_rows)
    say(
        f"共 {len(report.rows)} 行：{good} 行无误，{len(report.bad_rows)} 行有错，"
        f"{len(report.expired_rows)} 行已过有效期"
    )
    if report.bad_rows and not skip_bad:
        say("有错误，未写入任何内容（改正后重新导入，或加 --skip-bad 只导入无误的行）。")
        return
    action = "将写入（试运行，未写入）" if report.dry_run else "已写入"
    say(f"{action} {report.out}：新增 {report.added} 条，更新 {report.updated} 条。")
    if report.written and not report.dry_run:
        say("请运行 make train 重新训练模型。")


def main(argv: Iterable[str] | None = None, say: Callable[[str], None] = print) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.knowledge", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    imp = sub.add_parser("import", help="import the city's knowledge export (.csv/.xlsx)")
    imp.add_argument("file", type=Path)
    imp.add_argument("--dry-run", action="store_true", help="validate and report, write nothing")
    imp.add_argument("--skip-bad", action="store_true", help="write the good rows, list the bad")
    imp.add_argument("--include-expired", action="store_true", help="also import expired rows")
    imp.add_argument("--out", type=Path, default=FAQ_PATH, help="the FAQ file (default: faq.yml)")
    imp.add_argument("--today", type=dt.date.fromisoformat, default=None, help="YYYY-MM-DD")
    exp = sub.add_parser("expired", help="list entries past (or near) their valid-until date")
    exp.add_argument("--file", type=Path, default=FAQ_PATH)
    exp.add_argument("--today", type=dt.date.fromisoformat, default=None, help="YYYY-MM-DD")
    exp.add_argument("--within", type=int, default=0, help="also those expiring within N days")
    args = parser.parse_args(list(argv) if argv is not None else None)
    if args.command == "expired":
        entries = expired_entries(args.file, args.today, args.within)
        for entry in entries:
            say(
                f"{entry['valid_until']}  {entry['id']}  "
                f"{entry.get('department', '')}  {entry['question']}"
            )
        say(f"共 {len(entries)} 条已过（或即将过）有效期。")
        return 1 if entries else 0
    try:
        report = run_import(
            args.file, out=args.out, dry_run=args.dry_run, skip_bad=args.skip_bad,
            include_expired=args.include_expired, today=args.today,
        )  # fmt: skip
    except (ImportFileError, OSError) as exc:
        say(f"错误 {exc}")
        say("未写入任何内容。")
        return 2
    _print_report(report, args.skip_bad, say)
    return 1 if report.bad_rows else 0


if __name__ == "__main__":
    sys.exit(main())
