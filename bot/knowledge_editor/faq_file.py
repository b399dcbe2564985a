"""Reviewable edits of data/knowledge/faq.yml: small text changes, verified.

The editor's page changes the file the way a person would: it inserts the
new example lines after an entry's last example, or a new entry's block after
the last entry of its domain, and leaves every other byte as it was
(comments, folded answers, blank lines), so ``git diff`` shows only the
change. A YAML round trip (dump) would rewrite the whole file.

Every edit is verified before it is written: the new text must parse to
exactly the old data plus the intended change, and pass the editors' own
checks (scripts/check_knowledge_faq.py); then it replaces the file in one
``os.replace``. A refused edit leaves the file untouched.

A directory that cannot be written (a read-only file system, no permission,
a full disk) is refused the same way, with :class:`KnowledgeNotWritable`
naming the problem in Chinese: the file stays as it was and the temporary
copy is removed.
"""

from __future__ import annotations

import copy
import datetime as dt
import difflib
import errno
import json
import logging
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.knowledge import load_yaml
from bot.knowledge_editor.scripts import script

log = logging.getLogger(__name__)

_ENTRY = re.compile(r"^  - id:\s*(\S+)\s*$")
_EXAMPLES = re.compile(r"^    examples:\s*$")
_ITEM = re.compile(r"^      - ")
_MASKED = re.compile(r"\*{2,}")
MIN_CHARS = 4  # shorter phrasings teach the model nothing
MAX_CHARS = 80


class FaqEditError(ValueError):
    """An edit that was refused; ``problems`` lists why (Chinese for the editor)."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


def storage_reason(error: OSError) -> str:
    """Why a directory cannot be written, in the editors' words."""
    if error.errno == errno.EROFS:
        return "知识库目录只读"
    if error.errno in (errno.EACCES, errno.EPERM):
        return "没有写入知识库目录的权限"
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return "知识库所在的磁盘已满"
    if isinstance(error, FileNotFoundError):
        return "找不到知识库目录或文件"
    return f"知识库目录无法写入（{error.strerror or type(error).__name__}）"


class KnowledgeNotWritable(FaqEditError):
    """The knowledge directory could not be written: nothing was changed."""

    def __init__(self, directory: Path, error: OSError) -> None:
        self.directory = directory
        self.error = error
        super().__init__(
            f"{storage_reason(error)}，无法保存修改（{directory}）。知识库文件未作改动，"
            "这组问题仍待处理，页面上填写的内容也还在；请联系运维人员检查知识库存储后再试。"
        )


@dataclass(frozen=True)
class Screened:
    accepted: list[str]
    skipped: list[tuple[str, str]]  # (phrasing, why, in Chinese)


def norm(text: str) -> str:
    return str(script("check_knowledge_faq").norm(text))


def screen_phrasings(data: dict[str, Any], services: dict[str, Any], texts: list[str]) -> Screened:
    """Which candidate phrasings may become examples, and why the others may not."""
    checker = script("check_knowledge_faq")
    taken: set[str] = set()
    for raw in data.get("entries") or []:
        taken.add(norm(str(raw.get("question", ""))))
        taken.update(norm(str(e)) for e in raw.get("examples") or [])
    for service in services.get("services") or []:
        taken.update(norm(str(e)) for e in service.get("examples") or [])
    accepted: list[str] = []
    skipped: list[tuple[str, str]] = []
    for text in texts:
        text = " ".join(str(text).split())
        key = norm(text)
        forbidden = next((p for p in checker.FORBIDDEN_IN_EXAMPLES if p in text), None)
        if _MASKED.search(text):
            skipped.append((text, "含有已遮盖的个人号码"))
        elif len(key) < MIN_CHARS or len(text) > MAX_CHARS:
            skipped.append((text, f"长度不合适（{MIN_CHARS}-{MAX_CHARS}字）"))
        elif forbidden is not None:
            skipped.append((text, f"含有“{forbidden}”，属于办事指南或投诉工单的问法"))
        elif key in taken:
            skipped.append((text, "知识库中已有相同的问法"))
        else:
            taken.add(key)
            accepted.append(text)
    return Screened(accepted, skipped)


def scalar(text: str) -> str:
    """``text`` as a one-line YAML scalar: plain when that reads back the same, else quoted."""
    try:
        plain_ok = yaml.safe_load(f"- {text}") == [text] and not text.startswith(("'", '"'))
    except yaml.YAMLError:
        plain_ok = False
    return text if plain_ok and "#" not in text else json.dumps(text, ensure_ascii=False)


def _entry_span(lines: list[str], faq_key: str) -> tuple[int, int]:
    """[start, end) of the entry's lines, without trailing blank lines and comments."""
    start = next(
        (i for i, line in enumerate(lines) if (m := _ENTRY.match(line)) and m.group(1) == faq_key),
        None,
    )  # noqa: E501
    if start is None:
        raise FaqEditError(f"知识库中没有编号为 {faq_key} 的问答")
    end = start + 1
    while (
        end < len(lines)
        and not lines[end].startswith(("  - ", "  #"))
        and (lines[end].startswith("    ") or not lines[end].strip())
    ):
        end += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    return start, end


def attach_text(text: str, faq_key: str, phrasings: list[str]) -> str:
    """The file's text with ``phrasings`` added after the entry's last example."""
    lines = text.splitlines(keepends=True)
    start, end = _entry_span(lines, faq_key)
    header = next((i for i in range(start, end) if _EXAMPLES.match(lines[i])), None)
    if header is None:
        raise FaqEditError(f"问答 {faq_key} 的例句格式无法自动修改，请手工编辑")
    last = header
    for i in range(header + 1, end):
        if _ITEM.match(lines[i]):
            last = i
        elif lines[i].strip():
            raise FaqEditError(f"问答 {faq_key} 的例句格式无法自动修改，请手工编辑")
    if not lines[last].endswith("\n"):
        lines[last] += "\n"
    new = [f"      - {scalar(p)}\n" for p in phrasings]
    return "".join(lines[: last + 1] + new + lines[last + 1 :])


def entry_block(entry: dict[str, Any]) -> str:
    """A new entry in the file's own layout (a blank line before it)."""
    out = [
        "\n",
        f"  - id: {entry['id']}\n",
        f"    domain: {entry['domain']}\n",
        f"    question: {scalar(entry['question'])}\n",
        f"    answer: >-\n      {entry['answer']}\n",
        f"    source: {scalar(entry['source'])}\n",
    ]
    if entry.get("department"):
        out.append(f"    department: {scalar(entry['department'])}\n")
    out += [
        f"    updated: {entry['updated'].isoformat()}\n",
        f"    sample: {'true' if entry['sample'] else 'false'}\n",
        "    examples:\n",
        *(f"      - {scalar(e)}\n" for e in entry["examples"]),
    ]
    return "".join(out)


def add_text(text: str, data: dict[str, Any], entry: dict[str, Any]) -> str:
    """The file's text with ``entry`` after the last entry of its domain (or at the end)."""
    lines = text.splitlines(keepends=True)
    same = [
        str(raw["id"]) for raw in data.get("entries") or [] if raw.get("domain") == entry["domain"]
    ]
    if same:
        _, end = _entry_span(lines, same[-1])
    else:
        end = len(lines)
        while end > 0 and not lines[end - 1].strip():
            end -= 1
    if end and not lines[end - 1].endswith("\n"):
        lines[end - 1] += "\n"
    return "".join(lines[:end]) + entry_block(entry) + "".join(lines[end:])


def expected_attach(data: dict[str, Any], faq_key: str, phrasings: list[str]) -> dict[str, Any]:
    want = copy.deepcopy(data)
    for raw in want["entries"]:
        if raw.get("id") == faq_key:
            raw["examples"] = [*raw["examples"], *phrasings]
    return want


def expected_add(data: dict[str, Any], entry: dict[str, Any]) -> dict[str, Any]:
    want = copy.deepcopy(data)
    entries = want["entries"]
    same = [i for i, raw in enumerate(entries) if raw.get("domain") == entry["domain"]]
    raw = {k: v for k, v in entry.items() if k != "department" or v}
    entries.insert(same[-1] + 1 if same else len(entries), raw)
    return want


def write_checked(path: Path, old_text: str, new_text: str, want: dict[str, Any]) -> str:
    """Verify ``new_text`` and replace the file with it; the unified diff.

    Raises :class:`FaqEditError` (file untouched) when the text does not parse
    to ``want`` or fails scripts/check_knowledge_faq.py.
    """
    if load_yaml(new_text) != want:
        raise FaqEditError("自动修改的结果与预期不一致，已放弃修改，请手工编辑")
    try:
        fd, tmp = tempfile.mkstemp(prefix=".faq-edit-", suffix=".yml", dir=path.parent)
    except OSError as exc:
        raise KnowledgeNotWritable(path.parent, exc) from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(new_text)
            handle.flush()
            os.fsync(handle.fileno())  # a full disk (or a network share) tells here
        errors, _ = script("check_knowledge_faq").check(Path(tmp))
        if errors:
            raise FaqEditError("知识库检查未通过，未作修改", [str(e) for e in errors])
        os.chmod(tmp, path.stat().st_mode & 0o777)
        os.replace(tmp, path)
    except BaseException as exc:
        _discard(Path(tmp))
        if isinstance(exc, OSError):
            raise KnowledgeNotWritable(path.parent, exc) from exc
        raise
    name = f"data/{path.parent.name}/{path.name}"
    return "".join(
        difflib.unified_diff(
            old_text.splitlines(keepends=True),
            new_text.splitlines(keepends=True),
            fromfile=f"a/{name}",
            tofile=f"b/{name}",
            n=2,
        )
    )


def _discard(tmp: Path) -> None:
    try:
        tmp.unlink(missing_ok=True)
    except OSError as exc:  # the directory turned read-only in between
        log.error("knowledge editor: could not remove the temporary file %s: %s", tmp, exc)


def as_date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise FaqEditError("日期格式应为 2026-12-01") from None
