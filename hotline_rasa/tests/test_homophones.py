"""eval/homophones.py: a homophone copy of a tuning set (pinyin and voice typos)."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

from pypinyin import lazy_pinyin

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "eval"))

import homophones  # noqa: E402

SOUNDS = {"bao": ["保", "宝", "报"], "she": ["社", "设"], "dong": ["东", "动"], "guan": ["莞"]}


def test_each_replacement_sounds_the_same_and_the_count_is_kept() -> None:
    text = "社保转到东莞 ok 123"
    for seed in range(20):
        out = homophones.misspell(text, SOUNDS, random.Random(seed), 2)
        changed = [(a, b) for a, b in zip(text, out, strict=True) if a != b]
        assert len(changed) == 2
        assert all(lazy_pinyin(a) == lazy_pinyin(b) for a, b in changed)
        assert out.endswith(" ok 123") and "莞" in out  # no homophone for 莞 here


def test_the_copy_is_deterministic(tmp_path: Path) -> None:
    sounds = homophones.homophones(ROOT / "data" / "knowledge" / "faq.yml")
    one = homophones.copy_set(ROOT / "eval" / "heldout", tmp_path / "a", sounds, 7, 1)
    two = homophones.copy_set(ROOT / "eval" / "heldout", tmp_path / "b", sounds, 7, 1)
    assert one == two > 500
    for name in homophones.FILES:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert (tmp_path / "a" / "faq.yml").read_bytes() != (
        ROOT / "eval" / "heldout" / "faq.yml"
    ).read_bytes()


def test_a_report_set_is_refused(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "eval" / "homophones.py"), "final", str(tmp_path / "x")],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode != 0 and "report set" in done.stderr
    assert not (tmp_path / "x").exists()
