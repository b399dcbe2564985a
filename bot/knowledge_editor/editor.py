"""The knowledge editor: grouped unanswered questions, and the three things
an editor does with a group (attach it to an FAQ, draft a new FAQ from it,
dismiss it), each audited with who and when.

File changes run in a worker thread under a file lock
(``<knowledge dir>/.editor.lock``), so two editors, or two processes on the
same checkout, never interleave their edits of faq.yml. After a change in a
checkout the generated training data (data/nlu/generated_*.yml,
scripts/build_training_data.py) is rewritten too, so ``make validate`` stays
green and the fingerprint the page records is the one ``make train`` will
see; a deployment's knowledge volume has no training data beside it (the
model is built from a checkout, docs/deploy.md).

A directory that cannot be written refuses the change with
:class:`~bot.knowledge_editor.faq_file.KnowledgeNotWritable` (nothing
changed, the questions stay open, the attempt logged);
:meth:`KnowledgeEditor.storage_problem` tells the page and the start-up log.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import fcntl
import logging
import os
import re
import tempfile
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.db.unanswered import Unanswered
from bot.knowledge import load_yaml
from bot.knowledge_editor import faq_file, grouping
from bot.knowledge_editor.faq_file import FaqEditError, KnowledgeNotWritable, storage_reason
from bot.knowledge_editor.scripts import script
from bot.knowledge_editor.training import (
    fingerprint,
    in_checkout,
    project_root,
    training_state,
)

if TYPE_CHECKING:
    from bot.db.database import Database

log = logging.getLogger(__name__)

MAX_OPEN = 2000  # the newest open questions grouped on the page
MAX_IDS = 500
EXAMPLES_SHOWN = 5
TEXTS_SHOWN = 30
_ID = re.compile(r"^[a-z][a-z0-9_]{1,60}$")
DISMISS_REASONS = {"spam": "垃圾信息", "chitchat": "闲聊", "other": "其他"}


@dataclass(frozen=True)
class Actor:
    username: str
    client_address: str | None = None


class KnowledgeEditor:
    def __init__(self, db: Database, knowledge_dir: Path, models_dir: Path) -> None:
        self.db = db
        self.knowledge_dir = knowledge_dir
        self.models_dir = models_dir
        self._lock = asyncio.Lock()

    @property
    def faq_path(self) -> Path:
        return self.knowledge_dir / "faq.yml"

    # --- reading --------------------------------------------------------------
    async def groups(self) -> list[dict[str, Any]]:
        items = await self.db.unanswered.list_open(MAX_OPEN)
        return await asyncio.to_thread(group_items, items)

    async def faq_choices(self) -> dict[str, Any]:
        if not self.faq_path.exists():  # told by storage_problem()
            return {"domains": {}, "entries": []}
        data = await asyncio.to_thread(self._read_yaml, self.faq_path)
        entries = [
            {"id": str(e["id"]), "question": str(e["question"]), "domain": str(e["domain"])}
            for e in data.get("entries") or []
        ]
        return {"domains": data.get("domains") or {}, "entries": entries}

    async def training(self) -> dict[str, Any]:
        changes = await self.db.unanswered.changes()
        state = await asyncio.to_thread(
            training_state, changes, self.knowledge_dir, self.models_dir
        )
        trained = state.trained
        return {
            "current_fingerprint": state.current,
            "trained": None
            if trained is None
            else {
                "fingerprint": trained.fingerprint,
                "at": trained.at.isoformat(),
                "model": trained.model,
            },
            "up_to_date": state.up_to_date,
            "other_changes": state.other_changes,
            "awaiting": [c.to_dict() for c in state.awaiting],
            "changes": [c.to_dict() for c in changes[:50]],
        }

    def storage_problem(self) -> str | None:
        """Why the editor cannot save into the knowledge directory, or None.

        Tried, not guessed from permission bits: a small file is created and
        removed (root ignores the bits; a read-only mount refuses even root).
        """
        try:
            fd, tmp = tempfile.mkstemp(prefix=".write-check-", dir=self.knowledge_dir)
            os.close(fd)
            os.unlink(tmp)
        except OSError as exc:
            where = self.knowledge_dir
            return f"{storage_reason(exc)}（{where}），本页面的修改无法保存，请联系运维人员。"
        if not self.faq_path.is_file():
            return f"找不到知识库文件 {self.faq_path}，请联系运维人员。"
        return None

    def log_storage_problem(self) -> str | None:
        """At start-up: a warning when the editor will not be able to save."""
        problem = self.storage_problem()
        if problem is not None:
            log.warning(
                "KNOWLEDGE_DIR %s: the knowledge editor (/console/knowledge) cannot save "
                "changes here; mount a writable volume shared by the front doors and the "
                "action servers (docs/deploy.md). %s", self.knowledge_dir, problem,
            )  # fmt: skip
        return problem

    # --- changing -------------------------------------------------------------
    async def attach(
        self, ids: Sequence[int], faq_key: str, sentences: Sequence[str] | None, actor: Actor
    ) -> dict[str, Any]:
        """Make the group's questions (or the chosen ones) phrasings of ``faq_key``."""
        items = await self._open_items(ids)
        texts = _chosen(items, sentences)
        async with self._lock:
            with _logged("attach", faq_key, actor):
                result = await asyncio.to_thread(self._attach_file, faq_key, texts)
            await self._settle(items, "attached", faq_key, "attach", result, actor)
        return result

    async def draft(
        self,
        ids: Sequence[int],
        fields: dict[str, Any],
        sentences: Sequence[str] | None,
        extra: Sequence[str],
        actor: Actor,
    ) -> dict[str, Any]:
        """Add a new FAQ entry whose phrasings are the chosen questions and ``extra``."""
        items = await self._open_items(ids)
        texts = [*_chosen(items, sentences), *extra]
        entry = _entry_fields(fields)
        async with self._lock:
            with _logged("draft", entry["id"], actor):
                result = await asyncio.to_thread(self._draft_file, entry, texts)
            await self._settle(items, "drafted", entry["id"], "draft", result, actor)
        return result

    async def dismiss(self, ids: Sequence[int], reason: str, actor: Actor) -> int:
        if reason not in DISMISS_REASONS:
            raise FaqEditError("请选择忽略的原因")
        items = await self._open_items(ids)
        done = await self.db.unanswered.settle(
            [i.id for i in items], "dismissed", by=actor.username, to=reason
        )
        await self.db.audit.record(
            actor.username, "knowledge.dismiss", reason,
            client_address=actor.client_address,
            detail={"questions": done, "reason": reason},
        )  # fmt: skip
        return done

    async def _open_items(self, ids: Sequence[int]) -> list[Unanswered]:
        if not ids or len(ids) > MAX_IDS:
            raise FaqEditError("请选择一组问题")
        items = await self.db.unanswered.get_open(ids)
        if not items:
            raise FaqEditError("这组问题已被处理，请刷新页面")
        return items

    async def _settle(
        self,
        items: list[Unanswered],
        status: str,
        faq_key: str,
        kind: str,
        result: dict[str, Any],
        actor: Actor,
    ) -> None:
        await self.db.unanswered.settle(
            [i.id for i in items], status, by=actor.username, to=faq_key
        )
        detail = {"phrasings": result["added"], "skipped": len(result["skipped"])}
        result["change_id"] = await self.db.unanswered.record_change(
            actor=actor.username, kind=kind, faq_key=faq_key, file=result["file"],
            detail={**detail, "diff": result["diff"]},
            fingerprint_before=result.pop("fingerprint_before"),
            fingerprint_after=result.pop("fingerprint_after"),
        )  # fmt: skip
        await self.db.audit.record(
            actor.username, f"knowledge.{kind}", faq_key,
            client_address=actor.client_address,
            detail={**detail, "questions": len(items), "file": result["file"]},
        )  # fmt: skip

    # --- the files (worker thread, file lock) -------------------------------------
    @contextlib.contextmanager
    def _file_lock(self) -> Iterator[None]:
        try:
            handle = (self.knowledge_dir / ".editor.lock").open("a")
        except OSError as exc:  # a read-only volume refuses even the lock file
            raise KnowledgeNotWritable(self.knowledge_dir, exc) from exc
        with handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX)
            except OSError as exc:  # ENOLCK: a network share without locks
                raise KnowledgeNotWritable(self.knowledge_dir, exc) from exc
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    @staticmethod
    def _read_yaml(path: Path) -> dict[str, Any]:
        data = load_yaml(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise FaqEditError(f"{path.name} 格式有误，请先修复")
        return data

    def _attach_file(self, faq_key: str, texts: list[str]) -> dict[str, Any]:
        with self._file_lock():
            old, data, services, before = self._load()
            if not any(str(e.get("id")) == faq_key for e in data.get("entries") or []):
                raise FaqEditError(f"知识库中没有编号为 {faq_key} 的问答")
            screened = faq_file.screen_phrasings(data, services, texts)
            if not screened.accepted:
                raise FaqEditError("没有可以加入的新问法", _why(screened.skipped))
            new = faq_file.attach_text(old, faq_key, screened.accepted)
            want = faq_file.expected_attach(data, faq_key, screened.accepted)
            return self._write(old, new, want, before, screened.accepted, screened.skipped)

    def _draft_file(self, entry: dict[str, Any], texts: list[str]) -> dict[str, Any]:
        with self._file_lock():
            old, data, services, before = self._load()
            if entry["domain"] not in (data.get("domains") or {}):
                raise FaqEditError("请选择知识库中已有的分类")
            if any(str(e.get("id")) == entry["id"] for e in data.get("entries") or []):
                raise FaqEditError(f"编号 {entry['id']} 已被使用")
            screened = faq_file.screen_phrasings(data, services, [entry["question"], *texts])
            examples = [t for t in screened.accepted if t != entry["question"]]
            minimum = int(script("check_knowledge_faq").MIN_EXAMPLES)
            if len(examples) < minimum:
                raise FaqEditError(
                    f"新问答至少需要 {minimum} 条问法，目前可用 {len(examples)} 条，请补充",
                    _why(screened.skipped),
                )
            entry = {**entry, "examples": examples}
            new = faq_file.add_text(old, data, entry)
            want = faq_file.expected_add(data, entry)
            return self._write(old, new, want, before, examples, screened.skipped)

    def _load(self) -> tuple[str, dict[str, Any], dict[str, Any], str]:
        try:
            old = self.faq_path.read_text(encoding="utf-8")
        except OSError as exc:  # an empty volume (not seeded), a vanished mount
            raise KnowledgeNotWritable(self.knowledge_dir, exc) from exc
        data = self._read_yaml(self.faq_path)
        services_path = self.knowledge_dir / "services.yml"
        services = self._read_yaml(services_path) if services_path.exists() else {}
        return old, data, services, fingerprint(self.knowledge_dir)

    def _write(
        self,
        old: str,
        new: str,
        want: dict[str, Any],
        before: str,
        added: list[str],
        skipped: list[tuple[str, str]],
    ) -> dict[str, Any]:
        diff = faq_file.write_checked(self.faq_path, old, new, want)
        if in_checkout(self.knowledge_dir):
            root = project_root(self.knowledge_dir)
            try:
                script("build_training_data").write(self.knowledge_dir, root / "data" / "nlu")
            except OSError as exc:  # faq.yml is saved; `make knowledge` redoes this
                log.warning("knowledge editor: data/nlu not regenerated: %s", exc)
        return {
            "file": f"data/knowledge/{self.faq_path.name}",
            "added": added,
            "skipped": [{"text": t, "why": why} for t, why in skipped],
            "diff": diff,
            "fingerprint_before": before,
            "fingerprint_after": fingerprint(self.knowledge_dir),
        }


@contextlib.contextmanager
def _logged(kind: str, faq_key: str, actor: Actor) -> Iterator[None]:
    """Log a change that could not be saved (the editor's message says why)."""
    try:
        yield
    except KnowledgeNotWritable as exc:
        log.error(
            "knowledge.%s of %s by %s (%s) not saved, nothing changed: %s: %s",
            kind, faq_key, actor.username, actor.client_address, exc.directory, exc.error,
        )  # fmt: skip
        raise


def _why(skipped: list[tuple[str, str]]) -> list[str]:
    return [f"{text}：{why}" for text, why in skipped]


def _chosen(items: list[Unanswered], sentences: Sequence[str] | None) -> list[str]:
    """The group's distinct texts, or those of them the editor chose."""
    texts = list(dict.fromkeys(i.text for i in items))
    if sentences is None:
        return texts
    allowed = set(texts)
    chosen = [s for s in dict.fromkeys(sentences) if s in allowed]
    if not chosen:
        raise FaqEditError("请至少选择这组中的一个问题")
    return chosen


def _text(fields: dict[str, Any], name: str, label: str, limit: int) -> str:
    value = " ".join(str(fields.get(name) or "").split())
    if not value:
        raise FaqEditError(f"请填写{label}")
    if len(value) > limit:
        raise FaqEditError(f"{label}不能超过 {limit} 字")
    return value


def _entry_fields(fields: dict[str, Any]) -> dict[str, Any]:
    entry_id = str(fields.get("id") or "").strip()
    if not _ID.match(entry_id):
        raise FaqEditError("编号只能用小写英文字母、数字和下划线，以字母开头")
    updated = faq_file.as_date(str(fields.get("updated") or ""))
    if updated > dt.date.today():
        raise FaqEditError("核对日期不能晚于今天")
    return {
        "id": entry_id,
        "domain": str(fields.get("domain") or "").strip(),
        "question": _text(fields, "question", "标准问题", 80),
        "answer": _text(fields, "answer", "答案", 220),
        "source": _text(fields, "source", "来源", 120),
        "department": " ".join(str(fields.get("department") or "").split())[:60],
        "updated": updated,
        "sample": False,
    }


def group_items(items: list[Unanswered]) -> list[dict[str, Any]]:
    """Similar questions together, with counts, examples and what the assistant did."""
    texts = [i.text for i in items]
    grouped = grouping.with_centres(texts, grouping.cluster(texts))
    out = []
    for group in grouped:
        members = [items[i] for i in group.indices]
        members.sort(key=lambda i: i.at, reverse=True)
        distinct = list(dict.fromkeys(m.text for m in members))
        faq_keys = Counter(m.faq_key for m in members if m.faq_key)
        out.append(
            {
                "ids": [m.id for m in members],
                "count": len(members),
                "label": items[group.centre].text,
                "examples": distinct[:EXAMPLES_SHOWN],
                "texts": distinct[:TEXTS_SHOWN],
                "reasons": dict(Counter(m.reason for m in members)),
                "actions": dict(Counter(m.action or "" for m in members)),
                "faq_keys": dict(faq_keys),
                "suggested_faq": faq_keys.most_common(1)[0][0] if faq_keys else None,
                "channels": dict(Counter(m.channel for m in members)),
                "first_seen": min(m.at for m in members).astimezone(dt.UTC).isoformat(),
                "last_seen": max(m.at for m in members).astimezone(dt.UTC).isoformat(),
            }
        )
    return out
