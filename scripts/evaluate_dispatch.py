"""Measure complaint dispatch (智能派单) on the sets in ``eval/dispatch/*.yml``.

For each set (format: eval/dispatch/README.md) prints:

- category accuracy: the classifier's category against the label (whether or
  not the ticket would be flagged for a person), over the complaint
  categories, and the accuracy of the complaints it is confident about (at or
  above ``dispatch.min_confidence``), with the share flagged for a person.
  Items labelled ``suggestion`` are decided by the dialogue (the ``suggest``
  intent), not by the classifier: counted apart. Items labelled ``other`` are
  right when flagged (they go to the triage desk); the decision accuracy
  counts every non-suggestion item that way (flagged = ``other``);
- town found: of the items whose label names a town, the share where the
  recognised town is that one; and the share of items without a town label
  where a town was recognised anyway;
- the confidence histogram (ten bins, items and accuracy per bin).

Sets marked ``dev: true`` are the developer's own and printed as such; the
figures to report are those of the other sets ("reported"). Runs in the app
environment (the classifier lives there): ``make evaluate-dispatch`` or
``.venv/bin/python scripts/evaluate_dispatch.py [--json FILE] [--errors]``.
Exits 1 when a set is malformed (the message names the file and item).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.db.routing import Routing, load_routing  # noqa: E402
from bot.dispatch.dispatcher import complaint_classifier, find_town  # noqa: E402

EVAL_DIR = ROOT / "eval" / "dispatch"
BINS = 10


class EvalSetError(ValueError):
    pass


def town_key(routing: Routing, label: Any, where: str) -> str | None:
    """A town label (key, full name or short form) as a town key."""
    if label in (None, ""):
        return None
    assert routing.towns is not None
    text = str(label).strip()
    if text in routing.towns.towns:
        return text
    match = routing.towns.find(location=text)
    if match is None:
        raise EvalSetError(f"{where}: unknown town {label!r}")
    return match.town.key


def load_set(path: Path, routing: Routing) -> tuple[bool, list[dict[str, Any]]]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise EvalSetError(f"{path}: cannot read: {exc}") from None
    if not isinstance(raw, Mapping) or not isinstance(raw.get("items"), list):
        raise EvalSetError(f"{path}: expected a mapping with a list 'items'")
    items = []
    for i, item in enumerate(raw["items"], start=1):
        where = f"{path.name} item {i}"
        if not isinstance(item, Mapping) or not str(item.get("text") or "").strip():
            raise EvalSetError(f"{where}: needs 'text'")
        category = str(item.get("category") or "")
        if category not in routing.categories:
            raise EvalSetError(f"{where}: unknown category {category!r}")
        items.append(
            {
                "text": str(item["text"]).strip(),
                "location": str(item.get("location") or "").strip() or None,
                "category": category,
                "town": town_key(routing, item.get("town"), where),
            }
        )
    return bool(raw.get("dev", False)), items


NOT_CLASSIFIED = ("suggestion", "other")


def evaluate(routing: Routing, items: list[dict[str, Any]]) -> dict[str, Any]:
    classifier = complaint_classifier(routing)
    everything = []
    for item in items:
        prediction = classifier.predict(f"{item['text']} {item['location'] or ''}")
        town = find_town(routing, item["location"], item["text"])
        flagged = prediction.confidence < routing.min_confidence
        everything.append(
            {
                **item,
                "predicted": prediction.category,
                "flagged": flagged,
                "decision": "other" if flagged else prediction.category,
                "confidence": prediction.confidence,
                "predicted_town": town,
            }
        )
    rows = [r for r in everything if r["category"] not in NOT_CLASSIFIED]
    others = [r for r in everything if r["category"] == "other"]
    decided = [r for r in everything if r["category"] != "suggestion"]
    n = len(rows)
    right = [r for r in rows if r["predicted"] == r["category"]]
    confident = [r for r in rows if r["confidence"] >= routing.min_confidence]
    named = [r for r in everything if r["town"]]
    unnamed = [r for r in everything if not r["town"]]
    histogram = []
    for b in range(BINS):
        low, high = b / BINS, (b + 1) / BINS
        in_bin = [
            r
            for r in rows
            if low <= r["confidence"] < high or (b == BINS - 1 and r["confidence"] >= 1)
        ]
        histogram.append(
            {"from": low, "to": high, "items": len(in_bin), "accuracy": _accuracy(in_bin)}
        )
    return {
        "items": len(everything),
        "classified_items": n,
        "suggestions_apart": len(everything) - len(decided),
        "other_items": len(others),
        "other_to_triage": _share(sum(r["flagged"] for r in others), len(others)),
        "decision_accuracy": _share(
            sum(r["decision"] == r["category"] for r in decided), len(decided)
        ),
        "category_accuracy": _share(len(right), n),
        "confident_share": _share(len(confident), n),
        "confident_accuracy": _accuracy(confident),
        "flagged_for_person": _share(n - len(confident), n),
        "min_confidence": routing.min_confidence,
        "town_named": len(named),
        "town_found": _share(sum(r["predicted_town"] == r["town"] for r in named), len(named)),
        "town_false_found": _share(
            sum(r["predicted_town"] is not None for r in unnamed), len(unnamed)
        ),
        "histogram": histogram,
        "errors": [
            r
            for r in everything
            if (r["category"] not in NOT_CLASSIFIED and r["predicted"] != r["category"])
            or r["predicted_town"] != r["town"]
        ],
    }


def _accuracy(rows: list[dict[str, Any]]) -> float | None:
    return _share(sum(r["predicted"] == r["category"] for r in rows), len(rows))


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _pct(value: float | None) -> str:
    return "  n/a" if value is None else f"{value:6.1%}"


def print_report(name: str, dev: bool, report: dict[str, Any], show_errors: bool) -> None:
    label = "DEV SET (developer's own, not reported)" if dev else "reported"
    print(f"\n== {name}: {report['items']} complaints, {label}")
    print(
        f"category accuracy          {_pct(report['category_accuracy'])}"
        f"   ({report['classified_items']} with a complaint category; "
        f"{report['suggestions_apart']} suggestions apart, decided by the dialogue)"
    )
    print(
        f"decision accuracy          {_pct(report['decision_accuracy'])}"
        f"   (flagged = triage; 'other' items sent to triage: "
        f"{_pct(report['other_to_triage'])} of {report['other_items']})"
    )
    print(
        f"confident (>= {report['min_confidence']:.2f})         {_pct(report['confident_share'])}"
        f"   accuracy {_pct(report['confident_accuracy'])}"
        f"   flagged for a person {_pct(report['flagged_for_person'])}"
    )
    print(f"town found (text names one: {report['town_named']}) {_pct(report['town_found'])}")
    print(f"town found where none named {_pct(report['town_false_found'])}")
    print("confidence histogram (items, accuracy):")
    for b in report["histogram"]:
        bar = "#" * b["items"] if b["items"] <= 60 else "#" * 60 + "+"
        print(f"  {b['from']:.1f}-{b['to']:.1f} {b['items']:4d} {_pct(b['accuracy'])} {bar}")
    if show_errors:
        for r in report["errors"]:
            print(f"  ✗ {r['text']} | {r['location'] or ''} | {r['category']}→{r['predicted']}"
                  f" ({r['confidence']:.2f}) | {r['town']}→{r['predicted_town']}")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", type=Path, default=EVAL_DIR, help="folder of *.yml sets")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    parser.add_argument("--errors", action="store_true", help="list every wrong item")
    args = parser.parse_args(argv)
    routing = load_routing()
    paths = sorted(args.dir.glob("*.yml"))
    if not paths:
        print(f"no evaluation sets in {args.dir}", file=sys.stderr)
        return 1
    results: dict[str, Any] = {}
    try:
        for path in paths:
            dev, items = load_set(path, routing)
            report = evaluate(routing, items)
            print_report(path.name, dev, report, args.errors)
            results[path.name] = {"dev": dev, **{k: v for k, v in report.items() if k != "errors"}}
    except EvalSetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if not any(not r["dev"] for r in results.values()):
        print("\nno reported (independent) set yet: only development sets were found")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
