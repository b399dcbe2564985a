"""Which service does a request name? Measured on requests in the citizen's
own words (``eval/service_naming/<set>.yml``, issue 18).

Each case is ``{text, service}``: a request for one catalog service, mostly
without its official name. The trained model (the newest in models/, loaded as
scripts/evaluate.py loads it) parses every text; for each case the report has

- ``intent``: the intent after the whole pipeline;
- ``matcher``: the service the catalog's names and aliases name
  (hotline_rasa/service_names.py, ``bot.knowledge.match_service``'s rule);
- ``guess`` / ``confidence``: the service retriever's top class and its
  confidence (the parse's ``service_retriever`` key; None for "no service");
- ``final``: the service the guide starts with: the matcher's, else the
  retriever's ``service`` entity; none unless the intent is
  ``request_service_guide`` (any other intent does not start the guide).

Printed: % right (final == the case's service), matcher-only % (the matcher
alone, same intent rule: the figure before the retriever), % wrong service,
% none, the intents, and a sweep of the retriever's threshold. ``--refit
C=..,scale_per_log_entry=..`` retrains the retriever alone in this process
(the catalog and the NLU data, seconds) with other settings and sweeps again
over the same intents, to tune ``C`` and the scale without training Rasa.

Writes eval/report/service_naming/<set>.json.

Tune on ``dev`` only: ``test`` is a REPORT set, run once.

Usage (Rasa's environment)::

    PYTHONPATH=. .venv-rasa/bin/python eval/service_naming_report.py --set dev
    make evaluate-services
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

from actions.thresholds import FAQ_ANSWER_CONFIDENCE, MAX_OFF_TOPIC_FOR_OFFER  # noqa: E402
from hotline_rasa.service_names import load_service_names, named_service  # noqa: E402

SET_DIR = ROOT / "eval" / "service_naming"
REPORT_DIR = ROOT / "eval" / "report" / "service_naming"
CATALOG = ROOT / "data" / "knowledge" / "services.yml"
GUIDE_INTENT = "request_service_guide"
RETRIEVER_NAME = "ServiceRetriever"
SWEEP = [round(0.05 * i, 2) for i in range(0, 20)]


def load_cases(path: Path) -> list[dict[str, Any]]:
    """The set's cases ({text, service}); raises ValueError naming the bad case."""
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    cases = document.get("cases") if isinstance(document, dict) else None
    if not isinstance(cases, list) or not cases:
        raise ValueError(f"{path}: no 'cases' list")
    out = []
    for number, case in enumerate(cases, 1):
        if not isinstance(case, dict) or not str(case.get("text") or "").strip():
            raise ValueError(f"{path}: case {number} has no text")
        service = case.get("service")
        out.append(
            {"text": str(case["text"]).strip(), "service": str(service) if service else None}
        )
    return out


def configured(key: str, default: Any) -> Any:
    """A setting of the ServiceRetriever in config.yml."""
    config = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    for component in config.get("pipeline", []):
        if str(component.get("name", "")).endswith(RETRIEVER_NAME):
            return component.get(key, default)
    return default


def final_service(row: dict[str, Any], threshold: float | None) -> str | None:
    """The service the guide starts with: the matcher's, else the retriever's
    guess at ``threshold`` (None: the entity the model added), only for the
    guide's intent."""
    if row["intent"] != GUIDE_INTENT:
        return None
    if row["matcher"] is not None:
        return row["matcher"]
    if threshold is None:
        return row["entity"]
    if row["guess"] is not None and row["confidence"] >= threshold:
        return row["guess"]
    return None


def figures(rows: list[dict[str, Any]], threshold: float | None) -> dict[str, Any]:
    """% right, wrong, none of the final service (``final_service``)."""
    total = len(rows) or 1
    right = wrong = none = 0
    for row in rows:
        final = final_service(row, threshold)
        if final is None:
            none += 1
        elif final == row["gold"]:
            right += 1
        else:
            wrong += 1
    return {
        "right": round(100 * right / total, 1),
        "wrong": round(100 * wrong / total, 1),
        "none": round(100 * none / total, 1),
        "counts": {"right": right, "wrong": wrong, "none": none, "total": len(rows)},
    }


def offered(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Requests answered from the FAQ at once whose answer offers the guide of
    a service as a button (actions/guidance.py ``service_offer``): the right
    service / another one."""
    total = len(rows) or 1
    right = wrong = 0
    for row in rows:
        if (
            row["intent"] == "faq"
            and (row.get("faq_confidence") or 0.0) >= FAQ_ANSWER_CONFIDENCE
            and row.get("sure")
            and row["guess"] is not None
            and row.get("off_topic", 0.0) < MAX_OFF_TOPIC_FOR_OFFER
        ):
            if row["guess"] == row["gold"]:
                right += 1
            else:
                wrong += 1
    return {
        "right": round(100 * right / total, 1),
        "wrong": round(100 * wrong / total, 1),
        "counts": {"right": right, "wrong": wrong, "total": len(rows)},
    }


def matcher_only(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return figures([{**r, "guess": None, "entity": None} for r in rows], 2.0)


def report(rows: list[dict[str, Any]], threshold: float) -> dict[str, Any]:
    no_name = [r for r in rows if r["matcher"] is None]
    return {
        "cases": len(rows),
        "threshold": threshold,
        "with_retriever": figures(rows, None),
        "matcher_only": matcher_only(rows),
        "offered_with_faq_answer": offered(rows),
        "rescued": sum(r.get("rescued_from") is not None for r in rows),
        "intents": dict(Counter(r["intent"] for r in rows).most_common()),
        "matcher_named": round(100 * sum(r["matcher"] is not None for r in rows) / len(rows), 1),
        "retriever_top1_where_no_name": round(
            100 * sum(r["guess"] == r["gold"] for r in no_name) / len(no_name), 1
        )
        if no_name
        else None,
        "sweep": {str(t): figures(rows, t) for t in SWEEP},
    }


def format_report(name: str, result: dict[str, Any]) -> str:
    after, before = result["with_retriever"], result["matcher_only"]
    lines = [
        f"service naming, set {name}: {result['cases']} cases",
        f"  intents: {result['intents']}",
        f"  matcher names a service (any intent): {result['matcher_named']}%",
        f"  retriever's top guess right where the matcher names none: "
        f"{result['retriever_top1_where_no_name']}%",
        f"  matcher only:   right {before['right']}%  wrong {before['wrong']}%  "
        f"none {before['none']}%",
        f"  with retriever (threshold {result['threshold']}): right {after['right']}%  "
        f"wrong {after['wrong']}%  none {after['none']}%",
        f"    of them declined by DIET or the gate and rescued by the retriever: "
        f"{result['rescued']}",
        f"  answered from the FAQ with the guide offered as a button: right "
        f"{result['offered_with_faq_answer']['right']}%  wrong "
        f"{result['offered_with_faq_answer']['wrong']}%",
        "  threshold sweep (right / wrong / none %):",
    ]
    for threshold, f in result["sweep"].items():
        lines.append(f"    {threshold:>5}: {f['right']:5.1f} {f['wrong']:5.1f} {f['none']:5.1f}")
    return "\n".join(lines)


async def parse_sets(model: str, sets: list[list[dict[str, Any]]]) -> list[list[dict[str, Any]]]:
    """The rows of each set's cases, parsed by ``model`` (loaded once)."""
    from rasa.core.agent import Agent

    from hotline_rasa import lean

    lean.install()  # load the model as `python -m hotline_rasa run` serves it
    agent = Agent.load(model)
    return [await parse_all(agent, cases) for cases in sets]


async def parse_all(agent: Any, cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    names = load_service_names(CATALOG)
    rows = []
    for case in cases:
        parse = await agent.parse_message(case["text"])
        retriever = parse.get("service_retriever") or {}
        entity = next(
            (
                e.get("value")
                for e in parse.get("entities") or []
                if e.get("entity") == "service" and e.get("extractor") == RETRIEVER_NAME
            ),
            None,
        )
        rows.append(
            {
                "text": case["text"],
                "gold": case["service"],
                "intent": (parse.get("intent") or {}).get("name"),
                "matcher": named_service(case["text"], names),
                "guess": retriever.get("service"),
                "confidence": float(retriever.get("confidence") or 0.0),
                "sure": bool(retriever.get("sure")),
                "off_topic": float(retriever.get("off_topic") or 0.0),
                "rescued_from": retriever.get("rescued_from"),
                "entity": entity,
                # why the intent is what it is: the arbiter's turn, the FAQ retriever
                "arbiter_from": (parse.get("service_arbiter") or {}).get("from"),
                "faq_confidence": faq_confidence(parse),
            }
        )
    return rows


def refit(rows: list[dict[str, Any]], settings: str) -> list[dict[str, Any]]:
    """The rows with the guesses of a retriever retrained here with
    ``settings`` ("C=2,scale_per_log_entry=1.5"; the rest as config.yml)."""
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.shared.nlu.training_data.loading import load_data

    from hotline_rasa.service_retriever import ServiceRetriever

    config = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    base: dict[str, Any] = next(
        (c for c in config["pipeline"] if str(c.get("name", "")).endswith(RETRIEVER_NAME)), {}
    )
    overrides = {}
    for item in filter(None, settings.split(",")):
        key, value = item.split("=", 1)
        overrides[key.strip()] = value.strip() if value.strip() == "auto" else float(value)
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        component = ServiceRetriever.create(
            {k: v for k, v in {**base, **overrides}.items() if k != "name"},
            LocalModelStorage(Path(tmp)),
            Resource("service_retriever"),
            ExecutionContext(GraphSchema({}), "refit"),
        )
        component.train(load_data(str(ROOT / "data" / "nlu")))
        guesses = component.guess([r["text"] for r in rows])
    return [
        {**r, "guess": g, "confidence": c, "entity": None}
        for r, (g, c, _) in zip(rows, guesses, strict=True)
    ]


def faq_confidence(parse: dict[str, Any]) -> float | None:
    """The FAQ retriever's confidence in its top entry, or None."""
    response = ((parse.get("response_selector") or {}).get("faq") or {}).get("response") or {}
    value = response.get("confidence")
    return None if value is None else float(value)


def latest_model() -> str:
    models = list((ROOT / "models").glob("*.tar.gz"))
    if not models:
        raise SystemExit("no trained model in models/: run `make train`")
    return str(max(models, key=lambda p: p.stat().st_mtime))


def evaluate(name: str, rows: list[dict[str, Any]], refits: list[str], out: Path | None) -> None:
    """Print one set's figures and write its report."""
    threshold = float(configured("threshold", 0.5))
    result = report(rows, threshold)
    sys.stdout.write(format_report(name, result) + "\n")
    result["refits"] = {}
    for settings in refits:
        refitted = report(refit(rows, settings), threshold)
        refitted.pop("with_retriever")  # the entity is the model's, not the refit's
        result["refits"][settings] = refitted
        sys.stdout.write(
            f"refit {settings}: retriever's top guess right where no name "
            f"{refitted['retriever_top1_where_no_name']}%\n"
        )
        for t, f in refitted["sweep"].items():
            sys.stdout.write(f"    {t:>5}: {f['right']:5.1f} {f['wrong']:5.1f} {f['none']:5.1f}\n")
    result["false_guesses"] = [
        r for r in rows if r["matcher"] is None and r["entity"] not in (None, r["gold"])
    ]
    result["rows"] = rows
    out = out or REPORT_DIR / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    sys.stdout.write(f"report: {out}\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--set",
        nargs="+",
        default=["dev"],
        help="eval/service_naming/<set>.yml, one or more (default dev; test is the REPORT set)",
    )
    parser.add_argument("--model", help="a trained model (default: the newest in models/)")
    parser.add_argument(
        "--refit",
        action="append",
        default=[],
        help="retrain the retriever alone with these settings (C=..,scale_per_log_entry=..) "
        "and sweep again; may be repeated",
    )
    parser.add_argument(
        "--json", help="the report file (default eval/report/service_naming/<set>.json)"
    )
    args = parser.parse_args()
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)
    paths = [SET_DIR / f"{name}.yml" for name in args.set]
    for name, path in zip(args.set, paths, strict=True):
        if not path.is_file():
            parser.error(f"--set {name}: no file {path}")
    if args.json and len(paths) > 1:
        parser.error("--json takes one set")
    model = args.model or latest_model()
    sys.stdout.write(f"model: {model}\n")
    parsed = asyncio.run(parse_sets(model, [load_cases(path) for path in paths]))
    for name, rows in zip(args.set, parsed, strict=True):
        evaluate(name, rows, args.refit, Path(args.json) if args.json else None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
