"""scripts/train.py keeps versions: each model is named by date and training
fingerprint, with a checksum; the newest ``--keep`` (3) stay for a rollback;
a reused version becomes the newest again (what Rasa and the tests load).
The training itself is Rasa's (tests/rasa trains and caches the real model);
these tests drive the file handling on small stand-in files."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import subprocess
import time
from pathlib import Path
from types import ModuleType

import pytest

from bot.knowledge_editor.scripts import script
from bot.knowledge_editor.training import trained_model


@pytest.fixture(scope="module")
def train() -> ModuleType:
    return script("train")


def model(out: Path, train: ModuleType, fingerprint: str, age: int, day: str = "20261201") -> Path:
    """A stand-in for a model trained ``age`` minutes ago, stamped like train.py does."""
    version = train.model_version(fingerprint, dt.datetime.strptime(day, "%Y%m%d").date())
    path = out / f"{version}.tar.gz"
    path.write_bytes(f"model {fingerprint}".encode())
    train.write_checksum(path)
    (out / f".trained-{fingerprint}").write_text(path.name, encoding="utf-8")
    when = time.time() - age * 60
    for item in (path, path.with_name(path.name + ".sha256"), out / f".trained-{fingerprint}"):
        os.utime(item, (when, when))
    return path


def test_a_version_names_the_day_and_the_data(train: ModuleType) -> None:
    version = train.model_version("0123456789abcdef", dt.date(2026, 12, 5))
    assert version == "hotline-20261205-0123456789abcdef"


def test_the_checksum_is_sha256sum_format(train: ModuleType, tmp_path: Path) -> None:
    path = model(tmp_path, train, "aaaa", age=1)
    checksum = path.with_name(path.name + ".sha256")
    expected = hashlib.sha256(path.read_bytes()).hexdigest()
    assert checksum.read_text() == f"{expected}  {path.name}\n"
    subprocess.run(["sha256sum", "--check", "--quiet", checksum.name], cwd=tmp_path, check=True)


def test_the_newest_three_are_kept_with_their_stamps(train: ModuleType, tmp_path: Path) -> None:
    models = [model(tmp_path, train, fp, age) for fp, age in
              (("f1", 50), ("f2", 40), ("f3", 30), ("f4", 20), ("f5", 10))]  # fmt: skip
    deleted = train.prune(tmp_path, train.DEFAULT_KEEP)
    assert sorted(p.name for p in tmp_path.glob("*.tar.gz")) == sorted(p.name for p in models[2:])
    assert {p.name for p in deleted} == {
        models[0].name, models[0].name + ".sha256", ".trained-f1",
        models[1].name, models[1].name + ".sha256", ".trained-f2",
    }  # fmt: skip
    assert sorted(p.name for p in tmp_path.glob(".trained-*")) == [
        ".trained-f3", ".trained-f4", ".trained-f5",
    ]  # fmt: skip


def test_keep_one_is_the_old_behaviour_and_zero_is_refused(
    train: ModuleType, tmp_path: Path
) -> None:
    model(tmp_path, train, "old", age=20)
    new = model(tmp_path, train, "new", age=10)
    train.prune(tmp_path, 1)
    assert list(tmp_path.glob("*.tar.gz")) == [new]
    with pytest.raises(ValueError, match="at least 1"):
        train.prune(tmp_path, 0)


def test_a_kept_version_is_reused_and_becomes_the_newest(train: ModuleType, tmp_path: Path) -> None:
    old = model(tmp_path, train, "back", age=30)
    model(tmp_path, train, "later", age=10)
    assert train.reusable_model(tmp_path, "back") == old
    assert train.reusable_model(tmp_path, "unknown") is None
    train.mark_newest(old, tmp_path / ".trained-back")
    newest = max(tmp_path.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    assert newest == old  # what `rasa run --model models` and tests/rasa load
    trained = trained_model(tmp_path)  # the knowledge editor's view
    assert trained is not None and trained.fingerprint == "back"


def test_a_stamp_whose_model_is_gone_is_not_reused(train: ModuleType, tmp_path: Path) -> None:
    gone = model(tmp_path, train, "gone", age=10)
    gone.unlink()
    assert train.reusable_model(tmp_path, "gone") is None
    train.prune(tmp_path, 3)
    assert not (tmp_path / ".trained-gone").exists()


def test_the_fingerprint_follows_the_code_the_components_share(
    train: ModuleType, tmp_path: Path
) -> None:
    """A change to a helper every component's text goes through (the
    Cantonese rewriting) trains a new model, like a change to a component."""
    (tmp_path / "data").mkdir()
    (tmp_path / "hotline_rasa").mkdir()
    config = tmp_path / "config.yml"
    config.write_text("pipeline:\n  - name: hotline_rasa.hotline_gate.HotlineGate\n")
    (tmp_path / "domain.yml").write_text("version: '3.1'\n")
    (tmp_path / "hotline_rasa" / "hotline_gate.py").write_text("# gate\n")
    shared = tmp_path / "hotline_rasa" / "cantonese.py"
    shared.write_text("# rewriting\n")
    before = train.inputs_hash(config, tmp_path)
    assert "cantonese" in train.SHARED_COMPONENT_MODULES
    shared.write_text("# rewriting, one more word\n")
    assert train.inputs_hash(config, tmp_path) != before


def test_the_fingerprint_follows_the_cantonese_word_table(
    train: ModuleType, tmp_path: Path
) -> None:
    """The word table every component's text is read through
    (data/language/cantonese.yml, read by hotline_rasa/cantonese.py) trains a
    new model when a word changes: it is one of the data files hashed."""
    from bot.cantonese import CANTONESE_FILE
    from bot.config import ROOT

    (tmp_path / "hotline_rasa").mkdir()
    config = tmp_path / "config.yml"
    config.write_text("pipeline:\n  - name: hotline_rasa.hotline_gate.HotlineGate\n")
    (tmp_path / "domain.yml").write_text("version: '3.1'\n")
    words = tmp_path / CANTONESE_FILE.relative_to(ROOT)
    words.parent.mkdir(parents=True)
    one, two = "  - {cantonese: 冇, mandarin: 没有}\n", "  - {cantonese: 睇, mandarin: 看}\n"
    words.write_text(f"version: 1\nwords:\n{one}", encoding="utf-8")
    before = train.inputs_hash(config, tmp_path)
    words.write_text(f"version: 1\nwords:\n{one}{two}", encoding="utf-8")
    assert train.inputs_hash(config, tmp_path) != before
