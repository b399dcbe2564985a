"""The service/FAQ arbiter (hotline_rasa/service_arbiter.py) and its copy of
the service matcher (hotline_rasa/service_names.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from hotline_rasa.service_arbiter import ARBITER_KEY, ServiceFaqArbiter
from hotline_rasa.service_names import load_service_names, named_service
from hotline_rasa.tests.conftest import ROOT

CATALOG = ROOT / "data" / "knowledge" / "services.yml"
CASES = json.loads((ROOT / "tests" / "data" / "service_match_cases.json").read_text("utf-8"))


@pytest.mark.parametrize(("text", "service_id"), [tuple(c) for c in CASES["cases"]])
def test_names_the_service_the_front_door_would(text: str, service_id: str | None) -> None:
    # the same cases bot.knowledge.match_service passes (tests/test_service_match_cases.py)
    assert named_service(text, load_service_names(CATALOG)) == service_id


def test_a_catalog_without_services_is_an_error(tmp_path: Path) -> None:
    bad = tmp_path / "services.yml"
    bad.write_text("version: 1\n", encoding="utf-8")
    with pytest.raises(ValueError, match="no 'services' list"):
        load_service_names(bad)
    bad.write_text("services:\n  - name: 居住证\n", encoding="utf-8")
    with pytest.raises(ValueError, match="service 1 has no id"):
        load_service_names(bad)


@pytest.fixture
def arbiter(tmp_path: Path) -> ServiceFaqArbiter:
    storage = LocalModelStorage(tmp_path)
    resource = Resource("arbiter")
    component = ServiceFaqArbiter.create(
        {"services": str(CATALOG)}, storage, resource, ExecutionContext(None)  # type: ignore[arg-type]
    )
    component.train(TrainingData())
    return ServiceFaqArbiter.load(
        {"services": str(CATALOG)}, storage, resource, ExecutionContext(None)  # type: ignore[arg-type]
    )


def _message(
    text: str, intent: str, confidence: float, retriever: float | None, entry: str = "some_entry"
) -> Message:
    message = Message(data={"text": text})
    message.set("intent", {"name": intent, "confidence": confidence}, add_to_output=True)
    ranking = [{"name": intent, "confidence": confidence}, {"name": "consult", "confidence": 0.01}]
    message.set("intent_ranking", ranking, add_to_output=True)
    if retriever is not None:
        key = f"faq/{entry}"
        message.set(
            "response_selector",
            {"faq": {"response": {"confidence": retriever, "intent_response_key": key}}},
            add_to_output=True,
        )
    return message


def _run(arbiter: ServiceFaqArbiter, *args: Any) -> Message:
    return arbiter.process([_message(*args)])[0]


def test_a_service_request_naming_no_service_with_a_sure_entry_is_the_faq(
    arbiter: ServiceFaqArbiter,
) -> None:
    message = _run(arbiter, "去台湾旅游要办什么证", "request_service_guide", 1.0, 0.9993)
    assert message.get("intent") == {"name": "faq", "confidence": 0.9993}
    ranking = [r["name"] for r in message.get("intent_ranking")]
    assert ranking[:2] == ["faq", "request_service_guide"]
    assert message.get(ARBITER_KEY) == {
        "from": "request_service_guide",
        "diet_confidence": 1.0,
        "service": None,
    }
    assert ARBITER_KEY in message.as_dict(only_output_properties=True)


@pytest.mark.parametrize(
    ("text", "retriever"),
    [
        ("异地就医备案怎么弄", 0.998),  # names a service: the guide stands
        ("去台湾旅游要办什么证", 0.69),  # the retriever is not sure
        ("去台湾旅游要办什么证", None),  # no retriever output
    ],
)
def test_a_service_request_otherwise_stands(
    arbiter: ServiceFaqArbiter, text: str, retriever: float | None
) -> None:
    message = _run(arbiter, text, "request_service_guide", 0.99, retriever)
    assert message.get("intent") == {"name": "request_service_guide", "confidence": 0.99}
    assert message.get(ARBITER_KEY) is None


def test_an_faq_asking_a_named_services_procedure_with_an_unsure_entry_is_the_guide(
    arbiter: ServiceFaqArbiter,
) -> None:
    message = _run(arbiter, "违章罚款怎么交", "faq", 0.98, 0.25)
    assert message.get("intent") == {"name": "request_service_guide", "confidence": 0.98}
    assert message.get(ARBITER_KEY) == {
        "from": "faq",
        "diet_confidence": 0.98,
        "service": "traffic_violation",
    }


def test_pinyin_initials_name_a_service(arbiter: ServiceFaqArbiter) -> None:
    """"gjj" is 公积金 (hotline_gate.PINYIN_INITIALS), as the classifiers read it."""
    message = _run(arbiter, "gjj提取要什么材料", "faq", 0.98, 0.25)
    assert message.get("intent") == {"name": "request_service_guide", "confidence": 0.98}
    assert message.get(ARBITER_KEY)["service"] == "provident_fund_withdrawal"


@pytest.mark.parametrize(
    ("text", "retriever"),
    [
        ("违章罚款怎么交", 0.6),  # the retriever is sure enough of its entry
        ("用自己住的房子注册个体户行不行", 0.1),  # a service, but no procedure asked
        ("忘记报税了怎么办", 0.2),  # a procedure, but no service named
    ],
)
def test_an_faq_otherwise_stands(arbiter: ServiceFaqArbiter, text: str, retriever: float) -> None:
    message = _run(arbiter, text, "faq", 0.97, retriever)
    assert message.get("intent") == {"name": "faq", "confidence": 0.97}


@pytest.mark.parametrize("intent", ["complain", "greet", "out_of_scope", "nlu_fallback"])
def test_other_intents_are_untouched(arbiter: ServiceFaqArbiter, intent: str) -> None:
    message = _run(arbiter, "去台湾旅游要办什么证 违章罚款怎么交", intent, 0.9, 0.1)
    assert message.get("intent") == {"name": intent, "confidence": 0.9}


def test_a_model_without_names_changes_nothing(tmp_path: Path) -> None:
    storage = LocalModelStorage(tmp_path)
    untrained = ServiceFaqArbiter.load(
        {}, storage, Resource("none"), ExecutionContext(None)  # type: ignore[arg-type]
    )
    request = _message("去台湾旅游要办什么证", "request_service_guide", 1, 0.99)
    message = untrained.process([request])
    assert message[0].get("intent")["name"] == "request_service_guide"


def test_the_catalogs_contents_are_in_the_fingerprint(tmp_path: Path) -> None:
    catalog = tmp_path / "services.yml"
    catalog.write_text("services:\n  - {id: a, name: 居住证}\n", encoding="utf-8")
    first = ServiceFaqArbiter.fingerprint_addon({"services": str(catalog)})
    catalog.write_text("services:\n  - {id: a, name: 居住证, aliases: [居主证]}\n", "utf-8")
    assert ServiceFaqArbiter.fingerprint_addon({"services": str(catalog)}) != first
    missing = ServiceFaqArbiter.fingerprint_addon({"services": str(tmp_path / "no.yml")})
    assert missing is not None and missing.startswith("missing:")


@pytest.mark.parametrize("key", ["faq_confidence", "service_confidence"])
def test_thresholds_are_checked(tmp_path: Path, key: str) -> None:
    with pytest.raises(ValueError, match=key):
        ServiceFaqArbiter({key: 1.5}, LocalModelStorage(tmp_path), Resource("x"))


@pytest.mark.parametrize(
    ("text", "service"),
    [
        ("居住证去哪办", "residence_permit"),  # where to do it
        ("驾照到期了去哪换", "driver_license_renewal"),
        ("办护照要带什么", "passport"),  # what to bring
        ("护照点样办", "passport"),  # Cantonese, read as 怎样办
    ],
)
def test_where_to_go_and_what_to_bring_are_procedures(
    arbiter: ServiceFaqArbiter, text: str, service: str
) -> None:
    message = _run(arbiter, text, "faq", 0.99, 0.5)
    assert message.get("intent") == {"name": "request_service_guide", "confidence": 0.99}
    assert message.get(ARBITER_KEY)["service"] == service


def test_a_question_about_a_service_is_no_procedure(arbiter: ServiceFaqArbiter) -> None:
    message = _run(arbiter, "居住证有什么用", "faq", 0.99, 0.5)
    assert message.get("intent") == {"name": "faq", "confidence": 0.99}


def test_an_faq_asking_a_procedure_with_a_sure_entry_answering_none_is_the_guide(
    arbiter: ServiceFaqArbiter,
) -> None:
    """The retriever's only entry on the subject, sure, answers what the card
    is for; the citizen asked how to replace it (data/knowledge/faq.yml)."""
    message = _run(arbiter, "社保卡掉了，要怎么补一张", "faq", 1.0, 0.92, "si_card_functions")
    assert message.get("intent") == {"name": "request_service_guide", "confidence": 1.0}
    assert message.get(ARBITER_KEY)["service"] == "social_security_card"
    # an entry that answers a procedure stands when the retriever is sure of it
    answered = _run(arbiter, "违章罚款怎么交", "faq", 0.98, 0.95, "some_entry")
    assert answered.get("intent") == {"name": "faq", "confidence": 0.98}
    # no procedure asked: the entry stands
    about = _run(arbiter, "社保卡有什么用", "faq", 1.0, 0.99, "si_card_functions")
    assert about.get("intent") == {"name": "faq", "confidence": 1.0}


def test_the_entries_answering_no_procedure_are_read_from_the_faq_catalog(
    tmp_path: Path,
) -> None:
    catalog = tmp_path / "faq.yml"
    catalog.write_text(
        "entries:\n"
        "  - {id: card_use, question: 社保卡有什么用, examples: [社保卡能坐地铁吗]}\n"
        "  - {id: card_new, question: 社保卡丢了怎么补办, examples: [社保卡用途]}\n",
        encoding="utf-8",
    )
    assert ServiceFaqArbiter.entries_without_procedure(catalog) == {"card_use"}
    config = {"services": str(CATALOG), "catalog": str(catalog)}
    first = ServiceFaqArbiter.fingerprint_addon(config)
    catalog.write_text("entries:\n  - {id: card_use, question: 社保卡有什么用}\n", "utf-8")
    assert ServiceFaqArbiter.fingerprint_addon(config) != first
    faq = ROOT / "data" / "knowledge" / "faq.yml"
    shipped = ServiceFaqArbiter.entries_without_procedure(faq)
    assert "si_card_functions" in shipped and "edu_transfer_rules" in shipped
