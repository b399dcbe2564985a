"""The service retriever (hotline_rasa/service_retriever.py): learns a catalog's
services, persists, loads, and adds the ``service`` entity only to a service
request naming no service, when it is sure enough."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from hotline_rasa.service_retriever import (
    EXTRACTOR,
    MODEL_FILE,
    RETRIEVER_KEY,
    ServiceRetriever,
    ServiceRetrieverError,
)
from hotline_rasa.tests.conftest import ROOT

SERVICES = [
    {
        "id": "no_criminal_record",
        "name": "无犯罪记录证明",
        "aliases": ["无犯罪证明", "无犯罪记录"],
        "examples": ["开无犯罪记录证明", "证明自己没有犯罪记录", "单位要我开个没有案底的证明"],
    },
    {
        "id": "provident_fund_withdrawal",
        "name": "住房公积金提取",
        "aliases": ["公积金提取", "提取公积金"],
        "examples": ["公积金怎么取出来", "把公积金的钱取出来", "离职了公积金能取吗"],
    },
    {
        "id": "business_license",
        "name": "个体工商户登记",
        "aliases": ["个体户营业执照", "营业执照"],
        "examples": ["开个小店要办什么照", "我想开档口做生意", "摆摊做小生意要登记吗"],
    },
]
GENERIC = ["我要办事", "办事指南", "我想办个业务", "办事要带什么材料", "去哪里办事"]


def write_catalog(path: Path, services: list[dict[str, Any]] = SERVICES) -> Path:
    path.write_text(yaml.safe_dump({"services": services}, allow_unicode=True), encoding="utf-8")
    return path


def training_data() -> TrainingData:
    examples = [Message(data={"text": t, "intent": "request_service_guide"}) for t in GENERIC]
    examples += [Message(data={"text": "你好", "intent": "greet"})]
    return TrainingData(training_examples=examples)


def context() -> ExecutionContext:
    return ExecutionContext(GraphSchema({}), "test-model")


def trained_and_loaded(tmp_path: Path, **cfg: Any) -> ServiceRetriever:
    storage_dir = tmp_path / "storage"
    storage_dir.mkdir(parents=True, exist_ok=True)
    storage = LocalModelStorage(storage_dir)
    resource = Resource("service_retriever")
    config = {"services": str(write_catalog(tmp_path / "services.yml")), **cfg}
    component = ServiceRetriever.create(config, storage, resource, context())
    assert component.train(training_data()) == resource
    return ServiceRetriever.load(config, storage, resource, context())


def parse(component: ServiceRetriever, text: str, intent: str = "request_service_guide") -> Message:
    message = Message(data={"text": text})
    message.set("intent", {"name": intent, "confidence": 0.9}, add_to_output=True)
    return component.process([message])[0]


def service_entities(message: Message) -> list[dict[str, Any]]:
    return [e for e in message.get("entities") or [] if e.get("entity") == "service"]


@pytest.fixture
def retriever(tmp_path: Path) -> ServiceRetriever:
    return trained_and_loaded(tmp_path, threshold=0.4)


def test_a_request_in_other_words_gets_the_service_entity(retriever: ServiceRetriever) -> None:
    message = parse(retriever, "开个证明 证明我没犯过事的那种")
    entities = service_entities(message)
    assert len(entities) == 1
    assert entities[0]["value"] == "no_criminal_record"
    assert entities[0]["extractor"] == EXTRACTOR
    assert entities[0]["confidence_entity"] >= 0.4
    key = message.get(RETRIEVER_KEY)
    assert key["service"] == "no_criminal_record" and key["used"] and key["sure"]
    assert RETRIEVER_KEY in message.as_dict(only_output_properties=True)


def test_a_request_naming_a_service_is_left_to_the_matcher(retriever: ServiceRetriever) -> None:
    message = parse(retriever, "我想提取公积金")
    assert service_entities(message) == []
    assert message.get(RETRIEVER_KEY)["used"] is False


@pytest.mark.parametrize("intent", ["faq", "out_of_scope", "complain", "inform_service_mode"])
def test_other_intents_get_no_entity_but_the_diagnosis(
    retriever: ServiceRetriever, intent: str
) -> None:
    message = parse(retriever, "开个证明 证明我没犯过事的那种", intent)
    assert service_entities(message) == []
    key = message.get(RETRIEVER_KEY)
    assert key["service"] == "no_criminal_record" and key["sure"] and not key["used"]


def test_a_request_naming_no_service_at_all_is_generic(retriever: ServiceRetriever) -> None:
    message = parse(retriever, "我要办事")
    assert service_entities(message) == []
    assert message.get(RETRIEVER_KEY)["service"] is None


def test_the_threshold_is_respected(tmp_path: Path) -> None:
    low = trained_and_loaded(tmp_path / "low", threshold=0.0)
    high = trained_and_loaded(tmp_path / "high", threshold=0.99)
    text = "开个证明 证明我没犯过事的那种"
    confidence = parse(low, text).get(RETRIEVER_KEY)["confidence"]
    assert confidence < 0.99
    assert service_entities(parse(low, text))
    assert service_entities(parse(high, text)) == []
    assert parse(high, text).get(RETRIEVER_KEY)["sure"] is False


def test_an_entity_already_there_is_kept(retriever: ServiceRetriever) -> None:
    message = Message(data={"text": "开个证明 证明我没犯过事的那种"})
    message.set("intent", {"name": "request_service_guide", "confidence": 1.0})
    message.set("entities", [{"entity": "service", "value": "business_license"}])
    entities = service_entities(retriever.process([message])[0])
    assert [e["value"] for e in entities] == ["business_license"]


def test_persisted_and_loaded_the_same(tmp_path: Path) -> None:
    loaded = trained_and_loaded(tmp_path)
    assert list((tmp_path / "storage").rglob(MODEL_FILE))
    assert loaded.guess(["把公积金的钱拿出来用"])[0][0] == "provident_fund_withdrawal"


def test_an_untrained_model_changes_nothing(tmp_path: Path) -> None:
    empty = ServiceRetriever.load({}, LocalModelStorage(tmp_path), Resource("none"), context())
    message = parse(empty, "开个证明 证明我没犯过事的那种")
    assert service_entities(message) == [] and message.get(RETRIEVER_KEY) is None


def test_the_catalog_is_in_the_fingerprint(tmp_path: Path) -> None:
    catalog = write_catalog(tmp_path / "services.yml")
    first = ServiceRetriever.fingerprint_addon({"services": str(catalog)})
    write_catalog(catalog, SERVICES[:2])
    assert ServiceRetriever.fingerprint_addon({"services": str(catalog)}) != first


def test_bad_catalog_and_threshold_are_named(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("services:\n  - name: 居住证\n", encoding="utf-8")
    storage = LocalModelStorage(tmp_path)
    component = ServiceRetriever.create({"services": str(bad)}, storage, Resource("x"), context())
    with pytest.raises((ServiceRetrieverError, ValueError), match="service 1 has no id"):
        component.train(training_data())
    with pytest.raises(ValueError, match="threshold"):
        ServiceRetriever({"threshold": 1.5}, storage, Resource("y"))


def test_the_shipped_catalog_trains(tmp_path: Path) -> None:
    storage = LocalModelStorage(tmp_path)
    config = {"services": str(ROOT / "data" / "knowledge" / "services.yml")}
    component = ServiceRetriever.create(config, storage, Resource("s"), context())
    component.train(training_data())
    assert parse(component, "开个证明 证明我没犯过事的那种").get(RETRIEVER_KEY)["service"]


def faq_message(text: str, faq: float) -> Message:
    message = Message(data={"text": text})
    message.set("intent", {"name": "faq", "confidence": 0.97}, add_to_output=True)
    message.set("intent_ranking", [{"name": "faq", "confidence": 0.97}], add_to_output=True)
    response = {"confidence": faq, "intent_response_key": "faq/some_entry"}
    message.set("response_selector", {"faq": {"response": response}}, add_to_output=True)
    return message


def test_an_faq_stays_an_faq(tmp_path: Path) -> None:
    """DIET's faq is never turned into the guide, however sure the guess."""
    component = trained_and_loaded(tmp_path, threshold=0.4)
    message = component.process([faq_message("开个证明 证明我没犯过事的那种", 0.3)])[0]
    assert message.get("intent")["name"] == "faq"
    assert service_entities(message) == []


# --- everyday messages, and a declined request of a service ------------------

EVERYDAY = [
    "明天会下雨吗",
    "帮我放首歌",
    "火锅底料怎么炒",
    "证券账户开户要什么条件",
    "超市会员卡积分有什么用",
    "手机充不进电怎么办",
    "周末去哪里玩",
    "猫咪打疫苗多少钱",
]


def write_negatives(path: Path, texts: list[str]) -> Path:
    body = {"off_topic": [{"domain": "生活", "examples": "".join(f"- {t}\n" for t in texts)}]}
    path.write_text(yaml.safe_dump(body, allow_unicode=True), encoding="utf-8")
    return path


def rescuing(tmp_path: Path, **cfg: Any) -> ServiceRetriever:
    tmp_path.mkdir(parents=True, exist_ok=True)
    negatives = write_negatives(tmp_path / "everyday.yml", EVERYDAY[4:])
    data = training_data().merge(
        TrainingData(
            training_examples=[
                Message(data={"text": t, "intent": "out_of_scope"}) for t in EVERYDAY[:4]
            ]
        )
    )
    storage_dir = tmp_path / "storage"
    storage_dir.mkdir(parents=True, exist_ok=True)
    storage, resource = LocalModelStorage(storage_dir), Resource("service_retriever")
    config = {
        "services": str(write_catalog(tmp_path / "services.yml")),
        "off_topic_intent": "out_of_scope",
        "negatives": [str(negatives)],
        "rescue_intents": ["out_of_scope", "nlu_fallback"],
        "rescue_threshold": 0.5,
        "threshold": 0.4,
        **cfg,
    }
    component = ServiceRetriever.create(config, storage, resource, context())
    component.train(data)
    return ServiceRetriever.load(config, storage, resource, context())


def test_everyday_messages_are_a_class_of_their_own(tmp_path: Path) -> None:
    """The NLU's out_of_scope examples and the negatives files' sentences
    make __off_topic__; a message like them is no service's request."""
    component = rescuing(tmp_path)
    texts, labels = component.training_pairs(
        training_data().merge(
            TrainingData(
                training_examples=[Message(data={"text": "明天会下雨吗", "intent": "out_of_scope"})]
            )
        )
    )
    assert labels.count("__off_topic__") == 1 + len(EVERYDAY[4:])
    (service, confidence, off_share) = component.guess(["后天会不会下雨"])[0]
    assert off_share > 0.5
    # given that a message is a request, which service is judged without the class
    (service, confidence, off_share) = component.guess(["开个证明 证明我没犯过事的那种"])[0]
    assert service == "no_criminal_record" and off_share < 0.5 and 0 < confidence <= 1


@pytest.mark.parametrize("declined", ["out_of_scope", "nlu_fallback"])
def test_a_declined_request_of_a_service_becomes_the_guide(tmp_path: Path, declined: str) -> None:
    component = rescuing(tmp_path)
    message = Message(data={"text": "单位要我开个证明 证明我没有案底"})
    message.set("intent", {"name": declined, "confidence": 0.8}, add_to_output=True)
    message.set(
        "intent_ranking",
        [{"name": declined, "confidence": 0.8}, {"name": "faq", "confidence": 0.1}],
        add_to_output=True,
    )
    message = component.process([message])[0]
    assert message.get("intent")["name"] == "request_service_guide"
    assert message.get("intent")["confidence"] >= 0.5
    ranking = [r["name"] for r in message.get("intent_ranking")]
    assert ranking[0] == "request_service_guide" and declined in ranking
    assert [e["value"] for e in service_entities(message)] == ["no_criminal_record"]
    assert message.get(RETRIEVER_KEY)["rescued_from"] == declined


def test_a_declined_everyday_message_stays_declined(tmp_path: Path) -> None:
    component = rescuing(tmp_path)
    message = parse(component, "后天会不会下雨", "out_of_scope")
    assert message.get("intent")["name"] == "out_of_scope"
    assert service_entities(message) == []
    assert "rescued_from" not in message.get(RETRIEVER_KEY)


def test_no_rescue_below_its_threshold_or_for_other_intents(tmp_path: Path) -> None:
    text = "单位要我开个证明 证明我没有案底"
    strict = rescuing(tmp_path / "strict", rescue_threshold=1.0)
    assert parse(strict, text, "out_of_scope").get("intent")["name"] == "out_of_scope"
    other = rescuing(tmp_path / "other")
    assert parse(other, text, "complain").get("intent")["name"] == "complain"
    with pytest.raises(ValueError, match="rescue_threshold"):
        ServiceRetriever({"rescue_threshold": 0}, LocalModelStorage(tmp_path), Resource("z"))


def test_an_everyday_question_read_as_the_guide_is_declined(tmp_path: Path) -> None:
    """DIET's request of the guide naming no service, which the retriever's
    off-topic class takes (share >= decline_off_topic), becomes out_of_scope:
    the guide's form no longer asks an everyday question which service."""
    component = rescuing(tmp_path, decline_off_topic=0.5)
    message = Message(data={"text": "后天会不会下雨"})
    message.set("intent", {"name": "request_service_guide", "confidence": 1.0}, add_to_output=True)
    message.set(
        "intent_ranking",
        [{"name": "request_service_guide", "confidence": 1.0}, {"name": "faq", "confidence": 0.0}],
        add_to_output=True,
    )
    message = component.process([message])[0]
    verdict = message.get(RETRIEVER_KEY)
    assert message.get("intent") == {"name": "out_of_scope", "confidence": verdict["off_topic"]}
    assert verdict["off_topic"] >= 0.5 and verdict["declined_from"] == "request_service_guide"
    ranking = [r["name"] for r in message.get("intent_ranking")]
    assert ranking[:2] == ["out_of_scope", "request_service_guide"]
    assert service_entities(message) == []


def test_a_request_naming_a_service_or_of_no_service_is_not_declined(tmp_path: Path) -> None:
    """Only an unnamed request the off-topic class is sure of: one naming a
    catalog service, a request of no service in particular ("我要办事") and an
    everyday question under its threshold, or with the guard off, stay the guide."""
    component = rescuing(tmp_path, decline_off_topic=0.5)
    for text in ["明天下雨 无犯罪证明还能去开吗", "我要办事"]:
        message = parse(component, text)
        assert message.get("intent")["name"] == "request_service_guide", text
        assert "declined_from" not in message.get(RETRIEVER_KEY)
    assert parse(component, "后天会不会下雨", "faq").get("intent")["name"] == "faq"
    strict = rescuing(tmp_path / "strict", decline_off_topic=1.0)
    assert parse(strict, "后天会不会下雨").get("intent")["name"] == "request_service_guide"
    off = rescuing(tmp_path / "off")
    assert parse(off, "后天会不会下雨").get("intent")["name"] == "request_service_guide"
    with pytest.raises(ValueError, match="decline_off_topic"):
        ServiceRetriever({"decline_off_topic": 0}, LocalModelStorage(tmp_path), Resource("z"))
    with pytest.raises(ValueError, match="off_topic_intent"):
        ServiceRetriever({"decline_off_topic": 0.9}, LocalModelStorage(tmp_path), Resource("z"))


def test_the_negatives_are_in_the_fingerprint(tmp_path: Path) -> None:
    catalog = write_catalog(tmp_path / "services.yml")
    negatives = write_negatives(tmp_path / "everyday.yml", EVERYDAY)
    config = {"services": str(catalog), "negatives": [str(negatives)]}
    first = ServiceRetriever.fingerprint_addon(config)
    write_negatives(negatives, EVERYDAY[:3])
    assert ServiceRetriever.fingerprint_addon(config) != first
    assert "missing" in str(
        ServiceRetriever.fingerprint_addon({**config, "negatives": [str(tmp_path / "no.yml")]})
    )
