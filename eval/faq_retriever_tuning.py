"""The shipped FAQ retriever by retrieval alone, on the tuning sets only.

Trains hotline_rasa.faq_retriever.Retriever exactly as ``rasa train`` does
(the NLU data of data/ loaded by Rasa's importer, FaqRetriever.training_pairs:
the ``faq/<id>`` examples plus the catalog's phrasings; the config of
config.yml, prune and softmax scale included) and reports, per FAQ set
(eval/heldout, eval/citizen_dev, eval/inscope_probe): top-1 accuracy, the share
right with confidence >= 0.35 (answered at once), the share with top
confidence < 0.1; and over the off-topic tuning sets (eval/offtopic_dev*,
eval/offtopic_probe, the out_of_scope rows of heldout and citizen_dev) the
share with top confidence >= 0.35 / 0.5 / 0.7 / 0.85. Training seconds and
the pickled size (joblib, compress=3, as persisted).

citizen_dev is near its ceiling with the shipped catalog (0.985): phrasings
were added to the catalog after it was written. ``--blind`` adds a
generalisation check: train on the catalog of commit f3c5e85 (before any
citizen phrasing) and test on the 1,580 citizen phrasings written blind and
added by commit 9558251 (read with ``git show``; they are training data, not
an evaluation set).

``--set KEY=JSON`` overrides the retriever's config (repeatable); with
``--compare`` the baseline (config.yml) and the overridden config are run
and compared sentence by sentence.

Usage (Rasa environment):
    PYTHONPATH=. .venv-rasa/bin/python eval/faq_retriever_tuning.py [--blind] \\
        [--compare --set answer_weight=0.0 --set scale_per_log_entry=1.2]
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hotline_rasa.faq_retriever import FaqRetriever, Retriever, read_catalog  # noqa: E402

FAQ_SETS = ["heldout", "citizen_dev", "inscope_probe"]
OFF_SETS = ["offtopic_dev", "offtopic_dev2", "offtopic_dev3", "offtopic_probe"]
OOS_SETS = ["heldout", "citizen_dev"]
BLIND_BEFORE, BLIND_AFTER = "f3c5e85", "9558251"
ANSWERED, DECLINED = 0.35, 0.1


def rows(path: Path, prefix: str) -> list[tuple[str, str]]:
    """(sentence, intent) of every example whose intent starts with ``prefix``."""
    out = []
    for item in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu") or []:
        intent = str(item.get("intent") or "")
        if intent.startswith(prefix):
            for line in str(item.get("examples") or "").splitlines():
                if line.strip().startswith("- "):
                    out.append((line.strip()[2:].strip(), intent))
    return out


def component_config(overrides: dict[str, Any]) -> dict[str, Any]:
    pipeline = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))["pipeline"]
    config = next(c for c in pipeline if c["name"].endswith("faq_retriever.FaqRetriever"))
    return {k: v for k, v in {**config, **overrides}.items() if k != "name"}


def shipped_pairs() -> tuple[list[str], list[str], dict]:
    """The training pairs of ``rasa train`` (data/ loaded by Rasa's importer)."""
    from rasa.shared.importers.importer import TrainingDataImporter

    importer = TrainingDataImporter.load_from_dict(
        config_path=str(ROOT / "config.yml"),
        domain_path=str(ROOT / "domain.yml"),
        training_data_paths=[str(ROOT / "data")],
    )
    component = FaqRetriever(component_config({}), None, None)  # type: ignore[arg-type]
    return component.training_pairs(importer.get_nlu_data())


def catalog_at(commit: str) -> list[tuple[str, list[str], str]]:
    text = subprocess.run(  # noqa: S603 - git, with our own fixed arguments
        ["git", "-C", str(ROOT), "show", f"{commit}:data/knowledge/faq.yml"],  # noqa: S607
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    with tempfile.NamedTemporaryFile("w", suffix=".yml", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        return read_catalog(Path(handle.name))


def fit(texts: list[str], keys: list[str], responses: dict, overrides: dict[str, Any]) -> Any:
    import joblib

    component = FaqRetriever(component_config(overrides), None, None)  # type: ignore[arg-type]
    started = time.perf_counter()
    component._retriever = Retriever.fit(texts, keys, responses, component._config)
    seconds = time.perf_counter() - started
    buffer = io.BytesIO()
    joblib.dump(component._retriever, buffer, compress=3)
    return component, seconds, buffer.tell()


def measure(component: Any, faq: dict, off: list[str]) -> dict[str, Any]:
    import numpy as np

    retriever, scale = component._retriever, component.scale()
    out: dict[str, Any] = {}
    for name, items in faq.items():
        scores = retriever.scores([t for t, _ in items], scale)
        top, confidence = scores.argmax(axis=1), scores.max(axis=1)
        right = np.array([retriever.keys[i] == k for i, (_, k) in zip(top, items, strict=True)])
        out[name] = {
            "n": len(items),
            "right": right,
            "top1": right.mean(),
            "answered": (right & (confidence >= ANSWERED)).mean(),
            "declined": (confidence < DECLINED).mean(),
        }
    confidence = retriever.scores(off, scale).max(axis=1)
    out["off"] = {t: int((confidence >= t).sum()) for t in (0.35, 0.5, 0.7, 0.85)}
    out["off_n"] = len(off)
    return out


def report(label: str, result: dict, seconds: float, size: int) -> None:
    cells = "  ".join(
        f"{n} {r['top1']:.3f}/{r['answered']:.3f}/{r['declined']:.3f}"
        for n, r in result.items()
        if isinstance(r, dict) and "top1" in r
    )
    off = " ".join(f">={t}:{c}" for t, c in result["off"].items())
    print(
        f"{label:10s} {cells}  off-topic ({result['off_n']}) {off}  "
        f"{seconds:.1f} s {size / 1e6:.2f} MB",
        flush=True,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--set", action="append", default=[], metavar="KEY=JSON")
    parser.add_argument("--compare", action="store_true", help="config.yml against --set")
    parser.add_argument("--blind", action="store_true", help="the blind-phrasings check too")
    args = parser.parse_args()
    overrides = {k: json.loads(v) for k, v in (s.split("=", 1) for s in args.set)}
    faq = {n: [(t, i) for t, i in rows(ROOT / "eval" / n / "faq.yml", "faq/")] for n in FAQ_SETS}
    off = [
        t for n in OFF_SETS for t, _ in rows(ROOT / "eval" / n / "off_topic.yml", "out_of_scope")
    ]
    off += [
        t for n in OOS_SETS for t, _ in rows(ROOT / "eval" / n / "out_of_scope.yml", "out_of_scope")
    ]
    texts, keys, responses = shipped_pairs()
    print(
        f"training: {len(texts)} phrasings of {len(set(keys))} entries; "
        f"a/b/c = top-1 / right with confidence >= {ANSWERED} / top confidence < {DECLINED}"
    )
    runs = [("config.yml", {}), ("--set", overrides)] if args.compare else [("run", overrides)]
    protocols = [("shipped", texts, keys, faq)]
    if args.blind:
        before = {(t, f"faq/{i}") for i, ph, _ in catalog_at(BLIND_BEFORE) for t in ph}
        after = [(t, f"faq/{i}") for i, ph, _ in catalog_at(BLIND_AFTER) for t in ph]
        blind = [p for p in after if p not in before]
        old = sorted(before, key=lambda p: (p[1], p[0]))
        protocols.append(
            ("blind", [t for t, _ in old], [k for _, k in old], {**faq, "blind": blind})
        )
    for protocol, train_texts, train_keys, sets in protocols:
        print(f"-- {protocol}: {len(train_texts)} training phrasings")
        results = []
        for label, over in runs:
            component, seconds, size = fit(train_texts, train_keys, responses, over)
            results.append(measure(component, sets, off))
            report(label, results[-1], seconds, size)
        if args.compare:
            for name in sets:
                a, b = results[0][name]["right"], results[1][name]["right"]
                print(
                    f"   {name}: {int((~a & b).sum())} right only with --set, "
                    f"{int((a & ~b).sum())} only with config.yml (of {len(a)})"
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
