"""``python -m bot.knowledge_editor.seed`` (deploy/: the shared knowledge
volume's first content): the shipped files into an empty volume, never over
an edited one, ``--replace`` on purpose, nothing half-written."""

from __future__ import annotations

import errno
import logging
import os
import shutil
from pathlib import Path

import pytest

from bot.knowledge_editor import seed
from bot.knowledge_editor.seed import SHIPPED, main

NAMES = sorted(p.name for p in SHIPPED.glob("*.yml"))


def test_an_empty_volume_gets_the_shipped_files(tmp_path: Path) -> None:
    assert NAMES == ["faq.yml", "services.yml"]
    assert main(["--to", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == NAMES  # no temporary file left
    for name in NAMES:
        assert (tmp_path / name).read_bytes() == (SHIPPED / name).read_bytes()
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o644


def test_an_edited_file_is_kept_and_reported(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    edited = (SHIPPED / "faq.yml").read_text(encoding="utf-8") + "# edited on the console\n"
    (tmp_path / "faq.yml").write_text(edited, encoding="utf-8")
    with caplog.at_level(logging.INFO, "bot.knowledge_editor.seed"):
        assert main(["--to", str(tmp_path)]) == 0
    assert (tmp_path / "faq.yml").read_text(encoding="utf-8") == edited
    assert (tmp_path / "services.yml").read_bytes() == (SHIPPED / "services.yml").read_bytes()
    messages = [r.getMessage() for r in caplog.records]
    assert any("faq.yml kept: it differs" in m for m in messages)
    assert any("services.yml copied" in m for m in messages)
    assert seed.seed(tmp_path) == {"faq.yml": "kept, differs", "services.yml": "kept"}


def test_replace_puts_the_shipped_files_in_place(tmp_path: Path) -> None:
    (tmp_path / "faq.yml").write_text("version: 1\n", encoding="utf-8")
    assert main(["--to", str(tmp_path), "--replace"]) == 0
    assert (tmp_path / "faq.yml").read_bytes() == (SHIPPED / "faq.yml").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == NAMES


def test_a_file_appearing_meanwhile_is_not_overwritten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two pods seeding at once: the link refuses an existing name, so an edit
    saved between the check and the copy stays."""
    real_link = os.link

    def edit_first(src: str, dst: str) -> None:
        Path(dst).write_text("edited meanwhile\n", encoding="utf-8")
        real_link(src, dst)

    monkeypatch.setattr(seed.os, "link", edit_first)
    assert seed.seed(tmp_path) == {"faq.yml": "kept", "services.yml": "kept"}
    assert (tmp_path / "faq.yml").read_text(encoding="utf-8") == "edited meanwhile\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == NAMES


def test_a_volume_without_hard_links_is_seeded_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_links(src: str, dst: str) -> None:
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(seed.os, "link", no_links)
    assert seed.seed(tmp_path) == {"faq.yml": "copied", "services.yml": "copied"}
    assert sorted(p.name for p in tmp_path.iterdir()) == NAMES


def test_a_volume_that_cannot_be_written_fails_the_seed_cleanly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(seed.os, "fsync", full)
    with caplog.at_level(logging.ERROR, "bot.knowledge_editor.seed"):
        assert main(["--to", str(tmp_path)]) == 1
    assert list(tmp_path.iterdir()) == []  # nothing half-written
    assert any("cannot seed" in r.getMessage() for r in caplog.records)


def test_the_target_defaults_to_knowledge_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KNOWLEDGE_DIR", str(tmp_path / "knowledge"))
    assert main([]) == 0
    assert sorted(p.name for p in (tmp_path / "knowledge").iterdir()) == NAMES
    monkeypatch.setenv("KNOWLEDGE_DIR", str(SHIPPED))  # a checkout: nothing to do
    assert main([]) == 0


def test_the_source_may_be_named(tmp_path: Path) -> None:
    source = tmp_path / "release"
    source.mkdir()
    shutil.copy(SHIPPED / "services.yml", source / "services.yml")
    assert main(["--to", str(tmp_path / "vol"), "--from", str(source)]) == 0
    assert [p.name for p in (tmp_path / "vol").iterdir()] == ["services.yml"]
    assert main(["--to", str(tmp_path / "vol2"), "--from", str(tmp_path / "empty")]) == 1
