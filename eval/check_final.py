"""Check the FINAL NLU test set in eval/final/.

The final set is written independently of the training data and of the
held-out set, and is used once to report the assistant's final figures.

Loads faq.yml, intents.yml and out_of_scope.yml with Rasa's load_data,
prints the counts per intent (and per FAQ id), and asserts:

- at least 300 in-scope sentences (faq + intents) and 120 out_of_scope ones,
- every FAQ id of data/knowledge/faq.yml has at least 2 phrasings, and no
  FAQ id of the final set is unknown,
- every conversational intent has its minimum count and exists in domain.yml,
- no sentence is duplicated within or across the three files,
- independence: no final sentence appears verbatim (after removing spaces and
  punctuation, case-insensitive, NFKC) in data/nlu/*.yml, in the examples /
  questions of data/knowledge/*.yml, or in eval/heldout/*.yml.

Only final-set sentences are printed (never training or held-out text).
Usage: .venv/bin/python eval/check_final.py   (exit code 0 when it passes)
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
FINAL = ROOT / "eval" / "final"
FILES = ("faq.yml", "intents.yml", "out_of_scope.yml")

MIN_IN_SCOPE = 300
MIN_OUT_OF_SCOPE = 120
MIN_PER_FAQ = 2
MIN_INTENTS_FILE = 160
MIN_PER_INTENT = {
    "greet": 8, "goodbye": 8, "thank": 8, "affirm": 6, "deny": 6,
    "ask_identity": 8, "consult": 5, "request_human": 10, "emergency": 12,
    "angry": 8, "stop": 8, "request_service_guide": 24,
    "inform_service_mode": 6, "complain": 18, "suggest": 9,
    "check_ticket": 9, "rate": 6,
}


def normalise(text: str) -> str:
    """NFKC, lower-case, without whitespace and punctuation."""
    return "".join(
        ch for ch in unicodedata.normalize("NFKC", text).lower()
        if not ch.isspace() and not unicodedata.category(ch).startswith(("P", "Z"))
    )


def load_rows(path: Path) -> list[tuple[str, str, str | None]]:
    """(text, intent, faq id or None) for every example of one NLU file."""
    from rasa.shared.nlu.training_data.loading import load_data

    rows = []
    for example in load_data(str(path)).intent_examples:
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


def _yaml_texts(node: Any) -> Iterable[str]:
    """Strings under any 'examples', 'question' or 'questions' key."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("examples", "question", "questions"):
                yield from _example_lines(value)
            else:
                yield from _yaml_texts(value)
    elif isinstance(node, list):
        for item in node:
            yield from _yaml_texts(item)


def _nlu_file_texts(path: Path) -> list[str]:
    """Texts as Rasa parses them (entity markup removed) and as written."""
    import yaml
    from rasa.shared.nlu.training_data.loading import load_data

    texts: list[str] = []
    try:
        texts += [m.get("text") for m in load_data(str(path)).intent_examples]
    except Exception:  # not an NLU file Rasa can read: raw YAML only
        pass
    try:
        texts += list(_yaml_texts(yaml.safe_load(path.read_text(encoding="utf-8"))))
    except Exception:
        pass
    return [t for t in texts if t]


def reference_texts() -> dict[str, str]:
    """normalised sentence -> file it comes from (training data and held-out set)."""
    import yaml

    out: dict[str, str] = {}
    sources = sorted((ROOT / "data" / "nlu").glob("*.yml")) + sorted(
        (ROOT / "eval" / "heldout").glob("*.yml"))
    for path in sources:
        rel = str(path.relative_to(ROOT))
        for text in _nlu_file_texts(path):
            out.setdefault(normalise(text), rel)
    for path in sorted((ROOT / "data" / "knowledge").glob("*.yml")):
        rel = str(path.relative_to(ROOT))
        for text in _yaml_texts(yaml.safe_load(path.read_text(encoding="utf-8"))):
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
    data = {name: load_rows(FINAL / name) for name in FILES}

    for name, rows in data.items():
        print(f"== {name}: {len(rows)} sentences")
        if name == "faq.yml":
            continue
        for intent, n in sorted(Counter(r[1] for r in rows).items()):
            print(f"   {intent:24s} {n}")

    # FAQ coverage
    faq_rows = data["faq.yml"]
    per_faq = Counter(r[2] for r in faq_rows)
    known = faq_ids()
    print(f"== FAQ ids: {len(per_faq)} covered of {len(known)} in data/knowledge/faq.yml")
    for fid in known:
        print(f"   faq/{fid:34s} {per_faq[fid]}")
        if per_faq[fid] < MIN_PER_FAQ:
            errors.append(f"faq/{fid}: {per_faq[fid]} phrasings (< {MIN_PER_FAQ})")
    for fid in sorted(set(per_faq) - set(known), key=str):
        errors.append(f"faq/{fid}: not an id of data/knowledge/faq.yml")
    for text, intent, fid in faq_rows:
        if intent != "faq" or fid is None:
            errors.append(f"faq.yml: {text!r} is not labelled faq/<id> (got {intent})")

    # conversational intents
    intent_rows = data["intents.yml"]
    intent_counts = Counter(r[1] for r in intent_rows)
    valid = domain_intents()
    for intent, minimum in MIN_PER_INTENT.items():
        if intent_counts[intent] < minimum:
            errors.append(f"intent {intent}: {intent_counts[intent]} (< {minimum})")
    for intent in intent_counts:
        if intent not in valid:
            errors.append(f"intent {intent}: not in domain.yml")
        if intent in ("faq", "out_of_scope"):
            errors.append(f"intents.yml: intent {intent} belongs in its own file")
    if len(intent_rows) < MIN_INTENTS_FILE:
        errors.append(f"intents.yml: {len(intent_rows)} sentences (< {MIN_INTENTS_FILE})")

    # out of scope
    oos = data["out_of_scope.yml"]
    if any(r[1] != "out_of_scope" for r in oos):
        errors.append("out_of_scope.yml: every example must be intent out_of_scope")
    if len(oos) < MIN_OUT_OF_SCOPE:
        errors.append(f"out_of_scope: {len(oos)} (< {MIN_OUT_OF_SCOPE})")

    in_scope = len(faq_rows) + len(intent_rows)
    print(f"== in-scope total {in_scope} (faq {len(faq_rows)} + intents "
          f"{len(intent_rows)}), out_of_scope {len(oos)}, all {in_scope + len(oos)}")
    if in_scope < MIN_IN_SCOPE:
        errors.append(f"in-scope total {in_scope} (< {MIN_IN_SCOPE})")

    # duplicates within / across the final files
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

    # independence from training data and the held-out set
    ref = reference_texts()
    print(f"== compared with {len(ref)} distinct reference sentences "
          "(data/nlu/*.yml, examples/questions of data/knowledge/*.yml, eval/heldout/*.yml)")
    collisions = 0
    for name, rows in data.items():
        for text, _intent, _fid in rows:
            source = ref.get(normalise(text))
            if source:
                collisions += 1
                errors.append(f"verbatim in {source}: {name} {text!r}")
    print(f"   verbatim collisions: {collisions}")

    if errors:
        print(f"\nFAILED ({len(errors)} problems):")
        for err in errors:
            print("  -", err)
        return 1
    print("\nOK: final test set passes all checks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
