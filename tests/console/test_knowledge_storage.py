"""The knowledge editor when its directory cannot be written (issue 19: the
deployment's containers run with a read-only root file system): a read-only
file system, no permission, a full disk. Never a 500: a 503 whose Chinese
message names the problem, the file byte for byte as it was, no temporary
file left, the questions still open, nothing recorded, the attempt logged;
the page and the start-up log say so before anyone tries.

The tests run as root, for whom permission bits do not make a directory
read-only: the errors are raised where the editor meets them (os.replace,
fsync, creating the temporary file, opening the lock file). Where the test may
mount, a real read-only tmpfs and a real full tmpfs are tried as well.
"""

from __future__ import annotations

import errno
import io
import logging
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot.console.knowledge import EDITOR_KEY
from bot.db import Database
from bot.knowledge_editor import editor, faq_file
from bot.knowledge_editor.training import fingerprint
from tests.console.conftest import MakeReplica, SignIn
from tests.console.test_knowledge import FUND, ID_CARD, copy_project, group_with, keep_questions

READ_ONLY = (errno.EROFS, "知识库目录只读")
CASES = {
    "read-only file system": READ_ONLY,
    "permission denied": (errno.EACCES, "没有写入知识库目录的权限"),
    "operation not permitted": (errno.EPERM, "没有写入知识库目录的权限"),
    "disk full": (errno.ENOSPC, "知识库所在的磁盘已满"),
}
DRAFT = {
    "id": "hr_id_card_lost", "domain": "household_registration", "question": "身份证丢了怎么办?",
    "answer": "身份证丢失后请尽快到户籍所在地或居住地派出所申请补领，也可通过粤省事预约。",
    "source": "东莞市公安局公开办事指南", "updated": "2026-12-01",
}  # fmt: skip
EXTRA = ["身份证不见了怎么弄", "身份证遗失了咋整", "身份证丢了会不会被别人冒用",
         "丢了身份证要报警吗", "身份证找不到了", "钱包连身份证一起丢了",
         "身份证弄丢了有什么影响"]  # fmt: skip


def fail(code: int) -> Callable[..., Any]:
    def raise_it(*args: Any, **kwargs: Any) -> Any:
        raise OSError(code, os.strerror(code))

    return raise_it


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.name != ".editor.lock"}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_project(tmp_path / "project")


@pytest.fixture
async def kclient(make_replica: MakeReplica, project: Path) -> TestClient:
    return await make_replica(
        knowledge_dir=project / "data" / "knowledge", models_dir=project / "models"
    )


async def attach_fund(kclient: TestClient, sign_in: SignIn) -> Any:
    supervisor = await sign_in(kclient, "banzhang", role="supervisor")
    fund = group_with((await supervisor.json("/console/api/knowledge"))["groups"], "公积金")
    return await supervisor.post(
        "/console/api/knowledge/attach",
        {"ids": fund["ids"], "faq_key": "hpf_withdrawal_conditions", "sentences": FUND[:2]},
    )


async def assert_nothing_changed(
    console_db: Database, folder: Path, before: dict[str, bytes], open_before: int
) -> None:
    assert snapshot(folder) == before  # faq.yml as it was; no .faq-edit-* left behind
    assert len(await console_db.unanswered.list_open()) == open_before  # still to do
    assert await console_db.unanswered.changes() == []
    assert not [r for r in await console_db.audit.list() if r["action"].startswith("knowledge.")]


@pytest.mark.parametrize("case", list(CASES))
async def test_replacing_the_file_fails_cleanly(
    case: str,
    kclient: TestClient,
    console_db: Database,
    sign_in: SignIn,
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    code, words = CASES[case]
    await keep_questions(console_db)
    folder = project / "data" / "knowledge"
    before, open_before = snapshot(folder), len(await console_db.unanswered.list_open())
    monkeypatch.setattr(faq_file.os, "replace", fail(code))
    with caplog.at_level(logging.ERROR, "bot.knowledge_editor"):
        resp = await attach_fund(kclient, sign_in)
    assert resp.status == 503, await resp.text()
    body = await resp.json()
    assert body["error"] == "not_writable"
    assert body["message"].startswith(words) and "无法保存修改" in body["message"]
    assert str(folder) in body["message"] and "未作改动" in body["message"]
    await assert_nothing_changed(console_db, folder, before, open_before)
    [logged] = [r for r in caplog.records if "not saved" in r.getMessage()]
    assert "knowledge.attach of hpf_withdrawal_conditions by banzhang" in logged.getMessage()
    assert os.strerror(code) in logged.getMessage()


async def test_a_full_disk_found_when_the_copy_is_written(
    kclient: TestClient,
    console_db: Database,
    sign_in: SignIn,
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """ENOSPC as a network share reports it: at fsync, after the write was taken."""
    await keep_questions(console_db)
    folder = project / "data" / "knowledge"
    before, open_before = snapshot(folder), len(await console_db.unanswered.list_open())
    monkeypatch.setattr(faq_file.os, "fsync", fail(errno.ENOSPC))
    resp = await attach_fund(kclient, sign_in)
    assert resp.status == 503
    assert (await resp.json())["message"].startswith("知识库所在的磁盘已满")
    await assert_nothing_changed(console_db, folder, before, open_before)


async def test_a_share_without_locks_fails_cleanly(
    kclient: TestClient,
    console_db: Database,
    sign_in: SignIn,
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await keep_questions(console_db)
    folder = project / "data" / "knowledge"
    before, open_before = snapshot(folder), len(await console_db.unanswered.list_open())
    monkeypatch.setattr(editor.fcntl, "flock", fail(errno.ENOLCK))
    resp = await attach_fund(kclient, sign_in)
    assert resp.status == 503
    message = (await resp.json())["message"]
    assert message.startswith(f"知识库目录无法写入（{os.strerror(errno.ENOLCK)}）")
    await assert_nothing_changed(console_db, folder, before, open_before)


def make_read_only(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """Every file opened for writing in ``folder`` fails with EROFS (os.open:
    the temporary files; io.open: the lock file), as on a read-only mount."""
    real_os_open, real_io_open = os.open, io.open

    def inside(path: Any) -> bool:
        return Path(os.fsdecode(path)).parent == folder

    def os_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if inside(path) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), os.fsdecode(path))
        return real_os_open(path, flags, *args, **kwargs)

    def io_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if isinstance(file, (str, os.PathLike)) and inside(file) and set(mode) & set("wax+"):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), os.fsdecode(file))
        return real_io_open(file, mode, *args, **kwargs)

    monkeypatch.setattr(os, "open", os_open)
    monkeypatch.setattr(io, "open", io_open)


@pytest.fixture
def read_only_folder(monkeypatch: pytest.MonkeyPatch, project: Path) -> Path:
    folder = project / "data" / "knowledge"
    make_read_only(monkeypatch, folder)
    return folder


async def test_a_read_only_directory_refuses_a_draft_and_the_page_says_so(
    kclient: TestClient,
    console_db: Database,
    sign_in: SignIn,
    read_only_folder: Path,
) -> None:
    await keep_questions(console_db)
    before, open_before = snapshot(read_only_folder), len(await console_db.unanswered.list_open())
    supervisor = await sign_in(kclient, "banzhang", role="supervisor")
    overview = await supervisor.json("/console/api/knowledge")
    storage = overview["storage"]
    assert storage["writable"] is False
    assert storage["problem"].startswith("知识库目录只读") and "无法保存" in storage["problem"]
    assert overview["faq"]["entries"]  # reading still works: the page is usable
    group = group_with(overview["groups"], "身份证")
    resp = await supervisor.post(
        "/console/api/knowledge/draft", {"ids": group["ids"], "entry": DRAFT, "extra": EXTRA}
    )
    assert resp.status == 503
    assert (await resp.json())["message"].startswith("知识库目录只读，无法保存修改")
    await assert_nothing_changed(console_db, read_only_folder, before, open_before)
    assert len(group["ids"]) == len(ID_CARD)


async def test_a_writable_directory_is_said_to_be(kclient: TestClient, sign_in: SignIn) -> None:
    supervisor = await sign_in(kclient, "banzhang", role="supervisor")
    storage = (await supervisor.json("/console/api/knowledge"))["storage"]
    assert storage == {"writable": True, "problem": None}
    assert not [p for p in kclient.app[EDITOR_KEY].knowledge_dir.iterdir() if "check" in p.name]


async def test_the_start_up_warns_when_the_directory_cannot_be_written(
    make_replica: MakeReplica, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    missing = tmp_path / "not-mounted"
    with caplog.at_level(logging.WARNING, "bot.knowledge_editor"):
        client = await make_replica(knowledge_dir=missing, models_dir=tmp_path)
    [warning] = [r for r in caplog.records if r.getMessage().startswith("KNOWLEDGE_DIR")]
    assert warning.levelno == logging.WARNING and str(missing) in warning.getMessage()
    assert "cannot save" in warning.getMessage()
    assert client.app[EDITOR_KEY].storage_problem() is not None


def test_the_start_up_check_names_a_read_only_directory(
    read_only_folder: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from bot.knowledge_editor.editor import KnowledgeEditor

    editor = KnowledgeEditor(None, read_only_folder, read_only_folder)  # type: ignore[arg-type]
    with caplog.at_level(logging.WARNING, "bot.knowledge_editor"):
        problem = editor.log_storage_problem()
    assert problem is not None and problem.startswith("知识库目录只读")
    assert any("cannot save" in r.getMessage() for r in caplog.records)


# --- real mounts, where the test may mount ------------------------------------------


@pytest.fixture
def tmpfs(tmp_path: Path, project: Path) -> Iterator[Callable[..., Path]]:
    """``mount(size, read_only=False)``: a tmpfs holding a copy of the knowledge
    files. Needs root and CAP_SYS_ADMIN (a container without it: skipped)."""
    mounted: list[Path] = []

    def mount(size: str, read_only: bool = False) -> Path:
        where = tmp_path / f"mnt{len(mounted)}"
        where.mkdir()
        if os.geteuid() != 0 or not shutil.which("mount"):
            pytest.skip("mounting a tmpfs needs root and mount(8)")
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            pytest.skip(f"this test may not mount a tmpfs: {done.stderr.strip()}")
        mounted.append(where)
        fill(where, project)
        if read_only:
            subprocess.run(["mount", "-o", "remount,ro", str(where)], check=True)
        return where

    yield mount
    for where in reversed(mounted):
        subprocess.run(["umount", "-l", str(where)], check=False)


def fill(folder: Path, project: Path) -> Path:
    for name in ("faq.yml", "services.yml"):
        shutil.copy(project / "data" / "knowledge" / name, folder / name)
    return folder


async def test_a_real_read_only_mount(
    tmpfs: Callable[..., Path],
    project: Path,
    make_replica: MakeReplica,
    console_db: Database,
    sign_in: SignIn,
) -> None:
    volume = tmpfs("4m", read_only=True)
    with pytest.raises(OSError) as refused:
        tempfile.mkstemp(dir=volume)
    assert refused.value.errno == errno.EROFS  # even for root
    client = await make_replica(knowledge_dir=volume, models_dir=project / "models")
    await keep_questions(console_db)
    before, open_before = snapshot(volume), len(await console_db.unanswered.list_open())
    resp = await attach_fund(client, sign_in)
    assert resp.status == 503
    assert (await resp.json())["message"].startswith("知识库目录只读，无法保存修改")
    await assert_nothing_changed(console_db, volume, before, open_before)


async def test_a_real_full_disk(
    tmpfs: Callable[..., Path],
    project: Path,
    make_replica: MakeReplica,
    console_db: Database,
    sign_in: SignIn,
) -> None:
    """A tmpfs just big enough for the shipped files: the edited copy does not fit."""
    sizes = sum(
        (project / "data" / "knowledge" / n).stat().st_size for n in ("faq.yml", "services.yml")
    )
    volume = tmpfs(str(sizes + 4096))
    client = await make_replica(knowledge_dir=volume, models_dir=project / "models")
    await keep_questions(console_db)
    before, open_before = snapshot(volume), len(await console_db.unanswered.list_open())
    resp = await attach_fund(client, sign_in)
    assert resp.status == 503, await resp.text()
    assert (await resp.json())["message"].startswith("知识库所在的磁盘已满")
    await assert_nothing_changed(console_db, volume, before, open_before)


async def test_a_knowledge_volume_outside_a_checkout_takes_edits(
    tmp_path: Path,
    project: Path,
    make_replica: MakeReplica,
    console_db: Database,
    sign_in: SignIn,
) -> None:
    """KNOWLEDGE_DIR=/knowledge as in deploy/: saved there, no training data
    written beside it, the change recorded with the volume's fingerprints."""
    (tmp_path / "knowledge").mkdir()
    volume = fill(tmp_path / "knowledge", project)
    client = await make_replica(knowledge_dir=volume, models_dir=project / "models")
    await keep_questions(console_db)
    resp = await attach_fund(client, sign_in)
    assert resp.status == 200, await resp.text()
    assert "公积金断缴了还能贷款吗" in (volume / "faq.yml").read_text(encoding="utf-8")
    assert sorted(p.name for p in volume.iterdir()) == [".editor.lock", "faq.yml", "services.yml"]
    [change] = await console_db.unanswered.changes()
    assert change.fingerprint_before != change.fingerprint_after
    assert fingerprint(volume) == change.fingerprint_after
    (volume / ".faq-edit-x.yml").write_text("half", encoding="utf-8")  # a save in progress
    assert fingerprint(volume) == change.fingerprint_after
