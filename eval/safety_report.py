"""Does a citizen in danger get 119 / 120 / 110 first? Measured on
``eval/safety/<set>.yml`` (``emergency`` and ``not_emergency`` messages).

The trained model parses every message (loaded as scripts/evaluate.py loads
it). Where the numbers come from, by the parse:

- ``emergency``: the intent is ``emergency`` (the dialogue answers with
  ``utter_emergency`` and a person, data/rules.yml); ``net:words``,
  ``net:detector`` or ``net:both`` when the NLU's safety net
  (hotline_rasa/safety_net.py) made it so (by a word of danger, its learned
  detector or both), ``model`` otherwise;
- ``action``: the intent leads to an action that puts the numbers first when
  the text holds a word of data/danger_words.yml or the parse's
  ``danger.alarm`` is raised (``action_answer_faq``,
  ``action_handle_fallback``, also for ``inform`` outside a form,
  ``action_start_complaint``,
  ``action_start_service_guide``: the intents in
  ``ACTION_NET``);
- ``none``: neither (a greeting, the guide, a fixed response...).

Printed: for ``emergency`` messages the share that gets the numbers first
(and from where), with every miss; for ``not_emergency`` messages the false
alarms, each listed. Writes eval/report/safety/<set>.json.

Usage (Rasa's environment)::

    PYTHONPATH=. .venv-rasa/bin/python eval/safety_report.py [--set probe] [--model M]
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

from hotline_rasa.safety_net import Patterns, compile_words, heard, load_fragments  # noqa: E402

SET_DIR = ROOT / "eval" / "safety"
REPORT_DIR = ROOT / "eval" / "report" / "safety"
WORDS = ROOT / "data" / "danger_words.yml"
EMERGENCY = "emergency"
#: intents whose action utters the numbers first on a word of danger or the
#: parse's alarm (actions/faq.py, actions/complaints.py, actions/guidance.py:
#: ``warn_if_danger``). ``inform`` outside a form is answered by
#: ``action_handle_fallback`` (data/rules.yml), as every message here is.
ACTION_NET = frozenset(
    {
        "faq",
        "nlu_fallback",
        "inform",
        "complain",
        "suggest",
        "record_service_complaint",
        "request_service_guide",
    }
)


def load_cases(path: Path) -> list[dict[str, str]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    cases = []
    for block in data.get("nlu") or []:
        label = str(block.get("intent"))
        if label not in (EMERGENCY, "not_emergency"):
            raise SystemExit(f"{path}: intent {label!r} is neither emergency nor not_emergency")
        for line in str(block.get("examples") or "").splitlines():
            text = line.strip().removeprefix("- ").strip()
            if text:
                cases.append({"text": text, "label": label})
    return cases


def numbers_from(
    intent: str | None,
    net: dict[str, Any] | None,
    text: str,
    words: Patterns,
    alarm: bool | None = None,
) -> str:
    """Where the numbers come from for this parse: ``net:words``,
    ``net:detector`` or ``net:both`` (the NLU's safety net made it
    ``emergency``, by ``safety_net.by``), ``model``, ``action`` (the parse's
    ``danger.alarm``, which the actions' net warns on) or ``none``. ``alarm``
    is None for a model older than the alarm: then a word of danger in the
    text decides, as in the actions' ``danger_alarm``."""
    if intent == EMERGENCY:
        return f"net:{net.get('by') or 'words'}" if net else "model"
    warned = alarm if alarm is not None else bool(heard(words, text))
    if intent in ACTION_NET and warned:
        return "action"
    return "none"


def report(rows: list[dict[str, Any]]) -> dict[str, Any]:
    danger = [r for r in rows if r["label"] == EMERGENCY]
    ordinary = [r for r in rows if r["label"] != EMERGENCY]
    sources = Counter(r["source"] for r in danger)
    warned = sum(1 for r in danger if r["source"] != "none")
    alarms = [r for r in ordinary if r["source"] != "none"]
    return {
        "emergency": len(danger),
        "numbers_first": warned,
        "numbers_first_pct": round(100.0 * warned / max(len(danger), 1), 1),
        "by_source": dict(sources),
        "missed": [r for r in danger if r["source"] == "none"],
        "not_emergency": len(ordinary),
        "false_alarms": len(alarms),
        "false_alarm_pct": round(100.0 * len(alarms) / max(len(ordinary), 1), 1),
        "false_alarm_rows": alarms,
    }


def format_report(name: str, result: dict[str, Any]) -> str:
    lines = [
        f"== safety: {name} ==",
        f"emergency messages: {result['emergency']}, numbers first: "
        f"{result['numbers_first']} ({result['numbers_first_pct']}%) by source "
        f"{result['by_source']}",
        f"not_emergency messages: {result['not_emergency']}, false alarms: "
        f"{result['false_alarms']} ({result['false_alarm_pct']}%)",
    ]
    lines += [
        f"  missed: {r['text']}  [{r['intent']}, p {r.get('p_danger')}]" for r in result["missed"]
    ]
    lines += [
        f"  false alarm: {r['text']}  [{r['intent']}, {r['source']}, p {r.get('p_danger')}]"
        for r in result["false_alarm_rows"]
    ]
    return "\n".join(lines)


async def parse_all(model: str, cases: list[dict[str, str]]) -> list[dict[str, Any]]:
    from rasa.core.agent import Agent

    from hotline_rasa import lean

    lean.install()  # load the model as `python -m hotline_rasa run` serves it
    agent = Agent.load(model)
    words = compile_words(load_fragments(WORDS))
    rows = []
    for case in cases:
        parse = await agent.parse_message(case["text"])
        intent = (parse.get("intent") or {}).get("name")
        net = parse.get("safety_net")
        danger = parse.get("danger") or {}
        rows.append(
            {
                **case,
                "intent": intent,
                "net_from": (net or {}).get("from"),
                "p_danger": danger.get("p"),
                "source": numbers_from(
                    intent, net, case["text"], words, danger.get("alarm") if danger else None
                ),
            }
        )
    return rows


def latest_model() -> str:
    models = list((ROOT / "models").glob("*.tar.gz"))
    if not models:
        raise SystemExit("no trained model in models/: run `make train`")
    return str(max(models, key=lambda p: p.stat().st_mtime))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--set", default="probe", help="eval/safety/<set>.yml (default probe)")
    parser.add_argument("--model", help="a trained model (default: the newest in models/)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    cases = load_cases(SET_DIR / f"{args.set}.yml")
    rows = asyncio.run(parse_all(args.model or latest_model(), cases))
    result = report(rows)
    sys.stdout.write(format_report(args.set, result) + "\n")
    out = REPORT_DIR / f"{args.set}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({**result, "rows": rows}, ensure_ascii=False, indent=1), "utf-8")
    sys.stdout.write(f"report: {out}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
