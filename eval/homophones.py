"""A homophone copy of an evaluation set: what pinyin and voice input make of it.

Citizens' typos are mostly homophones (社宝 for 社保, 公基金 for 公积金): the
input method offers characters by their pinyin and the wrong one is picked.
This writes a copy of a set's ``faq.yml``, ``intents.yml`` and
``out_of_scope.yml`` in which ``--per-sentence`` Chinese characters of each
sentence are replaced by another character with the same toneless pinyin,
drawn from the characters of the FAQ catalog's phrasings (so the replacements
are everyday characters, not rare ones). Deterministic for a seed.

A TUNING probe only, made from a tuning set (eval/heldout): never from a
report set, never committed as training data. The pinyin features were chosen
on such a copy (docs/experiments/2026-12-05-broad-catalog.md: heldout, seed 7,
one character per sentence)::

    PYTHONPATH=. .venv-rasa/bin/python eval/homophones.py heldout eval/noisy_heldout
    PYTHONPATH=. .venv-rasa/bin/python scripts/evaluate.py --model M --sets noisy_heldout
"""

from __future__ import annotations

import argparse
import random
import sys
from collections import defaultdict
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hotline_rasa.faq_retriever import read_catalog  # noqa: E402

FILES = ("faq.yml", "intents.yml", "out_of_scope.yml")
#: Sets that are reported and must not be turned into tuning probes.
REPORT_SETS = ("final", "citizen", "breadth", "city")


def is_chinese(char: str) -> bool:
    return "\u4e00" <= char <= "\u9fff"


def homophones(catalog: Path) -> dict[str, list[str]]:
    """toneless pinyin -> the catalog phrasings' characters with it, in the order
    they first occur in the catalog."""
    from pypinyin import lazy_pinyin

    chars = dict.fromkeys(
        c for _, phrasings, _ in read_catalog(catalog) for p in phrasings for c in p
    )
    by_sound: dict[str, list[str]] = defaultdict(list)
    for char in (c for c in chars if is_chinese(c)):
        by_sound[lazy_pinyin(char)[0]].append(char)
    return dict(by_sound)


def misspell(text: str, sounds: dict[str, list[str]], rng: random.Random, count: int) -> str:
    """``text`` with ``count`` characters replaced by homophones (fewer when it
    has fewer characters that have one)."""
    from pypinyin import lazy_pinyin

    chars = list(text)
    places = [
        i
        for i, c in enumerate(chars)
        if is_chinese(c) and len(sounds.get(lazy_pinyin(c)[0], [])) > 1
    ]
    rng.shuffle(places)
    for i in places[:count]:
        chars[i] = rng.choice([c for c in sounds[lazy_pinyin(chars[i])[0]] if c != chars[i]])
    return "".join(chars)


def copy_set(
    source: Path, target: Path, sounds: dict[str, list[str]], seed: int, count: int
) -> int:
    """Write the homophone copy of every NLU file of ``source``; the sentences written."""
    rng = random.Random(seed)
    target.mkdir(parents=True, exist_ok=True)
    written = 0
    for name in FILES:
        if not (source / name).exists():
            continue
        data = yaml.safe_load((source / name).read_text(encoding="utf-8"))
        lines = ['version: "3.1"', "# homophone copy (eval/homophones.py): a tuning probe", "nlu:"]
        for item in data.get("nlu") or []:
            lines += [f"- intent: {item['intent']}", "  examples: |"]
            for line in str(item.get("examples") or "").splitlines():
                if line.strip().startswith("- "):
                    lines.append("    - " + misspell(line.strip()[2:], sounds, rng, count))
                    written += 1
        (target / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("set", help="a tuning set under eval/ (heldout, citizen_dev)")
    parser.add_argument("out", type=Path, help="the folder to write (under eval/ to evaluate it)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--per-sentence", type=int, default=1)
    parser.add_argument("--catalog", type=Path, default=ROOT / "data" / "knowledge" / "faq.yml")
    args = parser.parse_args()
    if args.set in REPORT_SETS:
        parser.error(f"{args.set} is a report set: make probes from tuning sets only")
    sounds = homophones(args.catalog)
    written = copy_set(ROOT / "eval" / args.set, args.out, sounds, args.seed, args.per_sentence)
    print(f"wrote {written} sentences to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
