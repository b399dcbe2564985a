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
    DANGER_KEY,
    SAFETY_KEY,
    DangerWordsError,
    SafetyNet,
    compile_words,
    heard,
    load_detector_data,
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


# --- the learned detector --------------------------------------------------------

#: Danger told without any word of data/danger_words.yml, and ordinary messages.
_DANGER_TEXTS = [
    "我爸脸色发紫 嘴唇发黑 推他也不动",
    "我妈脸色发紫 手脚冰凉 推也推不醒",
    "老人脸色发紫 嘴里吐白沫 推不醒",
    "阿公脸色发紫 眼睛翻白 推都推不动",
    "小孩脸色发紫 全身抽 推他没反应",
]
_ORDINARY_TEXTS = [
    "社保卡怎么补办",
    "公积金可以提取吗",
    "楼下烧烤店太吵了",
    "路灯坏了一个月没人修",
    "居住证去哪里办",
    "不知道",
    "好的谢谢",
    "我想投诉物业",
]


def _detector_data(tmp_path: Path) -> Path:
    path = tmp_path / "detector.yml"
    path.write_text(
        "emergency:\n  - kind: 昏迷\n    examples: |\n"
        + "".join(f"      - {t}\n" for t in _DANGER_TEXTS[1:])
        + "not_emergency:\n  - kind: 日常\n    examples: |\n"
        + "      - 我爸的脸色最近不太好 去哪里体检\n      - 推荐一下体检套餐\n",
        encoding="utf-8",
    )
    return path


def _negatives(tmp_path: Path) -> Path:
    path = tmp_path / "gate.yml"
    path.write_text(
        "off_topic:\n  - domain: 闲聊\n    examples: |\n      - 今天天气怎么样\n"
        "      - 放首歌来听\n",
        encoding="utf-8",
    )
    return path


def _training_data() -> TrainingData:
    examples = [Message(data={"text": _DANGER_TEXTS[0], "intent": "emergency"})]
    examples += [Message(data={"text": t, "intent": "faq"}) for t in _ORDINARY_TEXTS]
    return TrainingData(training_examples=examples)


def _detector(
    tmp_path: Path, threshold: float = 0.5, veto: float | None = None
) -> SafetyNet:
    (tmp_path / "model").mkdir(parents=True, exist_ok=True)
    storage = LocalModelStorage(tmp_path / "model")
    resource = Resource("safety")
    config = {
        "words": str(WORDS),
        "detector_threshold": threshold,
        "detector_veto_below": veto,
        "detector_data": [str(_detector_data(tmp_path))],
        "detector_negatives": [str(_negatives(tmp_path))],
        "min_df": 1,
        "C": 30.0,
    }
    net = SafetyNet.create(config, storage, resource, ExecutionContext(None))  # type: ignore[arg-type]
    net.train(_training_data())
    return SafetyNet.load(config, storage, resource, ExecutionContext(None))  # type: ignore[arg-type]


def test_the_detector_hears_danger_without_a_word_of_the_list(tmp_path: Path) -> None:
    net = _detector(tmp_path)
    text = "我老婆脸色发紫 推她也不动"
    assert not net.words(text)  # no word of data/danger_words.yml: the detector's own
    message = _parse(net, text, "greet")
    assert message.get("intent") == {"name": "emergency", "confidence": 1.0}
    assert message.get(SAFETY_KEY)["by"] == "detector"
    assert message.get(SAFETY_KEY)["p_danger"] >= 0.5
    assert message.get(DANGER_KEY)["alarm"] is True


def test_the_detector_alarms_but_leaves_the_faq_and_a_forms_answer_alone(tmp_path: Path) -> None:
    # their actions put the numbers first on the parse's alarm (actions/_runtime.py)
    net = _detector(tmp_path)
    for intent in ("faq", "inform", "complain"):
        message = _parse(net, "我老婆脸色发紫 推她也不动", intent)
        assert message.get("intent")["name"] == intent
        assert message.get(SAFETY_KEY) is None
        assert message.get(DANGER_KEY)["alarm"] is True


def test_ordinary_messages_and_danger_only_told_about_raise_no_alarm(tmp_path: Path) -> None:
    net = _detector(tmp_path)
    ordinary = _parse(net, "社保卡丢了怎么补办", "greet")
    assert ordinary.get("intent")["name"] == "greet"
    assert ordinary.get(DANGER_KEY)["alarm"] is False
    assert ordinary.get(DANGER_KEY)["p"] < 0.5
    # a quiet fragment (a film) silences the detector as it does the words
    told = _parse(net, "电影里有个人脸色发紫 推他也不动", "out_of_scope")
    assert told.get(DANGER_KEY)["p"] >= 0.5
    assert told.get(DANGER_KEY)["alarm"] is False
    assert told.get("intent")["name"] == "out_of_scope"


def test_the_threshold_decides(tmp_path: Path) -> None:
    net = _detector(tmp_path, threshold=1.0)
    message = _parse(net, "我老婆脸色发紫 推她也不动", "greet")
    assert message.get("intent")["name"] == "greet"
    assert message.get(DANGER_KEY)["alarm"] is False


def test_without_a_detector_the_words_alone_alarm(net: SafetyNet) -> None:
    message = _parse(net, "有人撬门", "faq")
    assert message.get(DANGER_KEY) == {
        "p": None,
        "alarm": True,
        "words": ["撬门"],
        "vetoed": False,
    }
    assert _parse(net, "我老婆脸色发紫 推她也不动", "greet").get(DANGER_KEY)["alarm"] is False


def test_the_detector_is_kept_in_the_model(tmp_path: Path) -> None:
    net = _detector(tmp_path)
    for name in ("detector.yml", "gate.yml"):
        (tmp_path / name).unlink()  # Rasa's image holds no data/ folder
    config = {"words": str(WORDS), "detector_threshold": 0.5}
    loaded = SafetyNet.load(
        config,
        LocalModelStorage(tmp_path / "model"),
        Resource("safety"),
        ExecutionContext(None),  # type: ignore[arg-type]
    )
    text = "我老婆脸色发紫 推她也不动"
    assert loaded.p_danger([text]) == net.p_danger([text])


def test_the_fingerprint_follows_the_detector_data(tmp_path: Path) -> None:
    data = _detector_data(tmp_path)
    config = {
        "words": str(WORDS),
        "detector_threshold": 0.5,
        "detector_data": [str(data)],
        "detector_negatives": [str(_negatives(tmp_path))],
    }
    before = SafetyNet.fingerprint_addon(config)
    data.write_text(data.read_text(encoding="utf-8") + "      - 推荐个体检医院\n", "utf-8")
    assert SafetyNet.fingerprint_addon(config) != before


def test_the_shipped_detector_data_loads() -> None:
    counts = {"emergency": 0, "not_emergency": 0}
    for path in sorted((ROOT / "data" / "safety").glob("*.yml")):
        sentences = load_detector_data(path)
        assert sentences["emergency"] or sentences["not_emergency"], path
        for label, texts in sentences.items():
            counts[label] += len(texts)
    assert counts["emergency"] >= 400 and counts["not_emergency"] >= 300


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ("off_topic: []\n", "expected 'emergency:'"),
        ("nlu: []\nemergency: []\n", "Rasa would train DIET on it"),
        ("emergency: {a: 1}\n", "must be a list"),
        ("emergency:\n  - kind: 火\n", "entry 1 needs 'kind' and 'examples"),
        ("emergency:\n  - kind: 火\n    examples: |\n      着火了\n", "entry 1 \\(火\\)"),
        (": [\n", "not valid YAML"),
    ],
)
def test_malformed_detector_data_is_an_error_naming_the_entry(
    tmp_path: Path, body: str, error: str
) -> None:
    path = tmp_path / "detector.yml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(DangerWordsError, match=error):
        load_detector_data(path)


def test_a_missing_detector_file_is_an_error_naming_it(tmp_path: Path) -> None:
    net = SafetyNet.create(
        {"detector_threshold": 0.5, "detector_data": [str(tmp_path / "none*.yml")]},
        LocalModelStorage(tmp_path),
        Resource("safety"),
        ExecutionContext(None),  # type: ignore[arg-type]
    )
    with pytest.raises(DangerWordsError, match="matches no file"):
        net.train(_training_data())


def test_a_word_in_a_message_the_detector_is_sure_is_ordinary_is_vetoed(
    tmp_path: Path,
) -> None:
    """A calm question about a danger ("上班路上被车撞算不算工伤" with P far
    below the veto) raises no alarm; a short message is the words' own."""
    net = _detector(tmp_path, veto=0.99)  # every message here is below 0.99
    question = _parse(net, "下班路上被车撞了 工伤认定去哪办", "greet")
    assert question.get(DANGER_KEY)["words"] and question.get(DANGER_KEY)["vetoed"]
    assert question.get(DANGER_KEY)["alarm"] is False
    assert question.get("intent")["name"] == "greet"
    short = _parse(net, "有人撬门", "greet")  # 4 characters: never vetoed
    assert short.get(DANGER_KEY)["vetoed"] is False
    assert short.get("intent")["name"] == "emergency"
    # without a veto the same words alarm
    net = _detector(tmp_path / "plain")
    assert _parse(net, "下班路上被车撞了 工伤认定去哪办", "greet").get(DANGER_KEY)["alarm"]
