"""Measure the assistant's language understanding on the held-out test set.

Trains (or reuses) the model from the training data, then parses every
sentence of two sets that were never trained on, written independently of the
training data: ``eval/heldout/`` (used to tune thresholds and to find weak
spots) and ``eval/final/`` (written after tuning, reported as the final
figures). For each it reports:

- intent macro-F1 over the in-scope intents (an FAQ counts as intent ``faq``),
- FAQ top-1 accuracy (intent ``faq`` and the right FAQ entry),
- out-of-scope rejection: share of off-topic sentences the assistant declines
  (predicted ``out_of_scope``, the NLU fallback, or an FAQ guess below the
  answer threshold), and the share of in-scope sentences wrongly declined,
- a sweep of the fallback threshold, to tune ``config.yml``.

Writes eval/report/<set>/report.json, confusion.md, confusion.png and
errors.json, and prints the figures.

``eval/citizen/`` (issue 18) is a report set of sentences as citizens type them
(typos, homophones, Cantonese, no punctuation); it has no out-of-scope file, so
the out-of-scope target does not apply to it. Its ``mixed.yml`` holds messages
that ask two things at once (eval/mixed.py): one counts as right when the answer
(the intent after the fallback and FAQ threshold, ``faq/<id>`` for an FAQ) is one
of its labels; the fraction right is reported (``mixed`` in report.json).

``eval/breadth/`` holds 3 phrasings for each of the 243 FAQ entries added to
the first 73 (the broad catalog, issue 18), written by authors who saw only
those entries' questions and answers; report only, FAQ sentences only.

``eval/citizen_dev/`` is a DEVELOPMENT set (tuning, never reported) in the
citizen style for the whole catalog: ``--sets citizen_dev``. It is not in the
default sets.

A set made of an ``off_topic.yml`` only (``eval/city/``: everyday messages of
25 domains, issue 18) gets the off-topic report instead (eval/off_topic.py):
per domain and overall, the share handled by the fallback or a chit-chat reply,
the share that would start a form, the share given an FAQ answer above
``FAQ_MIN_CONFIDENCE``, and the worst examples; written to
eval/report/<set>/off_topic.json.

Usage: ``make evaluate`` (builds the training data and trains first; sets heldout,
final, citizen and city), or
without retraining, against the model already in models/:
``make evaluate ARGS=--use-trained`` or ``make evaluate ARGS="--model models/<file>.tar.gz"``;
``ARGS="--use-trained --sets city"`` for the off-topic set alone,
``ARGS="--use-trained --sets citizen"`` for the citizen set.
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from actions.thresholds import (  # noqa: E402 - no app code in the Rasa env
    COMPLAINT_FROM_ANSWER,
    FAQ_ANSWER_CONFIDENCE,
    FAQ_MIN_CONFIDENCE,
    FAQ_SURE_OUT_OF_CONTEXT,
)
from eval.mixed import (  # noqa: E402 - plain Python, no app code
    MIXED_FILE,
    answer_label,
    load_mixed,
    mixed_report,
    nlu_files,
)
from eval.off_topic import (  # noqa: E402 - plain Python, no app code
    OUT_OF_CONTEXT_INTENTS,
    classify,
    format_report,
    load_dialogue_policy,
    load_domains,
    off_topic_report,
)
from hotline_rasa import lean  # noqa: E402 - Rasa env only, imports Rasa lazily

REPORT_DIR = ROOT / "eval" / "report"
REJECT = {"out_of_scope", "nlu_fallback"}


def load_heldout(folder: Path) -> list[tuple[str, str, str | None]]:
    """(text, intent, faq id or None) for every example of a set (not mixed.yml)."""
    from rasa.shared.nlu.training_data.loading import load_data

    rows = []
    for path in nlu_files(folder):
        for example in load_data(str(path)).intent_examples:
            intent = example.get("intent")
            faq_id = None
            key = example.get("intent_response_key") or ""
            if "/" in key:
                intent, faq_id = key.split("/", 1)
            rows.append((example.get("text"), intent, faq_id))
    return rows


def raw_prediction(parse: dict[str, Any]) -> tuple[str, float]:
    """The classifier's own top intent and confidence, before the fallback."""
    for item in parse.get("intent_ranking") or []:
        if item.get("name") != "nlu_fallback":
            return str(item["name"]), float(item.get("confidence") or 0.0)
    intent = parse.get("intent") or {}
    return str(intent.get("name")), float(intent.get("confidence") or 0.0)


def faq_choice(parse: dict[str, Any]) -> tuple[str | None, float]:
    response = ((parse.get("response_selector") or {}).get("faq") or {}).get("response") or {}
    key = response.get("intent_response_key") or ""
    return (key.split("/", 1)[1] if "/" in key else None), float(response.get("confidence") or 0)


def decide(row: dict[str, Any], threshold: float, faq_threshold: float) -> str:
    """What the assistant does with a message: an intent, or 'rejected'.

    A message the FAQ rescue (hotline_rasa/faq_rescue.py) turned from the fallback
    into ``faq`` is answered although DIET was below the threshold; the rescue fired
    at the configured threshold, so in the threshold sweep its rows are approximate."""
    if row["raw_intent"] in REJECT:
        return "rejected"
    if row["raw_conf"] < threshold and not (row.get("rescued") and row["raw_intent"] == "faq"):
        return "rejected"
    if row["raw_intent"] == "faq" and row["faq_conf"] < faq_threshold:
        return "rejected"
    return str(row["raw_intent"])


def answered_as_first_message(row: dict[str, Any]) -> bool:
    """Whether an FAQ question gets its right entry as a citizen's first
    message: decided ``faq`` (as in FAQ top-1), or read as a form's answer or
    a change with the retriever sure (>= FAQ_SURE_OUT_OF_CONTEXT) and, for a
    form's answer, not taken for a complaint (COMPLAINT_FROM_ANSWER first), or
    taken for a complaint by the complaint arbiter from an FAQ guess the
    retriever was sure of (the complaint's opening gives that entry's answer
    first, actions/complaints.py ``_rules_of_the_subject``)."""
    if row["faq_pred"] != row["faq_gold"]:
        return False
    if row["decision"] == "faq":
        return True
    if row["decision"] == "complain" and row.get("complaint_from") == "faq":
        return row["faq_conf"] >= FAQ_SURE_OUT_OF_CONTEXT
    p = row.get("complaint_p")
    told_a_problem = row["decision"] == "inform" and p is not None and p >= COMPLAINT_FROM_ANSWER
    return (
        row["decision"] in OUT_OF_CONTEXT_INTENTS
        and row["faq_conf"] >= FAQ_SURE_OUT_OF_CONTEXT
        and not told_a_problem
    )


def macro_f1(gold: list[str], pred: list[str], labels: list[str]) -> float:
    scores = []
    for label in labels:
        tp = sum(g == p == label for g, p in zip(gold, pred, strict=True))
        fp = sum(p == label and g != label for g, p in zip(gold, pred, strict=True))
        fn = sum(g == label and p != label for g, p in zip(gold, pred, strict=True))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        scores.append(2 * precision * recall / (precision + recall) if precision + recall else 0)
    return sum(scores) / len(scores) if scores else 0.0


def figures(rows: list[dict[str, Any]], threshold: float, faq_threshold: float) -> dict[str, Any]:
    in_scope = [r for r in rows if r["gold"] != "out_of_scope"]
    oos = [r for r in rows if r["gold"] == "out_of_scope"]
    for r in rows:
        r["decision"] = decide(r, threshold, faq_threshold)
    labels = sorted({r["gold"] for r in in_scope})
    faq_rows = [r for r in in_scope if r["gold"] == "faq"]
    faq_hits = sum(r["decision"] == "faq" and r["faq_pred"] == r["faq_gold"] for r in faq_rows)
    # FAQ guesses below the answer threshold are named for the citizen to
    # confirm (actions/faq.py): counted above like answers (the entry is the
    # same, one click away), and here on their own
    confirmed = [
        r for r in in_scope if r["decision"] == "faq" and r["faq_conf"] < FAQ_ANSWER_CONFIDENCE
    ]
    at_once = sum(
        r["decision"] == "faq"
        and r["faq_pred"] == r["faq_gold"]
        and r["faq_conf"] >= FAQ_ANSWER_CONFIDENCE
        for r in faq_rows
    )
    return {
        "threshold": threshold,
        "faq_threshold": faq_threshold,
        "in_scope_examples": len(in_scope),
        "out_of_scope_examples": len(oos),
        "intent_macro_f1": round(
            macro_f1([r["gold"] for r in in_scope], [r["decision"] for r in in_scope], labels), 4
        ),
        "faq_examples": len(faq_rows),
        "faq_top1_accuracy": round(faq_hits / len(faq_rows), 4) if faq_rows else None,
        "oos_rejection_rate": round(sum(r["decision"] == "rejected" for r in oos) / len(oos), 4)
        if oos
        else None,
        "in_scope_false_rejection_rate": round(
            sum(r["decision"] == "rejected" for r in in_scope) / len(in_scope), 4
        ),
        "faq_top1_answered_at_once": round(at_once / len(faq_rows), 4) if faq_rows else None,
        # the FAQ questions as first messages, with the dialogue's answer to a
        # sure FAQ read as a form's answer or a change (no form, no complaint)
        "faq_top1_first_message": round(
            sum(answered_as_first_message(r) for r in faq_rows) / len(faq_rows), 4
        )
        if faq_rows
        else None,
        "in_scope_confirmed": len(confirmed),
        "in_scope_confirmed_right": sum(
            r["gold"] == "faq" and r["faq_pred"] == r["faq_gold"] for r in confirmed
        ),
        "oos_confirmed": sum(
            r["decision"] == "faq" and r["faq_conf"] < FAQ_ANSWER_CONFIDENCE for r in oos
        ),
    }


async def parse_all(model: str, rows: list[tuple[str, str, str | None]]) -> list[dict[str, Any]]:
    from rasa.core.agent import Agent

    lean.install()  # load the model as `python -m hotline_rasa run` serves it
    agent = Agent.load(model)
    out = []
    for text, intent, faq_id in rows:
        parse = await agent.parse_message(text)
        raw_intent, raw_conf = raw_prediction(parse)
        faq_pred, faq_conf = faq_choice(parse)
        out.append(
            {
                "text": text,
                "gold": intent,
                "faq_gold": faq_id,
                "raw_intent": raw_intent,
                "raw_conf": raw_conf,
                "faq_pred": faq_pred,
                "faq_conf": faq_conf,
                "rescued": bool(parse.get("faq_rescue")),
                "complaint_p": (parse.get("complaint") or {}).get("p"),
                "complaint_from": (parse.get("complaint_arbiter") or {}).get("from"),
            }
        )
    return out


def configured_threshold() -> float:
    import yaml

    config = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    for component in config.get("pipeline", []):
        if component.get("name") == "FallbackClassifier":
            return float(component.get("threshold", 0.3))
    return 0.0


def write_reports(rows: list[dict[str, Any]], result: dict[str, Any], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(
        json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    labels = sorted({r["gold"] for r in rows} | {"rejected"})
    counts = Counter((r["gold"], r["decision"]) for r in rows)
    lines = ["| gold \\ predicted | " + " | ".join(labels) + " |", "|---" * (len(labels) + 1) + "|"]
    for gold in labels:
        if not any(r["gold"] == gold for r in rows):
            continue
        lines.append(
            f"| {gold} | " + " | ".join(str(counts[(gold, p)] or "") for p in labels) + " |"
        )
    (out / "confusion.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    errors = [
        r
        for r in rows
        if (
            r["decision"] != r["gold"]
            and not (r["gold"] == "out_of_scope" and r["decision"] == "rejected")
        )
        or (r["gold"] == "faq" and r["faq_pred"] != r["faq_gold"])
    ]
    (out / "errors.json").write_text(
        json.dumps(errors, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    _plot(labels, counts, rows, out)


def _plot(labels: list[str], counts: Counter, rows: list[dict[str, Any]], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    gold_labels = [g for g in labels if any(r["gold"] == g for r in rows)]
    matrix = [[counts[(g, p)] for p in labels] for g in gold_labels]
    fig, ax = plt.subplots(figsize=(12, 9))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=70, fontsize=8)
    ax.set_yticks(range(len(gold_labels)), gold_labels, fontsize=8)
    for i, row in enumerate(matrix):
        for j, value in enumerate(row):
            if value:
                ax.text(j, i, str(value), ha="center", va="center", fontsize=7)
    ax.set_xlabel("predicted (after fallback and FAQ threshold)")
    ax.set_ylabel("gold")
    fig.tight_layout()
    fig.savefig(out / "confusion.png", dpi=110)


TARGETS = {"intent_macro_f1": 0.90, "faq_top1_accuracy": 0.90, "oos_rejection_rate": 0.90}
MAX_FALSE_REJECTION = 0.05


def evaluate_set(model: str, folder: Path, name: str) -> tuple[dict[str, Any], bool]:
    """Figures for one evaluation set, its report files, and whether targets are met."""
    examples = load_heldout(folder)
    mixed = load_mixed(folder / MIXED_FILE) if (folder / MIXED_FILE).is_file() else []
    parsed = asyncio.run(parse_all(model, examples + [(m.text, "", None) for m in mixed]))
    rows, mixed_parsed = parsed[: len(examples)], parsed[len(examples) :]
    threshold = configured_threshold()
    result = figures(rows, threshold, FAQ_MIN_CONFIDENCE)
    result["set"] = name
    result["model"] = Path(model).name
    result["sweep"] = [
        figures([dict(r) for r in rows], t / 100, f / 100)
        for t in range(20, 85, 5)
        for f in (10, 15, 20, 25, 30, 35)
    ]
    figures(rows, threshold, FAQ_MIN_CONFIDENCE)  # restore decisions for the report
    if mixed:
        result["mixed"] = mixed_report(
            [
                {
                    "text": m.text,
                    "labels": m.labels,
                    "answer": answer_label(decide(p, threshold, FAQ_MIN_CONFIDENCE), p["faq_pred"]),
                }
                for m, p in zip(mixed, mixed_parsed, strict=True)
            ]
        )
    write_reports(rows, result, REPORT_DIR / name)
    sys.stdout.write(
        f"[{name}] {result['in_scope_examples']} in-scope, "
        f"{result['out_of_scope_examples']} out-of-scope sentences "
        f"(fallback threshold {threshold}, FAQ threshold {FAQ_MIN_CONFIDENCE})\n"
    )
    ok = True
    for key, target in TARGETS.items():
        value = result[key]
        if key == "oos_rejection_rate" and not result["out_of_scope_examples"]:
            sys.stdout.write(f"  {key:32s} n/a (no out-of-scope sentences in this set)\n")
            continue
        ok &= value is not None and value >= target
        sys.stdout.write(f"  {key:32s} {value}  (target >= {target})\n")
    false_rej = result["in_scope_false_rejection_rate"]
    ok &= false_rej <= MAX_FALSE_REJECTION
    sys.stdout.write(
        f"  {'in_scope_false_rejection_rate':32s} {false_rej}  (target <= {MAX_FALSE_REJECTION})\n"
    )
    sys.stdout.write(
        f"  {'faq_top1_answered_at_once':32s} {result['faq_top1_answered_at_once']}  "
        f"(FAQ guesses below {FAQ_ANSWER_CONFIDENCE} are confirmed first: in scope "
        f"{result['in_scope_confirmed']}, {result['in_scope_confirmed_right']} of them the "
        f"right entry; out of scope {result['oos_confirmed']})\n"
    )
    if result["faq_top1_first_message"] is not None:
        sys.stdout.write(
            f"  {'faq_top1_first_message':32s} {result['faq_top1_first_message']}  "
            f"(as a first message: also a sure FAQ (>= {FAQ_SURE_OUT_OF_CONTEXT}) read as "
            f"a form's answer or a change, which the dialogue answers, or taken for a "
            f"complaint, whose opening gives its answer first)\n"
        )
    if mixed:
        report = result["mixed"]
        sys.stdout.write(
            f"  {'mixed_fraction_right':32s} {report['fraction_right']}  "
            f"({report['right']} of {report['messages']} two-question messages answered "
            f"with one of their labels; {report['rejected']} declined; no target)\n"
        )
    return result, ok


OFF_TOPIC_FILE = "off_topic.yml"


def is_off_topic_set(folder: Path) -> bool:
    return (folder / OFF_TOPIC_FILE).is_file() and not (folder / "faq.yml").exists()


async def parse_off_topic(model: str, path: Path) -> list[dict[str, Any]]:
    """Parse every sentence of an off-topic set; each row with its domain and
    the intent the dialogue sees (after the FallbackClassifier)."""
    from rasa.core.agent import Agent
    from rasa.shared.nlu.training_data.loading import load_data

    domains = load_domains(path)
    texts = [m.get("text") for m in load_data(str(path)).intent_examples]
    if len(texts) != len(domains):
        raise SystemExit(
            f"{path}: {len(texts)} examples for Rasa but {len(domains)} under domain comments"
        )
    lean.install()  # load the model as `python -m hotline_rasa run` serves it
    agent = Agent.load(model)
    rows = []
    for (domain, _), text in zip(domains, texts, strict=True):
        parse = await agent.parse_message(text)
        raw_intent, raw_conf = raw_prediction(parse)
        faq_pred, faq_conf = faq_choice(parse)
        intent = parse.get("intent") or {}
        rows.append(
            {
                "domain": domain,
                "text": text,
                "intent": str(intent.get("name")),
                "confidence": float(intent.get("confidence") or 0.0),
                "raw_intent": raw_intent,
                "raw_conf": raw_conf,
                "faq_pred": faq_pred,
                "faq_conf": faq_conf,
                "complaint_p": (parse.get("complaint") or {}).get("p"),
            }
        )
    return rows


def evaluate_off_topic_set(model: str, folder: Path, name: str) -> tuple[dict[str, Any], bool]:
    """The off-topic report of one set, its report file, and whether targets are met."""
    rows = asyncio.run(parse_off_topic(model, folder / OFF_TOPIC_FILE))
    policy = load_dialogue_policy(ROOT)
    for row in rows:
        row["outcome"] = classify(
            row["intent"],
            row["faq_conf"],
            policy,
            FAQ_MIN_CONFIDENCE,
            FAQ_ANSWER_CONFIDENCE,
            complaint_p=row["complaint_p"],
            complaint_from_answer=COMPLAINT_FROM_ANSWER,
            faq_sure_out_of_context=FAQ_SURE_OUT_OF_CONTEXT,
        )
    result = off_topic_report(rows)
    result.update(
        {
            "set": name,
            "model": Path(model).name,
            "fallback_threshold": configured_threshold(),
            "faq_threshold": FAQ_MIN_CONFIDENCE,
            "faq_answer_threshold": FAQ_ANSWER_CONFIDENCE,
            "form_intents": {k: sorted(v) for k, v in policy.form_intents.items()},
            "chit_chat_intents": sorted(policy.chit_chat_intents),
        }
    )
    out = REPORT_DIR / name
    out.mkdir(parents=True, exist_ok=True)
    (out / "off_topic.json").write_text(
        json.dumps(result | {"rows": rows}, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    sys.stdout.write(
        f"[{name}] {result['overall']['sentences']} off-topic sentences in "
        f"{len(result['domains'])} domains (fallback threshold {result['fallback_threshold']}, "
        f"FAQ threshold {FAQ_MIN_CONFIDENCE}, answered at once from {FAQ_ANSWER_CONFIDENCE})\n"
        f"  form intents: {', '.join(result['form_intents'])}\n"
        f"  chit-chat intents: {', '.join(result['chit_chat_intents'])}\n"
        + format_report(result)
        + "\n"
    )
    return result, bool(result["targets_met"])


def latest_model() -> str:
    models = list((ROOT / "models").glob("*.tar.gz"))
    if not models:
        raise SystemExit("no trained model in models/: run `make train` or `make evaluate`")
    return str(max(models, key=lambda p: p.stat().st_mtime))


def stale_model_warning(model: str) -> str | None:
    """A warning when models/ says (``.trained-<fingerprint>``, scripts/train.py)
    that ``model`` was not trained on this checkout's config, domain and data."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("_train", ROOT / "scripts" / "train.py")
    assert spec is not None and spec.loader is not None
    train = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train)
    fingerprint = train.inputs_hash(ROOT / "config.yml", ROOT)
    stamp = Path(model).parent / f".trained-{fingerprint}"
    if stamp.is_file() and stamp.read_text(encoding="utf-8").strip() == Path(model).name:
        return None
    return (
        f"WARNING: {Path(model).name} is not stamped as trained on this checkout's data "
        f"(no {stamp.name} naming it in {Path(model).parent}): the figures may be another "
        "model's; `make evaluate` without ARGS trains first"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--model", help="a trained model (default: train/reuse models/)")
    which.add_argument(
        "--use-trained",
        action="store_true",
        help="the newest model in models/, without building the data or training",
    )
    parser.add_argument(
        "--sets",
        nargs="+",
        default=["heldout", "final", "citizen", "breadth", "city"],
        help="folders under eval/: heldout (tuning), final (reported once), "
        "citizen (as citizens type, report only), breadth (the FAQ entries "
        "beyond the first 73, report only), citizen_dev (citizen style, all "
        "entries, development/tuning), city (off topic)",
    )
    args = parser.parse_args()
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)  # not one debug line per parsed sentence
    for name in args.sets:
        if not (ROOT / "eval" / name).is_dir():
            parser.error(f"--sets {name}: no folder eval/{name}")
    model = args.model
    if args.use_trained:
        model = latest_model()
    elif model is not None and not Path(model).is_file():
        parser.error(f"--model {model}: no such file")
    if model is None:
        import subprocess

        # The training data is built by the app environment (bot.knowledge),
        # the model by this one (Rasa).
        app_python = ROOT / ".venv" / "bin" / "python"
        build = ROOT / "scripts" / "build_training_data.py"
        subprocess.run([str(app_python), str(build)], check=True)
        subprocess.run([sys.executable, str(ROOT / "scripts" / "train.py")], check=True)
        model = latest_model()
    sys.stdout.write(f"model: {model}\n")
    warning = stale_model_warning(model)
    if warning:
        sys.stdout.write(warning + "\n")
    ok = True
    for name in args.sets:
        folder = ROOT / "eval" / name
        if is_off_topic_set(folder):
            _, set_ok = evaluate_off_topic_set(model, folder, name)
        else:
            _, set_ok = evaluate_set(model, folder, name)
        ok &= set_ok
    sys.stdout.write(
        f"reports: {REPORT_DIR}/<set>/report.json, confusion.md, confusion.png, off_topic.json\n"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
