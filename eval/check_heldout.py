"""Check the held-out NLU evaluation set in eval/heldout/.

Loads faq.yml, intents.yml and out_of_scope.yml with Rasa, prints the counts
per intent (and per FAQ id), and asserts:

- at least 300 in-scope sentences (faq + intents) and 120 out_of_scope ones,
- every FAQ id of data/knowledge/faq.yml has at least 3 held-out phrasings,
  and no held-out FAQ id is unknown,
- every conversational intent has its minimum count and exists in domain.yml,
- no sentence is duplicated within or across the three files,
- independence: no held-out sentence appears verbatim (after removing spaces
  and punctuation, case-insensitive) in the training data, i.e. data/nlu/*.yml
  or the examples / questions of data/knowledge/*.yml.

Only held-out sentences are printed (never training text).
Usage: .venv/bin/python eval/check_heldout.py   (exit code 0 when it passes)
"""

from __future__ import annotations

import logging
import os
import sys
import unicodedata
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
logging.disable(logging.WARNING)

ROOT = Path(__file__).resolve().parent.parent
HELDOUT = ROOT / "eval" / "heldout"
FILES = ("faq.yml", "intents.yml", "out_of_scope.yml")

MIN_IN_SCOPE = 300
MIN_OUT_OF_SCOPE = 120
MIN_PER_FAQ = 3
MIN_PER_INTENT = {
    "greet": 8, "goodbye": 8, "thank": 8, "affirm": 6, "deny": 6,
    "ask_identity": 8, "request_human": 10, "emergency": 10, "angry": 8,
    "stop": 8, "request_service_guide": 20, "inform_service_mode": 6,
    "complain": 16, "suggest": 8, "check_ticket": 8, "rate": 6, "consult": 4,
}
MIN_INTENTS_FILE = 130


def normalise(text: str) -> str:
    """Lower-case, without whitespace and punctuation."""
    return "".join(
        ch for ch in unicodedata.normalize("NFKC", text).lower()
        if not ch.isspace() and not unicodedata.category(ch).startswith(("P", "Z"))
    )


def load_heldout(name: str) -> list[tuple[str, str, str | None]]:
    """(text, intent, faq id or None) for every example of one held-out file."""
    from rasa.shared.nlu.training_data.loading import load_data

    rows = []
    for example in load_data(str(HELDOUT / name)).intent_examples:
        intent = example.get("intent")
        faq_id = None
        key = example.get("intent_response_key") or ""
        if "/" in key:
            intent, faq_id = key.split("/", 1)
        rows.append((example.get("text"), intent, faq_id))
    return rows


def _example_lines(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        for line in value.splitlines():
            line = line.strip()
            if line.startswith("- "):
                line = line[2:]
            if line:
                yield line
    elif isinstance(value, list):
        for item in value:
            yield from _example_lines(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _example_lines(item)


def _knowledge_texts(node: Any) -> Iterable[str]:
    """Strings under any 'examples', 'question' or 'questions' key."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("examples", "question", "questions"):
                yield from _example_lines(value)
            else:
                yield from _knowledge_texts(value)
    elif isinstance(node, list):
        for item in node:
            yield from _knowledge_texts(item)


def training_texts() -> dict[str, str]:
    """normalised training sentence -> file it comes from."""
    import yaml
    from rasa.shared.nlu.training_data.loading import load_data

    out: dict[str, str] = {}
    for path in sorted((ROOT / "data" / "nlu").glob("*.yml")):
        rel = str(path.relative_to(ROOT))
        try:
            texts = [m.get("text") for m in load_data(str(path)).intent_examples]
        except Exception:  # not an NLU file Rasa can read: fall back to raw YAML
            texts = list(_knowledge_texts(yaml.safe_load(path.read_text(encoding="utf-8"))))
        # raw YAML too, so entity-annotated lines are also compared as written
        texts += list(_knowledge_texts(yaml.safe_load(path.read_text(encoding="utf-8"))))
        for text in texts:
            if text:
                out.setdefault(normalise(text), rel)
    for path in sorted((ROOT / "data" / "knowledge").glob("*.yml")):
        rel = str(path.relative_to(ROOT))
        for text in _knowledge_texts(yaml.safe_load(path.read_text(encoding="utf-8"))):
            out.setdefault(normalise(text), rel)
    out.pop("", None)
    return out


def faq_ids() -> list[str]:
    import yaml

    data = yaml.safe_load((ROOT / "data" / "knowledge" / "faq.yml").read_text(encoding="utf-8"))
    return [entry["id"] for entry in data["entries"]]


def domain_intents() -> set[str]:
    import yaml

    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    return {i if isinstance(i, str) else next(iter(i)) for i in domain.get("intents", [])}


def main() -> int:
    errors: list[str] = []
    data = {name: load_heldout(name) for name in FILES}

    for name, rows in data.items():
        print(f"== {name}: {len(rows)} sentences")
        for intent, n in sorted(Counter(r[1] for r in rows).items()):
            print(f"   {intent:24s} {n}")

    # FAQ coverage
    faq_rows = data["faq.yml"]
    per_faq = Counter(r[2] for r in faq_rows)
    known = faq_ids()
    print(f"== FAQ ids: {len(per_faq)} covered of {len(known)} in data/knowledge/faq.yml")
    for fid in known:
        if per_faq[fid] < MIN_PER_FAQ:
            errors.append(f"faq/{fid}: {per_faq[fid]} phrasings (< {MIN_PER_FAQ})")
    for fid in sorted(set(per_faq) - set(known)):
        errors.append(f"faq/{fid}: not an id of data/knowledge/faq.yml")
    for text, intent, fid in faq_rows:
        if intent != "faq" or fid is None:
            errors.append(f"faq.yml: {text!r} is not labelled faq/<id> (got {intent})")
    lo, hi = min(per_faq.values(), default=0), max(per_faq.values(), default=0)
    print(f"   per id: min {lo}, max {hi}")

    # conversational intents
    intent_counts = Counter(r[1] for r in data["intents.yml"])
    valid = domain_intents()
    for intent, minimum in MIN_PER_INTENT.items():
        if intent_counts[intent] < minimum:
            errors.append(f"intent {intent}: {intent_counts[intent]} (< {minimum})")
    for intent in intent_counts:
        if intent not in valid:
            errors.append(f"intent {intent}: not in domain.yml")
    if len(data["intents.yml"]) < MIN_INTENTS_FILE:
        errors.append(f"intents.yml: {len(data['intents.yml'])} sentences (< {MIN_INTENTS_FILE})")

    # out of scope
    oos = data["out_of_scope.yml"]
    if any(r[1] != "out_of_scope" for r in oos):
        errors.append("out_of_scope.yml: every example must be intent out_of_scope")
    if len(oos) < MIN_OUT_OF_SCOPE:
        errors.append(f"out_of_scope: {len(oos)} (< {MIN_OUT_OF_SCOPE})")

    in_scope = len(faq_rows) + len(data["intents.yml"])
    print(f"== in-scope total {in_scope} (faq {len(faq_rows)} + intents "
          f"{len(data['intents.yml'])}), out_of_scope {len(oos)}")
    if in_scope < MIN_IN_SCOPE:
        errors.append(f"in-scope total {in_scope} (< {MIN_IN_SCOPE})")

    # duplicates within / across the held-out files
    seen: dict[str, str] = {}
    for name, rows in data.items():
        for text, intent, fid in rows:
            label = f"{name}:{intent}{'/' + fid if fid else ''}"
            key = normalise(text)
            if not key:
                errors.append(f"{label}: {text!r} is empty after removing punctuation")
            elif key in seen:
                errors.append(f"duplicate: {text!r} in {label} and {seen[key]}")
            else:
                seen[key] = label

    # independence from the training data
    train = training_texts()
    print(f"== compared with {len(train)} distinct training sentences "
          "(data/nlu/*.yml, examples/questions of data/knowledge/*.yml)")
    collisions = 0
    for name, rows in data.items():
        for text, _intent, _fid in rows:
            source = train.get(normalise(text))
            if source:
                collisions += 1
                errors.append(f"in training data ({source}): {name} {text!r}")
    print(f"   verbatim collisions: {collisions}")

    if errors:
        print(f"\nFAILED ({len(errors)} problems):")
        for err in errors:
            print("  -", err)
        return 1
    print("\nOK: held-out set passes all checks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
