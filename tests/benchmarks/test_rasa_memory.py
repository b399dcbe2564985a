"""benchmarks/rasa_memory.py: which model it measures and what it parses."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from benchmarks.rasa_memory import main, newest_model, sample_messages  # noqa: E402


def test_newest_model_is_the_last_modified_archive(tmp_path: Path) -> None:
    old, new = tmp_path / "b-old.tar.gz", tmp_path / "a-new.tar.gz"
    for i, path in enumerate((old, new)):
        path.write_bytes(b"x")
        os.utime(path, (1000 + i, 1000 + i))
    (tmp_path / "a-new.tar.gz.sha256").write_text("not a model")
    assert newest_model(tmp_path) == new


def test_no_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="no model in"):
        newest_model(tmp_path)


def test_a_missing_model_file_is_refused_before_starting_rasa(tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        main(["--model", str(tmp_path / "missing.tar.gz")])


def test_messages_come_from_every_file_in_turn_and_repeat(tmp_path: Path) -> None:
    (tmp_path / "a.yml").write_text(
        'nlu:\n- intent: greet\n  examples: |\n    - 你好\n    - 在吗\n', encoding="utf-8"
    )
    (tmp_path / "b.yml").write_text(
        "nlu:\n- intent: faq/x\n  examples: |\n    - 社保怎么查\n", encoding="utf-8"
    )
    assert sample_messages(5, tmp_path) == ["你好", "社保怎么查", "在吗", "你好", "社保怎么查"]


def test_the_default_messages_are_the_heldout_set() -> None:
    messages = sample_messages(50)
    assert len(messages) == 50 and len(set(messages)) > 10
