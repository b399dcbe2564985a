"""Is a complaint told in a line taken as a complaint? Measured on the
complaint descriptions of eval/dispatch/, each sent as a citizen's first message.

What a 12345 hotline receives most is a problem told in a line, without
"我要投诉": "楼下大排档每天吵到两点". Each description of a dispatch set is parsed
by the trained model as an opening message (no form running); the report
counts what the citizen would meet:

- ``complaint``: the ``complain`` intent (the complaint form, with the line as
  what happened), and of them how many the complaint arbiter made so
  (hotline_rasa/complaint_arbiter.py; the parse's ``complaint_arbiter``), or
  a form's answer (``inform``) with P(complaint) >= COMPLAINT_FROM_ANSWER,
  whose fallback starts the complaint (actions/faq.py);
- ``emergency``: the emergency numbers and a person (right for a danger going
  on; the sets hold some: gas smell, a fight);
- ``faq``: an FAQ answer or the "did you mean" confirmation (no ticket; also
  a form's answer or a change the FAQ retriever is sure of, which the dialogue
  answers, actions/faq.py), and
  of them how many offer the complaint as a button (P(complaint) >=
  COMPLAINT_OFFER);
- ``declined``: the NLU fallback, ``out_of_scope`` or an FAQ guess below the
  lower FAQ threshold ("抱歉，我没太理解");
- ``other``: any other intent (a service guide, a form answer, chit-chat).

Target (ours; the issue names none): complaint + emergency >= 80 % on the
report set. Tune on the ``dev*`` sets only: ``test`` (eval/dispatch/test.yml)
is the REPORT set, run once per model. Writes eval/report/complaint_intake/<set>.json.

Usage (Rasa's environment)::

    .venv-rasa/bin/python eval/complaint_intake.py --set dev dev2 dev3 dev4 dev5
    .venv-rasa/bin/python eval/complaint_intake.py --set test --model M
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from actions.thresholds import (  # noqa: E402
    COMPLAINT_FROM_ANSWER,
    COMPLAINT_OFFER,
    FAQ_MIN_CONFIDENCE,
    FAQ_SURE_OUT_OF_CONTEXT,
)
from eval.off_topic import OUT_OF_CONTEXT_INTENTS  # noqa: E402 - plain Python

SET_DIR = ROOT / "eval" / "dispatch"
REPORT_DIR = ROOT / "eval" / "report" / "complaint_intake"
OUTCOMES = ("complaint", "emergency", "faq", "declined", "other")
TARGET = 0.80


def load_texts(path: Path) -> list[str]:
    """The descriptions of a dispatch set (``items: [{text, ...}]``)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    items = data.get("items")
    if not isinstance(items, list):
        raise SystemExit(f"{path}: expected 'items:' as a list")
    return [str(item["text"]) for item in items if isinstance(item, dict) and item.get("text")]


def outcome(parse: dict[str, Any]) -> str:
    """What the citizen meets for one parse (the module's categories)."""
    intent = (parse.get("intent") or {}).get("name")
    if intent == "complain":
        return "complaint"
    p = (parse.get("complaint") or {}).get("p")
    if intent == "inform" and isinstance(p, (int, float)) and p >= COMPLAINT_FROM_ANSWER:
        return "complaint"  # a form's answer with no form running: the fallback starts it
    if intent == "emergency":
        return "emergency"
    if intent in ("nlu_fallback", "out_of_scope"):
        return "declined"
    selector = (parse.get("response_selector") or {}).get("faq") or {}
    confidence = float((selector.get("response") or {}).get("confidence") or 0.0)
    if intent == "faq":
        return "faq" if confidence >= FAQ_MIN_CONFIDENCE else "declined"
    if intent in OUT_OF_CONTEXT_INTENTS and confidence >= FAQ_SURE_OUT_OF_CONTEXT:
        return "faq"  # no form, no complaint: the dialogue answers the sure FAQ
    return "other"


def report(rows: list[dict[str, Any]]) -> dict[str, Any]:
    counts = Counter(row["outcome"] for row in rows)
    n = len(rows) or 1
    taken = counts["complaint"] + counts["emergency"]
    return {
        "n": len(rows),
        **{name: counts[name] for name in OUTCOMES},
        "by_arbiter": sum(1 for row in rows if row["arbiter_from"]),
        # FAQ answers that offer "登记投诉，交部门处理" (actions/faq.py)
        "faq_offering_complaint": sum(
            1
            for row in rows
            if row["outcome"] == "faq"
            and isinstance(row["p_complaint"], (int, float))
            and row["p_complaint"] >= COMPLAINT_OFFER
        ),
        "taken_share": round(taken / n, 4),
        "target": TARGET,
        "intents": dict(Counter(row["intent"] for row in rows).most_common()),
    }


async def parse_sets(model: str, sets: list[list[str]]) -> list[list[dict[str, Any]]]:
    from rasa.core.agent import Agent

    from hotline_rasa import lean

    lean.install()  # load the model as `python -m hotline_rasa run` serves it
    agent = Agent.load(model)
    out = []
    for texts in sets:
        rows = []
        for text in texts:
            parse = await agent.parse_message(text)
            rows.append(
                {
                    "text": text,
                    "intent": (parse.get("intent") or {}).get("name"),
                    "outcome": outcome(parse),
                    "arbiter_from": (parse.get("complaint_arbiter") or {}).get("from"),
                    "p_complaint": (parse.get("complaint") or {}).get("p"),
                }
            )
        out.append(rows)
    return out


def latest_model() -> str:
    models = list((ROOT / "models").glob("*.tar.gz"))
    if not models:
        raise SystemExit("no trained model in models/: run `make train`")
    return str(max(models, key=lambda p: p.stat().st_mtime))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--set",
        nargs="+",
        default=["dev", "dev2", "dev3", "dev4", "dev5"],
        help="eval/dispatch/<set>.yml, one or more (default the dev sets; test is the REPORT set)",
    )
    parser.add_argument("--model", help="a trained model (default: the newest in models/)")
    parser.add_argument(
        "--errors", action="store_true", help="print the texts not taken (dev sets only)"
    )
    args = parser.parse_args()
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)
    paths = [SET_DIR / f"{name}.yml" for name in args.set]
    for name, path in zip(args.set, paths, strict=True):
        if not path.is_file():
            parser.error(f"--set {name}: no file {path}")
        if args.errors and name.startswith("test"):
            parser.error("--errors prints sentences: not on the report set")
    model = args.model or latest_model()
    sys.stdout.write(f"model: {model}\n")
    parsed = asyncio.run(parse_sets(model, [load_texts(path) for path in paths]))
    REPORT_DIR.mkdir(parents=True, exist_ok=True)
    every: list[dict[str, Any]] = []
    for name, rows in zip(args.set, parsed, strict=True):
        every += rows
        result = report(rows)
        (REPORT_DIR / f"{name}.json").write_text(
            json.dumps({"set": name, "model": model, **result}, ensure_ascii=False, indent=2),
            encoding="utf-8",
        )
        line = "  ".join(f"{k} {result[k]}" for k in OUTCOMES)
        sys.stdout.write(
            f"[{name}] {result['n']} complaint descriptions as first messages: {line} "
            f"(by the arbiter {result['by_arbiter']}; FAQ answers offering the complaint "
            f"{result['faq_offering_complaint']}); taken as a complaint or an emergency "
            f"{result['taken_share']:.1%} (target >= {TARGET:.0%})\n"
        )
        if args.errors:
            for row in rows:
                if row["outcome"] not in ("complaint", "emergency"):
                    sys.stdout.write(
                        f"    [{row['outcome']}] {row['intent']} {row['p_complaint']}"
                        f"  {row['text']}\n"
                    )
    if len(parsed) > 1:
        result = report(every)
        sys.stdout.write(
            f"[all] {result['n']}: taken {result['taken_share']:.1%}, "
            + "  ".join(f"{k} {result[k]}" for k in OUTCOMES)
            + "\n"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
