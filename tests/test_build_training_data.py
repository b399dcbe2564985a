"""scripts/build_training_data.py: the FAQ phrasings DIET is given stay within
the budget however large the catalog (the FAQ retriever learns every phrasing
from the catalog itself)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent


def builder() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "build_training_data", ROOT / "scripts" / "build_training_data.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("build_training_data", module)
    spec.loader.exec_module(module)
    return module


def test_under_the_budget_every_phrasing_is_kept() -> None:
    entries = [["问题一", "说法a", "说法b"], ["问题二", "说法c"]]
    assert builder().phrasings_for_diet(entries, budget=10) == entries


def test_over_the_budget_questions_first_then_round_robin() -> None:
    entries = [["q1", "a1", "a2", "a3"], ["q2", "b1"], ["q3", "c1", "c2"]]
    kept = builder().phrasings_for_diet(entries, budget=7)
    assert kept == [["q1", "a1", "a2"], ["q2", "b1"], ["q3", "c1"]]
    assert sum(map(len, kept)) == 7


def test_every_entry_keeps_its_question_even_past_the_budget() -> None:
    entries = [[f"q{i}", f"x{i}"] for i in range(5)]
    kept = builder().phrasings_for_diet(entries, budget=3)
    assert kept == [[f"q{i}"] for i in range(5)]


def test_duplicates_and_blank_phrasings_do_not_count() -> None:
    entries = [["q1", "q1", " ", "a1"], ["q2"]]
    assert builder().phrasings_for_diet(entries, budget=3) == [["q1", "a1"], ["q2"]]


def test_the_shipped_catalog_fills_the_budget_with_every_question() -> None:
    """The broad catalog holds more phrasings than DIET gets: the budget is
    filled, every entry's question is among them (the retriever learns the rest
    from the catalog itself)."""
    module = builder()
    faq = module.build_faq()
    phrasings = sum(block["examples"].count("\n") for block in faq["nlu"])
    entries = list(module.read_faq(module.KNOWLEDGE_DIR / "faq.yml").values())
    every = len({(e.id, p) for e in entries for p in [e.question, *e.examples]})
    assert phrasings == min(every, module.FAQ_PHRASINGS_FOR_DIET) == module.FAQ_PHRASINGS_FOR_DIET
    kept = {block["intent"]: block["examples"] for block in faq["nlu"]}
    for entry in entries:
        assert f"- {entry.question}\n" in kept[f"faq/{entry.id}"]


def test_the_shipped_services_fill_their_budget_with_every_service() -> None:
    module = builder()
    data = module.build_services()
    examples = data["nlu"][0]["examples"]
    services = module.read_services(module.KNOWLEDGE_DIR / "services.yml")
    every = len({e for s in services for e in s.examples})
    assert examples.count("\n") == min(every, module.SERVICE_EXAMPLES_FOR_DIET)
    for service in services:  # round-robin: each service's first example is kept
        assert f"- {service.examples[0]}\n" in examples
