"""The safety net inside the NLU (hotline_rasa/safety_net.py): chit-chat or a
declined message with words of danger becomes ``emergency``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from hotline_rasa.safety_net import (
    SAFETY_KEY,
    DangerWordsError,
    SafetyNet,
    compile_words,
    heard,
    load_fragments,
)
from hotline_rasa.tests.conftest import ROOT

WORDS = ROOT / "data" / "danger_words.yml"


def _trained(tmp_path: Path, config: dict | None = None) -> SafetyNet:
    storage = LocalModelStorage(tmp_path)
    resource = Resource("safety")
    config = {"words": str(WORDS), **(config or {})}
    SafetyNet.create(config, storage, resource, ExecutionContext(None)).train(TrainingData())  # type: ignore[arg-type]
    return SafetyNet.load(config, storage, resource, ExecutionContext(None))  # type: ignore[arg-type]


@pytest.fixture
def net(tmp_path: Path) -> SafetyNet:
    return _trained(tmp_path)


def _parse(net: SafetyNet, text: str, intent: str, confidence: float = 0.9) -> Message:
    message = Message(data={"text": text})
    message.set("intent", {"name": intent, "confidence": confidence}, add_to_output=True)
    ranking = [
        {"name": intent, "confidence": confidence},
        {"name": "emergency", "confidence": 0.01},
    ]
    message.set("intent_ranking", ranking, add_to_output=True)
    return net.process([message])[0]


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("有人撬门", "greet"),  # DIET's reading before the net
        ("你好 我家着火了", "greet"),
        ("谢谢 楼下有人打架", "thank"),
        ("有人在撬我家门，我好怕", "nlu_fallback"),
        ("救命", "out_of_scope"),
        ("算了 我老公晕倒了叫不醒", "stop"),
        ("转人工 有人拿刀", "request_human"),
        ("我朋友发消息说要自杀", "complain_service"),
    ],
)
def test_chit_chat_or_a_declined_message_with_danger_is_an_emergency(
    net: SafetyNet, text: str, intent: str
) -> None:
    message = _parse(net, text, intent, 0.83)
    assert message.get("intent") == {"name": "emergency", "confidence": 1.0}
    assert [r["name"] for r in message.get("intent_ranking")][:2] == ["emergency", intent]
    assert message.get(SAFETY_KEY)["from"] == intent
    assert message.get(SAFETY_KEY)["confidence"] == 0.83
    assert message.get(SAFETY_KEY)["words"]


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        # answered by their actions, which put the numbers first themselves
        ("被人打伤了 医药费能走医保吗", "faq"),
        ("楼下有人打架 我要投诉", "complain"),
        ("下班路上被车撞了 工伤认定去哪办", "request_service_guide"),
        ("上次被人打的那个工单处理了没", "check_ticket"),
        # a form's answer is the form's
        ("在东城被人打了的那条街", "inform"),
        # no danger words
        ("你好", "greet"),
        ("晚上打架子鼓太吵", "out_of_scope"),
        ("请打我电话", "affirm"),
        # the danger only told about
        ("游戏里我被人砍了", "out_of_scope"),
        ("昨晚梦见家里着火了", "greet"),
        ("看新闻说外地有工厂爆炸", "out_of_scope"),
    ],
)
def test_other_intents_and_ordinary_words_are_left_alone(
    net: SafetyNet, text: str, intent: str
) -> None:
    message = _parse(net, text, intent)
    assert message.get("intent")["name"] == intent
    assert message.get(SAFETY_KEY) is None


def test_the_words_are_the_files_and_kept_in_the_model(tmp_path: Path) -> None:
    # the action server joins the same fragments (bot/danger_words.py)
    shipped = load_fragments(WORDS)
    assert re.compile("|".join(shipped["danger"])).search("有人撬门")
    patterns = compile_words(shipped)
    assert heard(patterns, "有人撬门") and not heard(patterns, "游戏里有人撬门")
    words = tmp_path / "words.yml"
    words.write_text("version: 1\ngroups:\n  test: [龙卷风]\n", encoding="utf-8")
    (tmp_path / "model").mkdir()
    net = _trained(tmp_path / "model", {"words": str(words)})
    words.unlink()  # Rasa's image holds no data/ folder: the model carries them
    assert _parse(net, "龙卷风来了", "greet").get("intent")["name"] == "emergency"
    assert _parse(net, "有人撬门", "greet").get("intent")["name"] == "greet"


def test_a_model_without_the_words_changes_nothing(tmp_path: Path) -> None:
    storage = LocalModelStorage(tmp_path)
    net = SafetyNet.load({}, storage, Resource("never_trained"), ExecutionContext(None))  # type: ignore[arg-type]
    assert _parse(net, "救命", "greet").get("intent")["name"] == "greet"


def test_the_fingerprint_follows_the_word_file(tmp_path: Path) -> None:
    words = tmp_path / "words.yml"
    words.write_text("version: 1\ngroups:\n  a: [火]\n", encoding="utf-8")
    before = SafetyNet.fingerprint_addon({"words": str(words)})
    words.write_text("version: 1\ngroups:\n  a: [火, 水]\n", encoding="utf-8")
    assert SafetyNet.fingerprint_addon({"words": str(words)}) != before


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ("groups:\n  a: [火]\n", "version must be 1"),
        ("version: 1\n", "'groups' must map"),
        ("version: 1\ngroups:\n  fire: []\n", "group 'fire' must be a non-empty list"),
        ("version: 1\ngroups:\n  fire: ['']\n", "group 'fire' has an empty fragment"),
        ("version: 1\ngroups:\n  fire: ['着(火']\n", "group 'fire': '着\\(火'"),
    ],
)
def test_a_malformed_word_file_is_an_error_naming_the_group(
    tmp_path: Path, body: str, error: str
) -> None:
    words = tmp_path / "words.yml"
    words.write_text(body, encoding="utf-8")
    with pytest.raises(DangerWordsError, match=error):
        load_fragments(words)
