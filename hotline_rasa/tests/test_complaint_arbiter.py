"""The complaint arbiter (hotline_rasa/complaint_arbiter.py): an FAQ guess or a
declined message that tells of a problem becomes ``complain``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from hotline_rasa.complaint_arbiter import (
    ARBITER_KEY,
    COMPLAINT_KEY,
    DOUBT_KEY,
    ComplaintArbiter,
    ComplaintDataError,
    load_complaints,
)

_COMPLAINTS = [
    "楼下大排档每天吵到两点",
    "隔壁工地半夜还在施工 吵死了",
    "老板拖欠工资三个月不发",
    "工厂排黑烟 臭得要命",
    "小区电梯坏了半个月没人修",
    "路边垃圾堆了一周没人清",
    "超市卖过期面包还不给退",
    "邻居的狗整夜叫 吵得睡不着",
]
_QUESTIONS = [
    "燃气费怎么交",
    "社保卡怎么补办",
    "公积金提取需要什么材料",
    "居住证在哪里办",
    "医保报销比例是多少",
    "结婚登记要带什么",
    "驾驶证到期怎么换",
    "新生儿怎么上户口",
]
_EVERYDAY = ["今天天气怎么样", "放首歌来听", "凉拌黄瓜的做法", "讲个笑话"]


def _files(tmp_path: Path) -> dict[str, Any]:
    complaints = tmp_path / "complaints.yml"
    complaints.write_text(
        yaml.safe_dump({"category": "noise", "examples": _COMPLAINTS[1:]}, allow_unicode=True),
        encoding="utf-8",
    )
    catalog = tmp_path / "faq.yml"
    catalog.write_text(
        yaml.safe_dump(
            {
                "entries": [
                    {
                        "id": "q",
                        "question": _QUESTIONS[0],
                        "examples": _QUESTIONS[1:4],
                        "answer": "答",
                    }
                ]
            },
            allow_unicode=True,
        ),
        encoding="utf-8",
    )
    gate = tmp_path / "gate.yml"
    gate.write_text(
        "off_topic:\n  - domain: 闲聊\n    examples: |\n"
        + "".join(f"      - {t}\n" for t in _EVERYDAY),
        encoding="utf-8",
    )
    return {"complaints": [str(complaints)], "catalog": str(catalog), "negatives": [str(gate)]}


def _training_data() -> TrainingData:
    examples = [Message(data={"text": _COMPLAINTS[0], "intent": "complain"})]
    examples += [Message(data={"text": t, "intent": "faq"}) for t in _QUESTIONS[4:]]
    return TrainingData(training_examples=examples)


def _arbiter(tmp_path: Path, **config: object) -> ComplaintArbiter:
    (tmp_path / "model").mkdir(parents=True, exist_ok=True)
    storage = LocalModelStorage(tmp_path / "model")
    resource = Resource("complaint")
    merged = {**_files(tmp_path), "min_df": 1, "C": 30.0, **config}
    arbiter = ComplaintArbiter.create(merged, storage, resource, ExecutionContext(None))  # type: ignore[arg-type]
    arbiter.train(_training_data())
    return ComplaintArbiter.load(merged, storage, resource, ExecutionContext(None))  # type: ignore[arg-type]


def _parse(
    arbiter: ComplaintArbiter,
    text: str,
    intent: str,
    faq_confidence: float | None = 0.3,
    p_hotline: float | None = 0.6,
) -> Message:
    message = Message(data={"text": text})
    message.set("intent", {"name": intent, "confidence": 0.97}, add_to_output=True)
    message.set(
        "intent_ranking",
        [{"name": intent, "confidence": 0.97}, {"name": "complain", "confidence": 0.01}],
        add_to_output=True,
    )
    if faq_confidence is not None:
        message.set(
            "response_selector",
            {"faq": {"response": {"intent_response_key": "faq/q", "confidence": faq_confidence}}},
            add_to_output=True,
        )
    if p_hotline is not None:
        message.set("hotline_gate", {"p_hotline": p_hotline, "rejected": False}, add_to_output=True)
    return arbiter.process([message])[0]


def test_training_takes_complaints_against_questions_and_everyday_lines(tmp_path: Path) -> None:
    config = {**ComplaintArbiter.get_default_config(), **_files(tmp_path)}
    arbiter = ComplaintArbiter(config, LocalModelStorage(tmp_path), Resource("c"))
    texts, labels = arbiter.training_sets(_training_data())
    positives = {t for t, label in zip(texts, labels, strict=True) if label}
    assert len(positives) == len(_COMPLAINTS)  # the NLU's complain example and the files'
    assert len(texts) - len(positives) == len(_QUESTIONS) + len(_EVERYDAY)


@pytest.mark.parametrize("intent", ["faq", "out_of_scope", "nlu_fallback"])
def test_a_problem_told_in_a_line_becomes_a_complaint(tmp_path: Path, intent: str) -> None:
    arbiter = _arbiter(tmp_path, faq_threshold=0.5, rejected_threshold=0.5)
    message = _parse(arbiter, "楼下烧烤店每天吵到凌晨 睡不着", intent)
    assert message.get("intent")["name"] == "complain"
    assert [r["name"] for r in message.get("intent_ranking")][:2] == ["complain", intent]
    assert message.get(ARBITER_KEY)["from"] == intent
    assert message.get(ARBITER_KEY)["confidence"] == 0.97
    assert message.get(COMPLAINT_KEY)["p"] >= 0.5


def test_a_question_and_an_everyday_line_are_left_alone(tmp_path: Path) -> None:
    arbiter = _arbiter(tmp_path, faq_threshold=0.5, rejected_threshold=0.5)
    question = _parse(arbiter, "医保报销需要什么材料", "faq")
    assert question.get("intent")["name"] == "faq" and question.get(ARBITER_KEY) is None
    assert question.get(COMPLAINT_KEY)["p"] < 0.5
    everyday = _parse(arbiter, "放首歌来听", "out_of_scope")
    assert everyday.get("intent")["name"] == "out_of_scope"


def test_an_faq_the_retriever_is_sure_of_stays_a_question(tmp_path: Path) -> None:
    arbiter = _arbiter(tmp_path, faq_threshold=0.5, faq_sure_confidence=0.9)
    text = "楼下烧烤店每天吵到凌晨 睡不着"
    assert _parse(arbiter, text, "faq", faq_confidence=0.95).get("intent")["name"] == "faq"
    assert _parse(arbiter, text, "faq", faq_confidence=0.5).get("intent")["name"] == "complain"


def test_a_sure_faq_becomes_a_complaint_only_above_its_own_threshold(tmp_path: Path) -> None:
    """A problem on an FAQ entry's very subject (the retriever sure of it) is a
    complaint when the detector is surer still (sure_faq_threshold)."""
    text = "楼下烧烤店每天吵到凌晨 睡不着"
    p = _parse(_arbiter(tmp_path), text, "faq").get(COMPLAINT_KEY)["p"]
    sure = {"faq_threshold": 0.0, "faq_sure_confidence": 0.9}
    below = _arbiter(tmp_path / "below", **sure, sure_faq_threshold=max(0.0, p - 0.001))
    message = _parse(below, text, "faq", faq_confidence=0.99)
    assert message.get("intent")["name"] == "complain"
    assert message.get(ARBITER_KEY)["from"] == "faq"
    above = _arbiter(tmp_path / "above", **sure, sure_faq_threshold=min(1.0, p + 0.001))
    assert _parse(above, text, "faq", faq_confidence=0.99).get("intent")["name"] == "faq"
    # by default never: the retriever's sure entry stands
    default = _arbiter(tmp_path / "default", **sure)
    assert _parse(default, text, "faq", faq_confidence=0.99).get("intent")["name"] == "faq"


def test_a_declined_line_the_gate_is_sure_is_everyday_stays_declined(tmp_path: Path) -> None:
    arbiter = _arbiter(tmp_path, rejected_threshold=0.5, rejected_min_p_hotline=0.05)
    text = "楼下烧烤店每天吵到凌晨 睡不着"
    assert (
        _parse(arbiter, text, "out_of_scope", p_hotline=0.01).get("intent")["name"]
        == "out_of_scope"
    )
    assert _parse(arbiter, text, "out_of_scope", p_hotline=0.2).get("intent")["name"] == "complain"


def test_a_declined_line_the_gate_half_believes_needs_less_evidence(tmp_path: Path) -> None:
    text = "楼下烧烤店每天吵到凌晨 睡不着"
    p = _parse(_arbiter(tmp_path), text, "out_of_scope").get(COMPLAINT_KEY)["p"]
    config = {
        "rejected_threshold": 1.0,
        "rejected_threshold_hotline": max(0.0, p - 0.001),
        "rejected_hotline_min": 0.1,
    }
    arbiter = _arbiter(tmp_path / "half", **config)
    taken = _parse(arbiter, text, "out_of_scope", p_hotline=0.2)
    assert taken.get("intent")["name"] == "complain"
    everyday = _parse(arbiter, text, "nlu_fallback", p_hotline=0.05)
    assert everyday.get("intent")["name"] == "nlu_fallback"
    strict = _arbiter(tmp_path / "strict", **{**config, "rejected_threshold_hotline": 1.01})
    assert _parse(strict, text, "out_of_scope", p_hotline=0.2).get("intent")["name"] == (
        "out_of_scope"
    )


@pytest.mark.parametrize("intent", ["emergency", "inform", "greet", "check_ticket"])
def test_other_intents_are_never_changed(tmp_path: Path, intent: str) -> None:
    arbiter = _arbiter(tmp_path, faq_threshold=0.0, rejected_threshold=0.0, misread_threshold=0.0)
    message = _parse(arbiter, "楼下烧烤店每天吵到凌晨 睡不着", intent)
    assert message.get("intent")["name"] == intent and message.get(ARBITER_KEY) is None


@pytest.mark.parametrize("intent", ["request_service_guide", "complain_service"])
def test_a_problem_read_as_a_guide_request_or_about_the_hotline_becomes_a_complaint(
    tmp_path: Path, intent: str
) -> None:
    text = "楼下烧烤店每天吵到凌晨 睡不着"
    arbiter = _arbiter(tmp_path, misread_threshold=0.5)
    message = _parse(arbiter, text, intent)
    assert message.get("intent")["name"] == "complain"
    assert message.get(ARBITER_KEY)["from"] == intent
    question = _parse(arbiter, "医保报销需要什么材料", intent)
    assert question.get("intent")["name"] == intent and question.get(ARBITER_KEY) is None
    never = _arbiter(tmp_path / "never", misread_intents=[], misread_threshold=0.0)
    assert _parse(never, text, intent).get("intent")["name"] == intent


def test_the_thresholds_decide(tmp_path: Path) -> None:
    text = "楼下烧烤店每天吵到凌晨 睡不着"
    p = _parse(_arbiter(tmp_path), text, "faq").get(COMPLAINT_KEY)["p"]
    high = _arbiter(tmp_path / "high", faq_threshold=min(1.0, p + 0.001))
    assert _parse(high, text, "faq").get("intent")["name"] == "faq"
    low = _arbiter(tmp_path / "low", faq_threshold=max(0.0, p - 0.001))
    assert _parse(low, text, "faq").get("intent")["name"] == "complain"


def test_a_complaint_the_detector_doubts_is_the_faq_or_declined(tmp_path: Path) -> None:
    """DIET's complain with P(complaint) < doubt_threshold: the FAQ the
    retriever is sure enough of (>= doubt_faq_confidence), else out_of_scope."""
    arbiter = _arbiter(tmp_path, doubt_threshold=0.3, doubt_faq_confidence=0.5)
    question = _parse(arbiter, "医保报销需要什么材料", "complain", faq_confidence=0.99)
    p = question.get(COMPLAINT_KEY)["p"]
    assert p < 0.3
    assert question.get("intent") == {"name": "faq", "confidence": 0.99}
    assert [r["name"] for r in question.get("intent_ranking")][:2] == ["faq", "complain"]
    assert question.get(DOUBT_KEY) == {"to": "faq", "confidence": 0.97, "p_complaint": p}
    assert question.get(ARBITER_KEY) is None
    for confidence in (0.2, None):  # the retriever unsure, or no retriever
        everyday = _parse(arbiter, "医保报销需要什么材料", "complain", faq_confidence=confidence)
        assert everyday.get("intent")["name"] == "out_of_scope"
        assert everyday.get("intent")["confidence"] == pytest.approx(1.0 - p)
        assert everyday.get(DOUBT_KEY)["to"] == "out_of_scope"


def test_a_complaint_the_detector_believes_is_left_alone(tmp_path: Path) -> None:
    arbiter = _arbiter(tmp_path, doubt_threshold=0.3)
    message = _parse(arbiter, "楼下烧烤店每天吵到凌晨 睡不着", "complain", faq_confidence=0.99)
    assert message.get(COMPLAINT_KEY)["p"] >= 0.3
    assert message.get("intent")["name"] == "complain" and message.get(DOUBT_KEY) is None


def test_doubt_is_off_by_default_and_checked(tmp_path: Path) -> None:
    arbiter = _arbiter(tmp_path)
    message = _parse(arbiter, "医保报销需要什么材料", "complain", faq_confidence=0.99)
    assert message.get("intent")["name"] == "complain" and message.get(DOUBT_KEY) is None
    with pytest.raises(ValueError, match="doubt_threshold"):
        _arbiter(tmp_path / "bad", doubt_threshold=1.5)


def test_a_model_without_the_detector_changes_nothing(tmp_path: Path) -> None:
    storage = LocalModelStorage(tmp_path)
    arbiter = ComplaintArbiter.load({}, storage, Resource("none"), ExecutionContext(None))  # type: ignore[arg-type]
    message = _parse(arbiter, "楼下烧烤店每天吵到凌晨", "faq")
    assert message.get("intent")["name"] == "faq"
    assert message.get(COMPLAINT_KEY) == {"p": None}


def test_the_fingerprint_follows_the_data_files(tmp_path: Path) -> None:
    config = _files(tmp_path)
    before = ComplaintArbiter.fingerprint_addon(config)
    Path(config["complaints"][0]).write_text(
        "category: noise\nexamples:\n  - 广场舞太吵\n", encoding="utf-8"
    )
    assert ComplaintArbiter.fingerprint_addon(config) != before
    missing = ComplaintArbiter.fingerprint_addon(
        {**config, "complaints": [str(tmp_path / "none.yml")]}
    )
    assert missing is not None and missing.startswith("missing:")


def test_malformed_or_missing_data_is_an_error_naming_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("category: noise\nexamples: 楼下太吵\n", encoding="utf-8")
    with pytest.raises(ComplaintDataError, match="bad.yml"):
        load_complaints(bad)
    with pytest.raises(ComplaintDataError, match="none.yml"):
        load_complaints(tmp_path / "none.yml")
    config = {**_files(tmp_path), "complaints": [str(tmp_path / "nothing-*.yml")]}
    arbiter = ComplaintArbiter(config, LocalModelStorage(tmp_path), Resource("c"))
    with pytest.raises(ComplaintDataError):
        arbiter.train(TrainingData())


def test_the_shipped_complaint_data_loads() -> None:
    complaints, catalog, negatives = ComplaintArbiter.data_files({})
    assert len(complaints) >= 20 and catalog is not None and catalog.is_file()
    assert sum(len(load_complaints(path)) for path in complaints) >= 2000
    assert negatives
