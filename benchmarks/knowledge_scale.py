"""Training time, model size, Rasa's memory and parse latency by FAQ catalog size
(issue 18, "Scale").

For each level (default: the shipped catalog's size, 300 and 2,000 entries)
this builds a project tree in a temporary directory, trains it and measures the
model as production serves it:

1. **Data.** ``config.yml``, ``domain.yml`` and ``data/`` are copied, except
   ``data/nlu/generated_faq.yml``. ``data/knowledge/faq.yml`` is the shipped
   catalog as is at its own size, else the catalog of
   ``scripts/synthetic_catalog.py`` (the shipped entries, then SYNTHETIC ones up
   to the level; never content). The generated training data are then written
   by scripts/build_training_data.py's own functions (``write``: ``build_faq``,
   ``build_services``, ``render``) with the real ``services.yml``.
2. **Training.** ``scripts/train.py --root <tree> --force`` in the Rasa
   environment: ``rasa.api.train`` with the lean save of shipped models
   (:mod:`hotline_rasa.lean`), the project's ``config.yml`` unchanged, Rasa's
   training cache off (``RASA_MAX_CACHE_SIZE=0``: every component trains, as
   after a catalog change the first time). Reported: the wall seconds of the
   whole command (what ``make train`` costs, start-up included) and the peak
   RSS of its processes.
3. **Serving.** ``benchmarks/rasa_memory.py``'s ``measure``: Rasa started as
   production starts it, the archive's size, RSS after loading and after
   ``--warmup`` + ``--parses`` messages (eval/heldout, every kind) to
   ``/model/parse``, and the parse p50/p99 of the ``--parses`` (the warm-up
   parses' latencies, the first building TensorFlow's graphs, are in the JSON).

The targets of issue 18 are printed next to the figures: with the shipped
knowledge, model <= 60 MB and Rasa <= 1.3 GB; at 2,000 entries training <= 20
minutes, Rasa <= 1.6 GB and parse p50 <= 50 ms. MB and GB are decimal (10^6,
10^9 bytes) and compared with the measured MiB (2^20 bytes, as ``ps`` counts),
so a PASS holds in either reading. "Rasa" is the larger of its RSS after
loading and after the parses (process and children).

``--epochs N`` is for SMOKE RUNS ONLY: it sets every ``epochs`` of the
pipeline and policies to N, the run is labelled SMOKE and the training-time
target is not checked. Reported runs use config.yml unchanged.

Usage (app environment; ``make knowledge-scale ARGS="..."``)::

    .venv/bin/python benchmarks/knowledge_scale.py [--levels 73 300 2000] [--json out.json]

The 2,000 level trains for many minutes on 2 cores: run it on a quiet machine.
Logs (training, Rasa) are kept in var/knowledge-scale/.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.benchmark_procs import RASA_VENV_BIN, SCRUBBED_ENV, rss_mb  # noqa: E402
from benchmarks.rasa_memory import MIB, measure, stop_group  # noqa: E402
from bot.knowledge import read_faq  # noqa: E402
from bot.knowledge_editor.scripts import script  # noqa: E402

REAL_FAQ = ROOT / "data" / "knowledge" / "faq.yml"
LOG_DIR = ROOT / "var" / "knowledge-scale"
SCALE_LEVELS = (300, 2000)
#: The level name of the targets that hold for the shipped catalog.
SHIPPED = "shipped"
TRAIN_POLL_SECONDS = 1.0
STOP_GRACE = 15.0
_TOOK = re.compile(r"^training took ([0-9.]+) s$", re.MULTILINE)


@dataclass(frozen=True)
class Target:
    """A figure's limit at one level (``"shipped"`` or a number of entries)."""

    name: str
    level: str | int
    metric: str
    limit: float  # in the metric's unit: MiB, seconds, ms
    label: str  # as issue 18 writes it
    depends_on_epochs: bool = False  # not checked in a smoke run


TARGETS: tuple[Target, ...] = (
    Target("model archive", SHIPPED, "model_mib", 60e6 / MIB, "<= 60 MB"),
    Target("Rasa RSS", SHIPPED, "rasa_rss_mib", 1.3e9 / MIB, "<= 1.3 GB"),
    Target("training time", 2000, "train_seconds", 20 * 60, "<= 20 min", True),
    Target("Rasa RSS", 2000, "rasa_rss_mib", 1.6e9 / MIB, "<= 1.6 GB"),
    Target("parse p50", 2000, "parse_p50_ms", 50.0, "<= 50 ms"),
)


@dataclass(frozen=True)
class Check:
    target: Target
    level: int | None  # the measured level it applies to (None: not measured)
    value: float | None
    status: str  # PASS, FAIL, "not measured", "not checked (smoke)"


def shipped_size(path: Path = REAL_FAQ) -> int:
    return len(read_faq(path))


def default_levels(shipped: int) -> list[int]:
    return sorted({shipped, *SCALE_LEVELS})


def target_level(target: Target, shipped: int) -> int:
    return shipped if target.level == SHIPPED else int(target.level)


def check_targets(results: Sequence[dict[str, Any]], shipped: int, smoke: bool) -> list[Check]:
    """Each target against the figures of its level (when that level was run)."""
    by_level = {int(r["entries"]): r for r in results}
    checks = []
    for target in TARGETS:
        level = target_level(target, shipped)
        result = by_level.get(level)
        value = None if result is None else result.get(target.metric)
        if result is None or value is None:
            checks.append(Check(target, None, None, "not measured"))
        elif smoke and target.depends_on_epochs:
            checks.append(Check(target, level, float(value), "not checked (smoke)"))
        else:
            status = "PASS" if float(value) <= target.limit else "FAIL"
            checks.append(Check(target, level, float(value), status))
    return checks


#: The table's columns: header, result key, format.
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("entries", "entries", "{:d}"),
    ("synthetic", "synthetic_entries", "{:d}"),
    ("NLU examples", "nlu_examples", "{:d}"),
    ("train s", "train_seconds", "{:.0f}"),
    ("train peak MiB", "train_peak_rss_mib", "{:.0f}"),
    ("model MiB", "model_mib", "{:.1f}"),
    ("RSS loaded MiB", "rss_loaded_mib", "{:.0f}"),
    ("RSS parsed MiB", "rss_after_parses_mib", "{:.0f}"),
    ("p50 ms", "parse_p50_ms", "{:.1f}"),
    ("p99 ms", "parse_p99_ms", "{:.1f}"),
)


def _cell(value: Any, fmt: str) -> str:
    if value is None:
        return "-"
    return fmt.format(int(value) if fmt == "{:d}" else float(value))


def format_table(results: Sequence[dict[str, Any]]) -> str:
    """The figures, one row per level, right-aligned columns."""
    rows = [[header for header, _, _ in COLUMNS]]
    rows += [[_cell(r.get(key), fmt) for _, key, fmt in COLUMNS] for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    lines = [
        "  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True))
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def _unit(metric: str) -> str:
    return {"train_seconds": "s", "parse_p50_ms": "ms"}.get(metric, "MiB")


def format_checks(checks: Sequence[Check], shipped: int) -> str:
    """One line per target: what, at which level, measured, limit, verdict."""
    lines = []
    for check in checks:
        target = check.target
        level = target_level(target, shipped)
        where = (
            f"shipped knowledge ({level} entries)"
            if target.level == SHIPPED
            else f"{level:,} entries"
        )
        unit = _unit(target.metric)
        value = "-" if check.value is None else f"{check.value:,.1f} {unit}"
        limit = f"{target.label} ({target.limit:,.1f} {unit})"
        lines.append(f"  {target.name + ', ' + where:<45} {value:>12}  {limit:<28} {check.status}")
    return "\n".join(lines)


def smoke_config(config: Path, epochs: int) -> str:
    """``config.yml`` with every ``epochs`` set to ``epochs`` (smoke runs only)."""
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    for section in ("pipeline", "policies"):
        for component in data.get(section) or []:
            if "epochs" in component:
                component["epochs"] = epochs
    header = f"# SMOKE RUN of benchmarks/knowledge_scale.py: epochs set to {epochs}.\n"
    return header + yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def count_nlu_examples(nlu_dir: Path) -> int:
    """The intents' examples in every ``*.yml`` under ``nlu_dir`` (what DIET trains on)."""
    total = 0
    for path in sorted(nlu_dir.rglob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for item in data.get("nlu") or []:
            if not isinstance(item, dict) or "intent" not in item:
                continue  # regexes, lookups, synonyms
            examples = item.get("examples")
            if isinstance(examples, str):
                total += sum(1 for line in examples.splitlines() if line.lstrip().startswith("- "))
    return total


def build_tree(
    tree: Path, entries: int, shipped: int, seed: int, epochs: int | None = None
) -> dict[str, int]:
    """The project tree to train for a catalog of ``entries``; returns its counts."""
    tree.mkdir(parents=True, exist_ok=True)
    if epochs is None:
        shutil.copy2(ROOT / "config.yml", tree / "config.yml")
    else:
        (tree / "config.yml").write_text(smoke_config(ROOT / "config.yml", epochs), "utf-8")
    shutil.copy2(ROOT / "domain.yml", tree / "domain.yml")
    shutil.copytree(
        ROOT / "data",
        tree / "data",
        ignore=shutil.ignore_patterns("generated_faq.yml", ".editor.lock"),
    )
    knowledge = tree / "data" / "knowledge"
    if entries != shipped:  # the shipped catalog stays as it is at its own size
        script("synthetic_catalog").write_catalog(knowledge / "faq.yml", entries, seed, REAL_FAQ)
    script("build_training_data").write(knowledge, tree / "data" / "nlu")
    catalog = read_faq(knowledge / "faq.yml")
    return {
        "entries": len(catalog),
        "synthetic_entries": sum(1 for e in catalog if e.startswith("syn_")),
        "nlu_examples": count_nlu_examples(tree / "data" / "nlu"),
    }


def train(tree: Path, log_path: Path) -> dict[str, Any]:
    """Train ``tree`` with scripts/train.py in the Rasa environment; returns the
    model, the wall seconds, Rasa's own training seconds and the peak RSS."""
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED_ENV}
    env.update(
        PYTHONPATH=str(ROOT),
        RASA_TELEMETRY_ENABLED="false",
        RASA_MAX_CACHE_SIZE="0",  # no cached component: every one trains
        TF_CPP_MIN_LOG_LEVEL="2",
    )
    argv = [
        str(RASA_VENV_BIN / "python"), str(ROOT / "scripts" / "train.py"),
        "--root", str(tree), "--force", "--keep", "1",
    ]  # fmt: skip
    peak = 0.0
    with log_path.open("wb") as log_file:
        start = time.monotonic()
        proc = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            argv,
            cwd=tree,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            while proc.poll() is None:
                peak = max(peak, rss_mb(proc.pid))
                time.sleep(TRAIN_POLL_SECONDS)
        finally:
            stop_group(proc)
        seconds = time.monotonic() - start
    if proc.returncode != 0:
        raise SystemExit(f"training failed (exit {proc.returncode}); see {log_path}")
    models = sorted((tree / "models").glob("*.tar.gz"))
    if len(models) != 1:
        raise SystemExit(f"expected one model in {tree / 'models'}, found {len(models)}")
    took = _TOOK.search(log_path.read_text(encoding="utf-8", errors="replace"))
    return {
        "model": models[0],
        "train_seconds": round(seconds, 1),
        "rasa_train_seconds": float(took.group(1)) if took else None,
        "train_peak_rss_mib": round(peak, 1),
    }


def run_level(
    entries: int,
    shipped: int,
    args: argparse.Namespace,
    say: Callable[[str], None],
) -> dict[str, Any]:
    """Build, train and measure one level; the temporary tree is removed unless kept."""
    tree = Path(tempfile.mkdtemp(prefix=f"knowledge-scale-{entries}-"))
    try:
        say(f"[{entries}] building the training data in {tree}")
        counts = build_tree(tree, entries, shipped, args.seed, args.epochs)
        say(
            f"[{entries}] {counts['entries']} entries ({counts['synthetic_entries']} synthetic), "
            f"{counts['nlu_examples']} NLU examples; training (see {args.logs}/{entries}-train.log)"
        )
        trained = train(tree, args.logs / f"{entries}-train.log")
        say(f"[{entries}] trained in {trained['train_seconds']:.0f} s; starting Rasa to measure")
        served = measure(
            trained["model"],
            args.parses,
            args.timeout,
            args.logs / f"{entries}-rasa.log",
            warmup=args.warmup,
        )
        served.pop("model", None)
        result: dict[str, Any] = {**counts, **trained, **served}
        result["model"] = trained["model"].name
        result["rasa_rss_mib"] = max(served["rss_loaded_mib"], served["rss_after_parses_mib"])
        result["shipped_catalog"] = entries == shipped
        say(
            f"[{entries}] model {result['model_mib']} MiB, Rasa {result['rasa_rss_mib']} MiB, "
            f"p50 {result['parse_p50_ms']} ms"
        )
        return result
    finally:
        if args.keep_trees:
            say(f"[{entries}] kept {tree}")
        else:
            shutil.rmtree(tree, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    shipped = shipped_size()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--levels",
        type=int,
        nargs="+",
        default=default_levels(shipped),
        help=f"catalog sizes in entries (default: {' '.join(map(str, default_levels(shipped)))})",
    )
    parser.add_argument("--parses", type=int, default=200, help="messages to parse (default 200)")
    parser.add_argument(
        "--warmup",
        type=int,
        default=3,
        help="parses before the timed ones, reported apart (default 3: the first builds graphs)",
    )
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds to wait for loading")
    parser.add_argument("--seed", type=int, default=18, help="the synthetic catalog's seed")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--logs", type=Path, default=LOG_DIR, help="training and Rasa logs")
    parser.add_argument("--keep-trees", action="store_true", help="keep the temporary trees")
    parser.add_argument(
        "--epochs",
        type=int,
        help="SMOKE RUNS ONLY: every epochs of config.yml set to this (training time invalid)",
    )
    args = parser.parse_args(argv)
    if args.parses < 1 or args.warmup < 0:
        parser.error("--parses must be at least 1, --warmup at least 0")
    if args.epochs is not None and args.epochs < 1:
        parser.error("--epochs must be at least 1")
    most = shipped + script("synthetic_catalog").capacity()
    if any(not 1 <= level <= most for level in args.levels):
        parser.error(f"levels must be between 1 and {most} entries")
    args.logs.mkdir(parents=True, exist_ok=True)
    smoke = args.epochs is not None

    def say(text: str) -> None:
        sys.stderr.write(text + "\n")
        sys.stderr.flush()

    if smoke:
        say(f"SMOKE RUN: epochs set to {args.epochs}; training times are not the reported figures")
    started = dt.datetime.now(dt.UTC)
    load_before = os.getloadavg()
    results = [run_level(level, shipped, args, say) for level in dict.fromkeys(args.levels)]
    checks = check_targets(results, shipped, smoke)

    title = "Knowledge scale" + (f" - SMOKE RUN (epochs {args.epochs})" if smoke else "")
    print(f"{title}: FAQ catalog size against training and serving (issue 18)")
    print(f"shipped catalog: {shipped} entries; other levels add SYNTHETIC entries\n")
    print(format_table(results))
    print(f"(p50/p99 over {args.parses} parses after {args.warmup} warm-up parses)")
    print("\nTargets (MB/GB decimal, compared in MiB):")
    print(format_checks(checks, shipped))
    if smoke:
        print("\nSMOKE RUN: not figures to report (run without --epochs for those).")
    if args.json:
        report = {
            "started": started.isoformat(timespec="seconds"),
            "smoke": smoke,
            "epochs_override": args.epochs,
            "shipped_entries": shipped,
            "seed": args.seed,
            "parses": args.parses,
            "warmup_parses": args.warmup,
            "cpu_count": os.cpu_count(),
            "load_average_before": [round(x, 2) for x in load_before],
            "levels": results,
            "targets": [
                {
                    **asdict(c.target),
                    "measured_level": c.level,
                    "value": c.value,
                    "status": c.status,
                }
                for c in checks
            ],
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
