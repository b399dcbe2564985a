"""Check the NLU evaluation sets: held-out (eval/heldout/), final (eval/final/),
citizen (eval/citizen/) and the off-topic set (eval/city/off_topic.yml, issue 18).

For each set, loads faq.yml, intents.yml and out_of_scope.yml (the citizen set:
faq.yml and intents.yml) with Rasa's load_data, prints the counts per intent and per
FAQ id, and asserts (minimums in SETS below):

- at least the set's minimum of in-scope sentences (faq + intents), of
  out_of_scope sentences and of intents.yml sentences,
- every FAQ id of the set's scope has the set's minimum of phrasings (the scope:
  the catalog the set was written for, eval/faq_ids_v1.txt, or the entries added
  since; together the sets cover every id of data/knowledge/faq.yml), every
  faq.yml example is labelled faq/<id>, and no FAQ id of the set is out of scope,
- every conversational intent has its minimum count, exists in domain.yml and is not
  faq / out_of_scope (those belong in their own files),
- out_of_scope.yml holds only out_of_scope examples,
- mixed.yml (citizen set, eval/mixed.py): messages asking two things at once, each
  with at least two labels, every label faq/<known id> or a conversational intent
  of domain.yml, and the set's minimum of messages,
- no sentence is empty after normalisation or duplicated within or across the files,
- independence: no sentence appears verbatim (after normalise(): NFKC, lower-case,
  without whitespace and punctuation) in data/nlu/*.yml, data/gate/*.yml, in the
  examples / questions of data/knowledge/*.yml, or in the other evaluation sets listed
  in `independent_of` (the final set must not repeat eval/heldout/*.yml).

The off-topic set (OffTopicSet below) is checked for its minimum of sentences and
of domains (the YAML comment above each block, eval/off_topic.py), for holding
only out_of_scope examples, for duplicates and for the same independence: no
sentence verbatim in the training data, nor in eval/heldout or eval/final.

Only sentences of the set being checked are printed, never training text (nor
held-out text while checking the final set).

The service naming sets (eval/service_naming/dev.yml and test.yml, ServiceNamingSet
below: ``cases`` of ``text`` + catalog ``service``) are checked for a known service
on every case, the minimum of sentences per service of data/knowledge/services.yml,
duplicates, and the same independence (also from the other sets' ``text`` keys, the
sibling file and the catalog's aliases).

Usage: .venv-rasa/bin/python eval/check_sets.py
       [heldout|final|citizen|breadth|citizen_dev|citizen_dev2|citizen_dev3|city|offtopic_dev|
        offtopic_dev2|offtopic_dev3|offtopic_dev4|service_naming_dev|service_naming_test|
        safety_probe|safety_test|safety_test2]
       (no argument: every set; exit code 0 when every checked set passes)
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import yaml

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
logging.disable(logging.WARNING)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from eval.mixed import MIXED_FILE, MixedSetError, load_mixed, unknown_labels  # noqa: E402
from eval.off_topic import OffTopicSetError, load_domains  # noqa: E402 - plain Python

FILES = ("faq.yml", "intents.yml", "out_of_scope.yml")


@dataclass(frozen=True)
class EvalSet:
    directory: str  # relative to ROOT
    title: str
    min_in_scope: int  # faq.yml + intents.yml
    min_out_of_scope: int
    min_intents_file: int  # intents.yml alone
    min_per_faq: int  # phrasings per FAQ id of data/knowledge/faq.yml
    min_per_intent: Mapping[str, int]
    independent_of: tuple[str, ...] = ()  # other eval dirs that must not share sentences
    files: tuple[str, ...] = FILES  # the NLU files of the set
    min_mixed: int = 0  # messages of mixed.yml (two questions at once); 0: no mixed.yml
    # Which FAQ ids the set must cover (min_per_faq each): every id of the catalog
    # (""), the ids listed in a file ("eval/faq_ids_v1.txt": the catalog the set
    # was written for), or every catalog id NOT in a file ("-eval/faq_ids_v1.txt":
    # the entries added since). Together the sets must cover the whole catalog.
    faq_scope: str = ""


@dataclass(frozen=True)
class OffTopicSet:
    directory: str  # relative to ROOT
    title: str
    file: str  # one NLU file, out_of_scope only, a domain comment above each block
    min_sentences: int
    min_domains: int
    independent_of: tuple[str, ...] = ()
    # other eval dirs compared too, a shared sentence listed as a note, not an error
    noted_overlap: tuple[str, ...] = ()


@dataclass(frozen=True)
class ServiceNamingSet:
    """A "which service is asked for" set: ``version: 1`` and ``cases``, each a
    ``text`` and the catalog ``service`` id it asks for (eval/service_naming/)."""

    file: str  # relative to ROOT
    title: str
    min_per_service: int  # sentences per service of data/knowledge/services.yml
    independent_of: tuple[str, ...] = ()  # other eval dirs that must not share sentences
    # other files of this shape that must not share sentences (e.g. dev vs test)
    independent_files: tuple[str, ...] = ()


@dataclass(frozen=True)
class SafetySet:
    """Messages for the emergency safety net (eval/safety/): ``emergency`` and
    ``not_emergency`` examples of one NLU file (eval/safety_report.py)."""

    file: str  # relative to ROOT
    title: str
    min_emergency: int
    min_not_emergency: int
    independent_of: tuple[str, ...] = ()  # other eval dirs that must not share sentences
    # sentences that are in the training data word for word, listed (very short ones
    # like "着火了" that any author writes), noted and not an error
    known_in_training: tuple[str, ...] = ()


#: Every other evaluation set a service naming set must not repeat.
_ALL_NLU_SETS = (
    "eval/heldout", "eval/final", "eval/citizen", "eval/breadth", "eval/citizen_dev",
    "eval/citizen_dev2", "eval/citizen_dev3", "eval/city", "eval/offtopic_dev",
    "eval/offtopic_dev2", "eval/offtopic_dev3", "eval/offtopic_dev4", "eval/offtopic_probe",
    "eval/inscope_probe", "eval/forms", "eval/dispatch",
)  # fmt: skip

#: The conversational intents the citizen-style sets cover, every one of them.
CONVERSATIONAL_INTENTS = (
    "greet", "goodbye", "thank", "affirm", "deny", "ask_identity", "consult",
    "request_service_guide", "inform_service_mode", "complain", "suggest", "inform",
    "edit_complaint", "check_ticket", "request_human", "emergency", "angry", "stop",
    "rate", "online_done", "online_problem", "online_ticket", "complain_service",
    "record_service_complaint", "skip", "go_back",
)  # fmt: skip


def each_intent(minimum: int, **more: int) -> dict[str, int]:
    """``minimum`` sentences for every conversational intent, ``more`` for some."""
    unknown = set(more) - set(CONVERSATIONAL_INTENTS)
    if unknown:
        raise ValueError(f"not conversational intents: {sorted(unknown)}")
    return {intent: more.get(intent, minimum) for intent in CONVERSATIONAL_INTENTS}


#: The catalog's ids when eval/heldout, eval/final and eval/citizen were written.
V1_IDS = "eval/faq_ids_v1.txt"

SETS: dict[str, EvalSet | OffTopicSet | ServiceNamingSet | SafetySet] = {
    "heldout": EvalSet(
        directory="eval/heldout",
        title="held-out set",
        min_in_scope=300,
        min_out_of_scope=120,
        min_intents_file=130,
        min_per_faq=3,
        min_per_intent={
            "greet": 8, "goodbye": 8, "thank": 8, "affirm": 6, "deny": 6,
            "ask_identity": 8, "request_human": 10, "emergency": 10, "angry": 8,
            "stop": 8, "request_service_guide": 20, "inform_service_mode": 6,
            "complain": 16, "suggest": 8, "check_ticket": 8, "rate": 6, "consult": 4,
        },
        faq_scope=V1_IDS,
    ),
    "final": EvalSet(
        directory="eval/final",
        title="final test set",
        min_in_scope=300,
        min_out_of_scope=120,
        min_intents_file=160,
        min_per_faq=2,
        min_per_intent={
            "greet": 8, "goodbye": 8, "thank": 8, "affirm": 6, "deny": 6,
            "ask_identity": 8, "consult": 5, "request_human": 10, "emergency": 12,
            "angry": 8, "stop": 8, "request_service_guide": 24,
            "inform_service_mode": 6, "complain": 18, "suggest": 9,
            "check_ticket": 9, "rate": 6,
        },
        independent_of=("eval/heldout",),
        faq_scope=V1_IDS,
    ),
    # issue 18: at least 620 in-scope sentences as citizens type them (5 per FAQ id),
    # and at least 40 messages asking two things at once; no out-of-scope file
    "citizen": EvalSet(
        directory="eval/citizen",
        title="citizen set",
        min_in_scope=620,
        min_out_of_scope=0,
        min_intents_file=200,
        min_per_faq=5,
        min_per_intent=each_intent(
            6, request_service_guide=40, complain=30, check_ticket=10, request_human=10,
            emergency=10,
        ),
        independent_of=("eval/heldout", "eval/final", "eval/city"),
        files=("faq.yml", "intents.yml"),
        min_mixed=40,
        faq_scope=V1_IDS,
    ),
    # issue 18: 3 phrasings for each FAQ entry added to the first 73 (the broad
    # catalog); FAQ sentences only, report only
    "breadth": EvalSet(
        directory="eval/breadth",
        title="breadth set",
        min_in_scope=700,
        min_out_of_scope=0,
        min_intents_file=0,
        min_per_faq=3,
        min_per_intent={},
        independent_of=("eval/heldout", "eval/final", "eval/citizen", "eval/city"),
        files=("faq.yml",),
        faq_scope="-" + V1_IDS,
    ),
    # development set (tuning, never reported): citizens' wording for the whole
    # catalog (3 phrasings per v1 entry, 1 per other entry), the conversational
    # intents and 100 off-topic messages; written from the catalog's questions only
    "citizen_dev": EvalSet(
        directory="eval/citizen_dev",
        title="citizen development set",
        min_in_scope=700,
        min_out_of_scope=100,
        min_intents_file=200,
        min_per_faq=1,
        min_per_intent=each_intent(
            6, request_service_guide=30, complain=20, request_human=10, emergency=10
        ),
        independent_of=(
            "eval/heldout", "eval/final", "eval/citizen", "eval/city", "eval/breadth",
            "eval/offtopic_dev", "eval/offtopic_dev2", "eval/offtopic_dev3",
        ),
    ),
    # second development set (tuning, never reported), written blind on 2026-12-07
    # from the catalog's questions and the services' names only: 2 citizen phrasings
    # for every FAQ entry, the conversational intents and 120 off-topic messages
    "citizen_dev2": EvalSet(
        directory="eval/citizen_dev2",
        title="second citizen development set",
        min_in_scope=800,
        min_out_of_scope=120,
        min_intents_file=200,
        min_per_faq=2,
        min_per_intent=each_intent(5, request_service_guide=30, complain=30),
        independent_of=tuple(d for d in _ALL_NLU_SETS if d != "eval/citizen_dev2")
        + ("eval/safety", "eval/service_naming"),
    ),
    # third development set (tuning, never reported), written blind on 2026-12-07
    # from the catalog's questions and the services' names only: 4 hard citizen
    # phrasings (typos, Cantonese, keywords, voice run-ons) for each of the 73 v1
    # entries and the conversational intents; no off-topic file
    "citizen_dev3": EvalSet(
        directory="eval/citizen_dev3",
        title="third citizen development set",
        min_in_scope=490,
        min_out_of_scope=0,
        min_intents_file=200,
        min_per_faq=4,
        min_per_intent=each_intent(
            5, request_service_guide=40, complain=30, check_ticket=10, request_human=10,
            emergency=8,
        ),
        independent_of=tuple(d for d in _ALL_NLU_SETS if d != "eval/citizen_dev3")
        + ("eval/safety", "eval/service_naming"),
        files=("faq.yml", "intents.yml"),
        faq_scope=V1_IDS,
    ),
    # issue 18: at least 1,000 sentences from at least 20 everyday domains
    "city": OffTopicSet(
        directory="eval/city",
        title="off-topic set",
        file="off_topic.yml",
        min_sentences=1000,
        min_domains=20,
        noted_overlap=("eval/heldout", "eval/final"),
    ),
    # the hotline gate's own off-topic development set (threshold tuning)
    "offtopic_dev": OffTopicSet(
        directory="eval/offtopic_dev",
        title="off-topic development set",
        file="off_topic.yml",
        min_sentences=300,
        min_domains=20,
        noted_overlap=("eval/heldout", "eval/final"),
    ),
    # a second off-topic development set (threshold tuning), with many sentences
    # sharing words with hotline matters; must not repeat the other tuning sets
    "offtopic_dev2": OffTopicSet(
        directory="eval/offtopic_dev2",
        title="second off-topic development set",
        file="off_topic.yml",
        min_sentences=300,
        min_domains=24,
        independent_of=("eval/offtopic_dev", "eval/offtopic_probe"),
        noted_overlap=("eval/heldout", "eval/final"),
    ),
    # a third off-topic development set (threshold tuning), written blind (its
    # author opened neither data/ nor the other sets), a third of its sentences
    # sharing words with hotline matters; must not repeat the other tuning sets
    "offtopic_dev3": OffTopicSet(
        directory="eval/offtopic_dev3",
        title="third off-topic development set",
        file="off_topic.yml",
        min_sentences=400,
        min_domains=25,
        independent_of=(
            "eval/offtopic_dev", "eval/offtopic_dev2", "eval/offtopic_probe",
            "eval/citizen_dev", "eval/inscope_probe",
        ),
        noted_overlap=("eval/heldout", "eval/final"),
    ),
    # a fourth off-topic development set (tuning of the gate and the form readers),
    # written blind: half personal annoyances in complaint-like words, a quarter
    # everyday chat that reads like a form answer (a place, a time, a phone model);
    # must not repeat the other tuning sets
    "offtopic_dev4": OffTopicSet(
        directory="eval/offtopic_dev4",
        title="fourth off-topic development set",
        file="off_topic.yml",
        min_sentences=400,
        min_domains=20,
        independent_of=(
            "eval/offtopic_dev", "eval/offtopic_dev2", "eval/offtopic_probe",
            "eval/citizen_dev", "eval/inscope_probe", "eval/offtopic_dev3",
            "eval/citizen_dev2", "eval/citizen_dev3",
        ),
        noted_overlap=("eval/heldout", "eval/final"),
    ),
    # a service of the catalog asked for in the citizen's own words (written blind from
    # the catalog's ids, names, departments and materials); dev: tuning, test: report
    "service_naming_dev": ServiceNamingSet(
        file="eval/service_naming/dev.yml",
        title="service naming development set",
        min_per_service=2,
        independent_of=_ALL_NLU_SETS,
        independent_files=("eval/service_naming/test.yml",),
    ),
    "service_naming_test": ServiceNamingSet(
        file="eval/service_naming/test.yml",
        title="service naming test set",
        min_per_service=2,
        independent_of=_ALL_NLU_SETS,
        independent_files=("eval/service_naming/dev.yml",),
    ),
    # the emergency safety net: probe (tuning) and test (report), written blind to
    # the word list, the training data and each other
    "safety_probe": SafetySet(
        file="eval/safety/probe.yml",
        title="safety net probe set",
        min_emergency=100,
        min_not_emergency=60,
        independent_of=_ALL_NLU_SETS,
        known_in_training=("着火了", "着火了着火了快点"),
    ),
    "safety_test": SafetySet(
        file="eval/safety/test.yml",
        title="safety net test set",
        min_emergency=100,
        min_not_emergency=60,
        independent_of=_ALL_NLU_SETS,
    ),
    # the second sealed set (2026-12-06, sixth session), for the learned detector:
    # test.yml had been seen in aggregate
    "safety_test2": SafetySet(
        file="eval/safety/test2.yml",
        title="safety net test set 2",
        min_emergency=150,
        min_not_emergency=100,
        independent_of=_ALL_NLU_SETS,
    ),
}  # fmt: skip


class Row(NamedTuple):
    text: str
    intent: str
    faq_id: str | None


def normalise(text: str) -> str:
    """NFKC, lower-case, without whitespace and punctuation."""
    return "".join(
        ch
        for ch in unicodedata.normalize("NFKC", text).lower()
        if not ch.isspace() and not unicodedata.category(ch).startswith(("P", "Z"))
    )


def load_rows(path: Path) -> list[Row]:
    """(text, intent, faq id or None) for every example of one NLU file."""
    from rasa.shared.nlu.training_data.loading import load_data

    rows = []
    for example in load_data(str(path)).intent_examples:
        intent = example.get("intent")
        faq_id = None
        key = example.get("intent_response_key") or ""
        if "/" in key:
            intent, faq_id = key.split("/", 1)
        rows.append(Row(example.get("text"), intent, faq_id))
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


def _read_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def reference_texts(extra_dirs: tuple[str, ...]) -> tuple[dict[str, str], list[str]]:
    """(normalised sentence -> file it comes from, problems) for the training data
    (data/nlu/*.yml, data/gate/*.yml, data/safety/*.yml, data/complaints/*.yml,
    examples/questions of data/knowledge/*.yml) and extra_dirs/*.yml.

    NLU files are compared both as Rasa parses them (entity markup removed) and as
    written. A file that is not valid YAML is reported by name only, because a YAML
    error message would quote the offending (reference) line.
    """
    from rasa.shared.nlu.training_data.loading import load_data

    nlu_files = sorted((ROOT / "data" / "nlu").glob("*.yml"))
    # the hotline gate's off-topic training sentences (hotline_rasa/hotline_gate.py)
    nlu_files += sorted((ROOT / "data" / "gate").glob("*.yml"))
    # the safety net detector's emergencies and hard negatives (hotline_rasa/safety_net.py)
    nlu_files += sorted((ROOT / "data" / "safety").glob("*.yml"))
    # complaint descriptions: the dispatch classifier's and, since 2026-12-06, the
    # NLU complaint arbiter's training data (hotline_rasa/complaint_arbiter.py)
    nlu_files += sorted((ROOT / "data" / "complaints").glob("*.yml"))
    for directory in extra_dirs:
        nlu_files += sorted((ROOT / directory).glob("*.yml"))
    knowledge_files = sorted((ROOT / "data" / "knowledge").glob("*.yml"))

    out: dict[str, str] = {}
    problems: list[str] = []
    for path in nlu_files + knowledge_files:
        rel = str(path.relative_to(ROOT))
        texts: list[str] = []
        if path in nlu_files:
            try:
                texts = [m.get("text") for m in load_data(str(path)).intent_examples]
            except Exception:  # not an NLU file Rasa can read: raw YAML only
                texts = []
        try:
            texts += _yaml_texts(_read_yaml(path))
        except (OSError, yaml.YAMLError) as exc:
            problems.append(f"{rel}: cannot be read ({type(exc).__name__}), not compared")
        for text in texts:
            if text:
                out.setdefault(normalise(text), rel)
    out.pop("", None)
    return out, problems


def faq_ids() -> list[str]:
    data = _read_yaml(ROOT / "data" / "knowledge" / "faq.yml")
    return [entry["id"] for entry in data["entries"]]


def listed_ids(path: str) -> list[str]:
    lines = (ROOT / path).read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def scope_ids(cfg: EvalSet) -> list[str]:
    """The FAQ ids ``cfg`` must cover (``EvalSet.faq_scope``), in catalog order."""
    known = faq_ids()
    if not cfg.faq_scope:
        return known
    if cfg.faq_scope.startswith("-"):
        excluded = set(listed_ids(cfg.faq_scope[1:]))
        return [fid for fid in known if fid not in excluded]
    return listed_ids(cfg.faq_scope)


def check_coverage() -> bool:
    """Every FAQ id of the catalog is in some in-scope set's scope."""
    covered = {fid for cfg in SETS.values() if isinstance(cfg, EvalSet) for fid in scope_ids(cfg)}
    missing = [fid for fid in faq_ids() if fid not in covered]
    return _verdict("catalog coverage", [f"faq/{fid}: in no evaluation set" for fid in missing])


def domain_intents() -> set[str]:
    domain = _read_yaml(ROOT / "domain.yml")
    return {i if isinstance(i, str) else next(iter(i)) for i in domain.get("intents", [])}


def check_set(cfg: EvalSet) -> bool:
    """Print the counts of one evaluation set and check it; True when it passes."""
    errors: list[str] = []
    data = {name: load_rows(ROOT / cfg.directory / name) for name in cfg.files}
    data.setdefault("intents.yml", [])

    for name, rows in data.items():
        print(f"== {name}: {len(rows)} sentences")
        if name == "faq.yml":
            continue  # listed per FAQ id below
        for intent, n in sorted(Counter(r.intent for r in rows).items()):
            print(f"   {intent:24s} {n}")

    # FAQ coverage
    faq_rows = data["faq.yml"]
    per_faq = Counter(r.faq_id for r in faq_rows)
    catalog = faq_ids()
    known = scope_ids(cfg)
    for fid in known:
        if fid not in catalog:
            errors.append(f"faq/{fid}: in {cfg.faq_scope}, not in data/knowledge/faq.yml")
    print(f"== FAQ ids: {len(per_faq)} covered of the {len(known)} in this set's scope")
    for fid in known:
        print(f"   faq/{fid:34s} {per_faq[fid]}")
        if per_faq[fid] < cfg.min_per_faq:
            errors.append(f"faq/{fid}: {per_faq[fid]} phrasings (< {cfg.min_per_faq})")
    for fid in sorted(set(per_faq) - set(known), key=str):
        errors.append(f"faq/{fid}: not an id of this set's scope")
    for text, intent, fid in faq_rows:
        if intent != "faq" or fid is None:
            errors.append(f"faq.yml: {text!r} is not labelled faq/<id> (got {intent})")
    lo, hi = min(per_faq.values(), default=0), max(per_faq.values(), default=0)
    print(f"   per id: min {lo}, max {hi}")

    # conversational intents
    intent_rows = data["intents.yml"]
    intent_counts = Counter(r.intent for r in intent_rows)
    valid = domain_intents()
    for intent, minimum in cfg.min_per_intent.items():
        if intent_counts[intent] < minimum:
            errors.append(f"intent {intent}: {intent_counts[intent]} (< {minimum})")
    for intent in intent_counts:
        if intent not in valid:
            errors.append(f"intent {intent}: not in domain.yml")
        if intent in ("faq", "out_of_scope"):
            errors.append(f"intents.yml: intent {intent} belongs in its own file")
    if len(intent_rows) < cfg.min_intents_file:
        errors.append(f"intents.yml: {len(intent_rows)} sentences (< {cfg.min_intents_file})")

    # out of scope
    oos = data.get("out_of_scope.yml", [])
    if any(r.intent != "out_of_scope" for r in oos):
        errors.append("out_of_scope.yml: every example must be intent out_of_scope")
    if len(oos) < cfg.min_out_of_scope:
        errors.append(f"out_of_scope: {len(oos)} (< {cfg.min_out_of_scope})")

    in_scope = len(faq_rows) + len(intent_rows)
    print(
        f"== in-scope total {in_scope} (faq {len(faq_rows)} + intents {len(intent_rows)}), "
        f"out_of_scope {len(oos)}, all {in_scope + len(oos)}"
    )
    if in_scope < cfg.min_in_scope:
        errors.append(f"in-scope total {in_scope} (< {cfg.min_in_scope})")

    if cfg.min_mixed:
        mixed_rows, mixed_errors = check_mixed(cfg, known, valid)
        data[MIXED_FILE] = mixed_rows
        errors += mixed_errors

    # duplicates within / across the files of this set
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

    # independence from the training data (and from other evaluation sets)
    collisions, problems = verbatim_collisions(
        ((name, row) for name, rows in data.items() for row in rows), cfg.independent_of
    )
    errors += problems + collisions
    return _verdict(cfg.title, errors)


def check_mixed(
    cfg: EvalSet, known_faq_ids: list[str], intents: set[str]
) -> tuple[list[Row], list[str]]:
    """(rows of mixed.yml, problems): labels known, minimum of messages; prints counts.
    Rows carry the first label; duplicates and independence are checked by the caller."""
    try:
        messages = load_mixed(ROOT / cfg.directory / MIXED_FILE)
    except (OSError, MixedSetError) as exc:
        return [], [f"{MIXED_FILE}: {exc}"]
    print(f"== {MIXED_FILE}: {len(messages)} messages asking two things at once")
    labels = Counter(label.split("/", 1)[0] for m in messages for label in m.labels)
    for kind, n in sorted(labels.items()):
        print(f"   {kind:24s} {n} labels")
    errors = [f"{MIXED_FILE}: {e}" for e in unknown_labels(messages, known_faq_ids, intents)]
    if len(messages) < cfg.min_mixed:
        errors.append(f"{MIXED_FILE}: {len(messages)} messages (< {cfg.min_mixed})")
    rows = []
    for m in messages:
        intent, _, fid = m.labels[0].partition("/")
        rows.append(Row(m.text, intent, fid or None))
    return rows, errors


def verbatim_collisions(
    rows: Iterable[tuple[str, Row]], independent_of: tuple[str, ...]
) -> tuple[list[str], list[str]]:
    """(collision errors, problems reading the references) of (file name, row) pairs
    against the training data and the sets of independent_of; prints the count."""
    ref, problems = reference_texts(independent_of)
    sources = [
        "data/nlu/*.yml",
        "data/gate/*.yml",
        "data/safety/*.yml",
        "data/complaints/*.yml",
        "examples/questions of data/knowledge/*.yml",
    ]
    sources += [f"{d}/*.yml" for d in independent_of]
    print(f"== compared with {len(ref)} distinct reference sentences ({', '.join(sources)})")
    errors = []
    for name, row in rows:
        source = ref.get(normalise(row.text))
        if source:
            errors.append(f"verbatim in {source}: {name} {row.text!r}")
    print(f"   verbatim collisions: {len(errors)}")
    return errors, problems


def check_off_topic_set(cfg: OffTopicSet) -> bool:
    """Print the counts of the off-topic set per domain and check it; True when it passes."""
    errors: list[str] = []
    path = ROOT / cfg.directory / cfg.file
    rows = load_rows(path)
    try:
        domains = load_domains(path)
    except OffTopicSetError as exc:
        domains = []
        errors.append(f"domains: {exc}")
    print(f"== {cfg.file}: {len(rows)} sentences")
    per_domain = Counter(domain for domain, _ in domains)
    for domain, n in per_domain.items():
        print(f"   {domain:44s} {n}")
    print(f"== {len(per_domain)} domains")
    if domains and len(domains) != len(rows):
        errors.append(f"{len(domains)} sentences under domain comments but {len(rows)} examples")
    if any(r.intent != "out_of_scope" for r in rows):
        errors.append(f"{cfg.file}: every example must be intent out_of_scope")
    if len(rows) < cfg.min_sentences:
        errors.append(f"{len(rows)} sentences (< {cfg.min_sentences})")
    if len(per_domain) < cfg.min_domains:
        errors.append(f"{len(per_domain)} domains (< {cfg.min_domains})")

    seen: set[str] = set()
    for row in rows:
        key = normalise(row.text)
        if not key:
            errors.append(f"{row.text!r} is empty after removing punctuation")
        elif key in seen:
            errors.append(f"duplicate: {row.text!r}")
        seen.add(key)

    collisions, problems = verbatim_collisions(
        ((cfg.file, row) for row in rows), cfg.independent_of + cfg.noted_overlap
    )
    errors += problems
    noted = tuple(f"verbatim in {d}/" for d in cfg.noted_overlap)
    notes = [c for c in collisions if c.startswith(noted)]
    errors += [c for c in collisions if not c.startswith(noted)]
    if notes:
        print(f"   of which in {', '.join(cfg.noted_overlap)} (noted, not an error): {len(notes)}")
        for note in notes:
            print("   -", note)
    return _verdict(cfg.title, errors)


def _case_rows(path: Path) -> list[Row]:
    """(text, service id, None) of every case of a service naming file."""
    data = _read_yaml(path)
    if not isinstance(data, dict) or data.get("version") != 1:
        raise ValueError(f"{path.relative_to(ROOT)}: expected version: 1")
    rows = []
    for case in data.get("cases") or []:
        rows.append(Row(str(case.get("text") or ""), str(case.get("service") or ""), None))
    return rows


def _keyed_texts(node: Any, keys: tuple[str, ...]) -> Iterable[str]:
    """Strings (or lists of strings) under any of ``keys``, anywhere in a YAML tree."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in keys and isinstance(value, str):
                yield value
            elif key in keys and isinstance(value, list):
                yield from (v for v in value if isinstance(v, str))
            else:
                yield from _keyed_texts(value, keys)
    elif isinstance(node, list):
        for item in node:
            yield from _keyed_texts(item, keys)


def check_service_naming_set(cfg: ServiceNamingSet) -> bool:
    """Print the counts of a service naming set and check it: every case names a
    catalog service, every service has its minimum of sentences, no empty or
    duplicated sentence, and no sentence verbatim (after normalise()) in the
    training data, the catalog's aliases, the other sets or the sibling files."""
    errors: list[str] = []
    path = ROOT / cfg.file
    rows = _case_rows(path)
    # the catalog's ids (bot/knowledge.py parse_services; read as plain YAML, because
    # bot/knowledge.py needs a newer Python than the Rasa environment's)
    services = _read_yaml(ROOT / "data" / "knowledge" / "services.yml").get("services") or []
    catalog = [str(raw["id"]) for raw in services]
    per_service = Counter(r.intent for r in rows)
    print(f"== {cfg.file}: {len(rows)} sentences, {len(per_service)} of {len(catalog)} services")
    for sid in catalog:
        if per_service[sid] < cfg.min_per_service:
            errors.append(f"{sid}: {per_service[sid]} sentences (< {cfg.min_per_service})")
    for sid in sorted(set(per_service) - set(catalog)):
        errors.append(f"{sid!r}: not a service of data/knowledge/services.yml")
    lo, hi = min(per_service.values(), default=0), max(per_service.values(), default=0)
    print(f"   per service: min {lo}, max {hi}")

    seen: set[str] = set()
    for row in rows:
        key = normalise(row.text)
        if not key:
            errors.append(f"{row.text!r} is empty after removing punctuation")
        elif key in seen:
            errors.append(f"duplicate: {row.text!r}")
        seen.add(key)

    collisions, problems = verbatim_collisions(
        ((Path(cfg.file).name, row) for row in rows), cfg.independent_of
    )
    errors += problems + collisions
    # texts the reference reader above does not see: "text" keys of the other sets
    # (sets of cases), the sibling files, and the catalog's aliases
    extra: dict[str, str] = {}
    files = [ROOT / f for f in cfg.independent_files]
    for directory in cfg.independent_of:
        files += sorted((ROOT / directory).glob("*.yml"))
    for other in files:
        try:
            for text in _keyed_texts(_read_yaml(other), ("text",)):
                extra.setdefault(normalise(text), str(other.relative_to(ROOT)))
        except (OSError, yaml.YAMLError) as exc:
            errors.append(f"{other.relative_to(ROOT)}: cannot be read ({type(exc).__name__})")
    for knowledge in sorted((ROOT / "data" / "knowledge").glob("*.yml")):
        for text in _keyed_texts(_read_yaml(knowledge), ("aliases", "alias")):
            extra.setdefault(normalise(text), str(knowledge.relative_to(ROOT)))
    extra.pop("", None)
    extra_hits = [
        f"verbatim in {extra[normalise(r.text)]}: {Path(cfg.file).name} {r.text!r}"
        for r in rows
        if normalise(r.text) in extra
    ]
    print(f"   verbatim in other sets' cases, sibling files or aliases: {len(extra_hits)}")
    errors += extra_hits
    return _verdict(cfg.title, errors)


def check_safety_set(cfg: SafetySet) -> bool:
    """Counts, duplicates and independence of a safety net set; True when it passes."""
    errors: list[str] = []
    path = ROOT / cfg.file
    others = [p for p in sorted(path.parent.glob("*.yml")) if p != path]
    rows = load_rows(path)
    counts = Counter(r.intent for r in rows)
    print(f"== {cfg.file}: {dict(counts)}")
    if set(counts) - {"emergency", "not_emergency"}:
        errors.append(f"intents other than emergency / not_emergency: {set(counts)}")
    if counts["emergency"] < cfg.min_emergency:
        errors.append(f"{counts['emergency']} emergency messages (< {cfg.min_emergency})")
    if counts["not_emergency"] < cfg.min_not_emergency:
        errors.append(f"{counts['not_emergency']} ordinary messages (< {cfg.min_not_emergency})")
    seen: set[str] = set()
    for row in rows:
        key = normalise(row.text)
        if key in seen:
            errors.append(f"duplicate: {row.text!r}")
        seen.add(key)
    other = {normalise(r.text): p.name for p in others for r in load_rows(p)}
    errors += [f"also in eval/safety/{other[normalise(r.text)]}: {r.text!r}" for r in rows
               if normalise(r.text) in other]  # fmt: skip
    collisions, problems = verbatim_collisions(((path.name, r) for r in rows), cfg.independent_of)
    errors += problems
    known = {normalise(t) for t in cfg.known_in_training}
    for collision in collisions:
        text = collision.rsplit(" ", 1)[-1].strip("'")
        if normalise(text) in known:
            print("   noted (known, not an error):", collision)
        else:
            errors.append(collision)
    return _verdict(cfg.title, errors)


def _verdict(title: str, errors: list[str]) -> bool:
    if errors:
        print(f"\nFAILED: {title} ({len(errors)} problems):")
        for err in errors:
            print("  -", err)
        return False
    print(f"\nOK: {title} passes all checks")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("set", nargs="?", choices=sorted(SETS), help="default: all sets")
    args = parser.parse_args(argv)
    names = [args.set] if args.set else list(SETS)

    results: dict[str, bool] = {}
    for i, name in enumerate(names):
        if i:
            print()
        cfg = SETS[name]
        print(f"##### {name} ({getattr(cfg, 'directory', None) or getattr(cfg, 'file', '')})")
        if isinstance(cfg, ServiceNamingSet):
            results[name] = check_service_naming_set(cfg)
        elif isinstance(cfg, SafetySet):
            results[name] = check_safety_set(cfg)
        elif isinstance(cfg, OffTopicSet):
            results[name] = check_off_topic_set(cfg)
        else:
            results[name] = check_set(cfg)
    if not args.set:
        results["coverage"] = check_coverage()
    if len(names) > 1:
        summary = ", ".join(f"{n} {'OK' if ok else 'FAILED'}" for n, ok in results.items())
        print(f"\n##### {summary}")
    return 0 if all(results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
