"""Sweep the hotline gate's threshold (hotline_rasa/hotline_gate.py) on a trained model.

Parses eval/heldout (or ``--in-scope citizen_dev``; in scope and out of scope)
and an off-topic set (default
eval/offtopic_dev, the gate's own development set) once, recovers each
message's parse before the gate (the gate reports P(hotline) and whether it
rejected) and prints, for each threshold, the held-out figures of
scripts/evaluate.py and the off-topic report's shares, as if the model had been
trained with that threshold (the threshold changes nothing at training time).

Usage: PYTHONPATH=. .venv-rasa/bin/python scripts/tune_hotline_gate.py --model models/<file>.tar.gz
Never run it on eval/final or eval/city: those are reported once, not tuned on.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from actions.thresholds import FAQ_ANSWER_CONFIDENCE, FAQ_MIN_CONFIDENCE  # noqa: E402
from eval.off_topic import classify, load_dialogue_policy, load_domains, off_topic_report  # noqa: E402
from hotline_rasa.hotline_gate import (  # noqa: E402
    DEFAULT_EXEMPT,
    GATE_KEY,
    OUT_OF_SCOPE,
    HotlineGate,
    rejection_threshold,
    sure_faq,
    unsure_faq,
)
from scripts.evaluate import (  # noqa: E402
    configured_threshold,
    faq_choice,
    figures,
    load_heldout,
    raw_prediction,
)

#: The FAQ check's settings as the gate defaults them (config.yml sets the same).
FAQ_CHECK = HotlineGate.get_default_config()

#: The gate's settings as config.yml sets them: its acceptance (off by
#: default) and the FAQ check's thresholds.
ACCEPT = {
    **FAQ_CHECK,
    **next(
        c
        for c in yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))["pipeline"]
        if c.get("name") == "hotline_rasa.hotline_gate.HotlineGate"
    ),
}


def before_gate(parse: dict[str, Any]) -> dict[str, Any]:
    """The parse as the gate received it."""
    gate = parse.get(GATE_KEY) or {}
    if not gate.get("rejected") and not gate.get("accepted"):
        return parse
    ranking = list(parse.get("intent_ranking") or [])[1:]
    return {**parse, "intent": ranking[0] if ranking else {}, "intent_ranking": ranking}


def gated(
    parse: dict[str, Any],
    threshold: float,
    exempt: frozenset[str],
    faq_threshold: float = ACCEPT["faq_threshold"],
    faq_sure: float = ACCEPT["faq_sure_confidence"],
) -> dict[str, Any]:
    """The parse as the gate with ``threshold`` (and its FAQ check with
    ``faq_threshold`` and ``faq_sure``, hotline_gate.unsure_faq) leaves it."""
    p = float((parse.get(GATE_KEY) or {}).get("p_hotline", 1.0))
    name = (parse.get("intent") or {}).get("name")
    has_entry = FAQ_CHECK["faq_intent"] in (parse.get("response_selector") or {})
    confidence = faq_choice(parse)[1] if has_entry else None
    if sure_faq(name, p, confidence, ACCEPT["accept_threshold"], ACCEPT["accept_faq_confidence"]):
        top = {"name": FAQ_CHECK["faq_intent"], "confidence": round(confidence or 0.0, 4)}
        rest = [r for r in parse.get("intent_ranking") or [] if r.get("name") != top["name"]]
        return {**parse, "intent": top, "intent_ranking": [top, *rest]}
    if name is None or name in exempt:
        return parse
    unsure = unsure_faq(name, p, confidence, faq_threshold, faq_sure, FAQ_CHECK["faq_intent"])
    threshold = rejection_threshold(
        name,
        confidence,
        threshold,
        float(ACCEPT["certain_faq_confidence"]),
        float(ACCEPT["certain_faq_threshold"]),
        FAQ_CHECK["faq_intent"],
    )
    if p >= threshold and not unsure:
        return parse
    top = {"name": OUT_OF_SCOPE, "confidence": round(1 - p, 4)}
    rest = [r for r in parse.get("intent_ranking") or [] if r.get("name") != OUT_OF_SCOPE]
    return {**parse, "intent": top, "intent_ranking": [top, *rest]}


async def parse_texts(model: str, texts: list[str]) -> list[dict[str, Any]]:
    from rasa.core.agent import Agent

    agent = Agent.load(model)
    return [before_gate(await agent.parse_message(t)) for t in texts]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--model", required=True)
    parser.add_argument(
        "--off-topic",
        nargs="+",
        default=["eval/offtopic_dev/off_topic.yml"],
        help="off-topic tuning sets (pooled)",
    )
    parser.add_argument(
        "--in-scope",
        default="heldout",
        help="the in-scope set under eval/: heldout (default) or citizen_dev (both tuning sets)",
    )
    parser.add_argument(
        "--thresholds", nargs="+", type=float, default=[0, 0.3, 0.4, 0.5, 0.6, 0.65, 0.7, 0.8]
    )
    parser.add_argument(
        "--faq-checks",
        nargs="+",
        default=[f"{ACCEPT['faq_threshold']}:{ACCEPT['faq_sure_confidence']}"],
        help="the FAQ check's settings to sweep, as faq_threshold:faq_sure_confidence",
    )
    parser.add_argument(
        "--exempt", nargs="*", default=None, help="intents never gated (default: the gate's)"
    )
    parser.add_argument(
        "--show",
        type=float,
        default=None,
        help="list the dev set's unhandled rows at this threshold",
    )
    args = parser.parse_args()
    if any(name in path for path in args.off_topic for name in ("city", "final", "citizen/")):
        parser.error("tune on the off-topic tuning sets only (never eval/city or eval/final)")
    try:
        checks = [tuple(float(v) for v in c.split(":")) for c in args.faq_checks]
    except ValueError:
        parser.error("--faq-checks: faq_threshold:faq_sure_confidence, e.g. 0.7:0.5")
    if any(len(c) != 2 for c in checks):
        parser.error("--faq-checks: faq_threshold:faq_sure_confidence, e.g. 0.7:0.5")
    if args.in_scope not in ("heldout", "citizen_dev"):
        parser.error("--in-scope: heldout or citizen_dev (the report sets are never tuned on)")
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)
    held = load_heldout(ROOT / "eval" / args.in_scope)
    domains = [pair for path in args.off_topic for pair in load_domains(ROOT / path)]
    parses = asyncio.run(parse_texts(args.model, [t for t, _, _ in held] + [t for _, t in domains]))
    held_parses, off_parses = parses[: len(held)], parses[len(held) :]
    policy = load_dialogue_policy(ROOT)
    exempt = frozenset(DEFAULT_EXEMPT if args.exempt is None else args.exempt)
    fallback = configured_threshold()
    print(
        "threshold | FAQ check | F1 | FAQ top-1 | oos rejected | in-scope rejected | "
        "dev handled | dev form | dev FAQ answers | dev other"
    )
    for t, (faq_threshold, faq_sure) in ((t, c) for t in args.thresholds for c in checks):
        rows = []
        for (text, gold, faq_id), parse in zip(held, held_parses, strict=True):
            p = gated(parse, t, exempt, faq_threshold, faq_sure)
            raw_intent, raw_conf = raw_prediction(p)
            faq_pred, faq_conf = faq_choice(p)
            rows.append(
                {
                    "text": text,
                    "gold": gold,
                    "faq_gold": faq_id,
                    "raw_intent": raw_intent,
                    "raw_conf": raw_conf,
                    "faq_pred": faq_pred,
                    "faq_conf": faq_conf,
                }
            )
        f = figures(rows, fallback, FAQ_MIN_CONFIDENCE)
        off_rows = []
        for (domain, text), parse in zip(domains, off_parses, strict=True):
            p = gated(parse, t, exempt, faq_threshold, faq_sure)
            intent = str((p.get("intent") or {}).get("name"))
            outcome = classify(
                intent, faq_choice(p)[1], policy, FAQ_MIN_CONFIDENCE, FAQ_ANSWER_CONFIDENCE
            )
            off_rows.append({"domain": domain, "text": text, "outcome": outcome, "intent": intent})
            if args.show == t and outcome not in ("fallback", "chit_chat"):
                p_hot = (parse.get(GATE_KEY) or {}).get("p_hotline")
                print(f"   [{outcome}] {intent} p_hotline={p_hot} ({domain}) {text}")
        o = off_topic_report(off_rows)["overall"]
        print(
            f"{t:.2f} | {faq_threshold:.2f}:{faq_sure:.2f} | "
            f"{f['intent_macro_f1']:.4f} | {f['faq_top1_accuracy']:.4f} | "
            f"{f['oos_rejection_rate']:.4f} | {f['in_scope_false_rejection_rate']:.4f} | "
            f"{o['handled_share']:.4f} | {o['form_share']:.4f} | {o['faq_answer']} "
            f"(+{o['faq_confirm']} confirmed) | "
            f"{o['other_share']:.4f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
