"""The hotline gate (hotline_rasa/hotline_gate.py): trains, persists, loads, and
turns an off-topic message's topical intent into out_of_scope, leaving hotline
matters, chit-chat and answers inside a form alone."""

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

from hotline_rasa import cantonese
from hotline_rasa.hotline_gate import (
    CANTONESE_MODEL_FILE,
    GATE_KEY,
    GateDataError,
    HotlineGate,
    build_classifier,
    drop_stop_words,
    load_negatives,
    normalise,
)

ROOT = Path(__file__).resolve().parents[2]

IN_SCOPE = {
    "faq": [
        "社保断缴了有什么影响",
        "公积金贷款最多能贷多少",
        "个税起征点是多少",
        "新生儿怎么办医保",
        "居住证多久能办下来",
        "电动车上牌需要什么材料",
        "失业金每个月领多少",
        "阶梯电价怎么算",
        "燃气泄漏了怎么办",
        "驾照扣分怎么查",
    ],
    "complain": [
        "楼下烧烤店天天晚上很吵",
        "小区门口乱停车没人管",
        "工地半夜还在施工",
        "路灯坏了好几天了",
        "餐馆油烟太大熏得受不了",
        "马路上的井盖丢了",
    ],
    "check_ticket": [
        "我上周提交的工单处理得怎么样了",
        "查一下我的投诉进度",
        "工单编号是多少能查到吗",
    ],
}
OUT_OF_SCOPE = ["讲个笑话", "你喜欢什么颜色", "推荐一部电影"]
NEGATIVES = {
    "off_topic": [
        {
            "domain": "音乐",
            "examples": "- 放一首周杰伦的歌\n- 来点轻音乐\n- 下一首歌\n- 播放流行歌曲\n",
        },
        {
            "domain": "出行",
            "examples": "- 明天去广州的高铁几点\n- 帮我订一张机票\n- 火车票还有吗\n",
        },
        {
            "domain": "闹钟和计算",
            "examples": "- 明早七点叫我起床\n- 定个闹钟\n- 三加五等于几\n- 十二乘以八是多少\n",
        },
    ]
}


def training_data() -> TrainingData:
    examples = [
        Message(data={"text": text, "intent": intent})
        for intent, texts in IN_SCOPE.items()
        for text in texts
    ]
    examples += [Message(data={"text": t, "intent": "out_of_scope"}) for t in OUT_OF_SCOPE]
    return TrainingData(training_examples=examples)


def context() -> ExecutionContext:
    return ExecutionContext(GraphSchema({}), "test-model")


@pytest.fixture
def negatives(tmp_path: Path) -> Path:
    path = tmp_path / "gate" / "everyday.yml"
    path.parent.mkdir()
    path.write_text(yaml.safe_dump(NEGATIVES, allow_unicode=True), encoding="utf-8")
    return path


def config(negatives: Path, **extra: Any) -> dict[str, Any]:
    return {**HotlineGate.get_default_config(), "negatives": [str(negatives)], "min_df": 1, **extra}


def parsed(text: str, intent: str) -> Message:
    ranking = [{"name": intent, "confidence": 0.98}, {"name": "faq", "confidence": 0.02}]
    return Message(data={"text": text, "intent": ranking[0], "intent_ranking": ranking})


def model_storage(tmp_path: Path) -> LocalModelStorage:
    (tmp_path / "storage").mkdir(exist_ok=True)
    return LocalModelStorage(tmp_path / "storage")


def trained_and_loaded(tmp_path: Path, cfg: dict[str, Any]) -> HotlineGate:
    storage = model_storage(tmp_path)
    resource = Resource("hotline_gate")
    gate = HotlineGate.create(cfg, storage, resource, context())
    assert gate.train(training_data()) == resource
    return HotlineGate.load(cfg, storage, resource, context())


def test_trains_persists_loads_and_gates(tmp_path: Path, negatives: Path) -> None:
    gate = trained_and_loaded(tmp_path, config(negatives))
    files = list((tmp_path / "storage").rglob("*.joblib"))
    assert len(files) == 1 and files[0].stat().st_size < 200_000

    song = parsed("给我放一首周杰伦的流行歌", "check_ticket")
    train = parsed("帮我订明天去广州的火车票", "request_service_guide")
    sum_ = parsed("七加八等于几", "faq")
    noise = parsed("楼下烧烤店太吵了", "complain")
    pension = parsed("社保断缴了怎么办", "faq")
    gate.process([song, train, sum_, noise, pension])

    for message in (song, train, sum_):
        assert message.get("intent")["name"] == "out_of_scope", message.get("text")
        assert message.get("intent_ranking")[0]["name"] == "out_of_scope"
        assert message.get(GATE_KEY)["rejected"] is True
    # the classifier's own guess stays in the ranking, after out_of_scope
    assert song.get("intent_ranking")[1]["name"] == "check_ticket"
    for message, intent in ((noise, "complain"), (pension, "faq")):
        assert message.get("intent")["name"] == intent, message.get("text")
        assert message.get(GATE_KEY)["rejected"] is False
        assert message.get(GATE_KEY)["p_hotline"] >= 0.5


def test_exempt_intents_are_left_alone(tmp_path: Path, negatives: Path) -> None:
    gate = trained_and_loaded(tmp_path, config(negatives))
    hello = parsed("放一首歌吧你好", "greet")
    yes = parsed("下一首歌", "affirm")
    gate.process([hello, yes])
    assert hello.get("intent")["name"] == "greet"
    assert yes.get("intent")["name"] == "affirm"
    assert hello.get(GATE_KEY)["rejected"] is False


def test_threshold_zero_rejects_nothing(tmp_path: Path, negatives: Path) -> None:
    gate = trained_and_loaded(tmp_path, config(negatives, threshold=0.0))
    song = parsed("给我放一首周杰伦的流行歌", "check_ticket")
    gate.process([song])
    assert song.get("intent")["name"] == "check_ticket"


def test_untrained_model_passes_messages_unchanged(tmp_path: Path, negatives: Path) -> None:
    storage = model_storage(tmp_path)
    gate = HotlineGate.load(config(negatives), storage, Resource("nothing"), context())
    song = parsed("给我放一首周杰伦的流行歌", "check_ticket")
    gate.process([song])
    assert song.get("intent")["name"] == "check_ticket"


def _another_table() -> cantonese.CantoneseWords:
    """The shipped table with 睇 read otherwise: an image whose file changed
    after the model was trained."""
    text = cantonese.CANTONESE_FILE.read_text(encoding="utf-8")
    changed = text.replace("mandarin: 看\n", "mandarin: 瞧\n", 1)
    assert changed != text
    return cantonese.read_cantonese(changed, "another table")


def test_the_model_reads_messages_with_the_table_it_was_trained_with(
    tmp_path: Path, negatives: Path, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    """Trained with the shipped table; the image's file has since changed: the
    loaded model reads 睇 as its classifiers learnt it, and says so."""
    monkeypatch.setattr(cantonese, "WORDS", cantonese.WORDS)  # restored after
    storage = model_storage(tmp_path)
    resource = Resource("hotline_gate")
    gate = HotlineGate.create(config(negatives), storage, resource, context())
    gate.train(training_data())
    with storage.read_from(resource) as directory:
        kept = (Path(directory) / CANTONESE_MODEL_FILE).read_text(encoding="utf-8")
    assert kept == cantonese.CANTONESE_FILE.read_text(encoding="utf-8")

    image = _another_table()
    monkeypatch.setattr(cantonese, "IMAGE_WORDS", image)
    cantonese.use(image)
    assert normalise("睇下社保") == "瞧下社保"
    HotlineGate.load(config(negatives), storage, resource, context())
    assert normalise("睇下社保") == "看下社保"
    assert "another Cantonese table" in caplog.text


def test_a_model_without_a_table_reads_with_the_images(
    tmp_path: Path, negatives: Path, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    """A model trained before the table travelled with it: the image's table,
    not the one a model loaded before it installed, and a warning."""
    monkeypatch.setattr(cantonese, "WORDS", cantonese.WORDS)
    storage = model_storage(tmp_path)
    resource = Resource("hotline_gate")
    HotlineGate.create(config(negatives), storage, resource, context()).train(training_data())
    with storage.write_to(resource) as directory:
        (Path(directory) / CANTONESE_MODEL_FILE).unlink()
    cantonese.use(_another_table())
    gate = HotlineGate.load(config(negatives), storage, resource, context())
    assert normalise("睇下社保") == "看下社保"
    assert "keeps no Cantonese table" in caplog.text
    assert gate.p_hotline(["社保断缴了有什么影响"])[0] > 0.5  # the gate itself still loads


def test_a_malformed_table_in_the_model_stops_the_load(
    tmp_path: Path, negatives: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not a gate silently turned off: the error names the model's table and the entry."""
    monkeypatch.setattr(cantonese, "WORDS", cantonese.WORDS)
    storage = model_storage(tmp_path)
    resource = Resource("hotline_gate")
    HotlineGate.create(config(negatives), storage, resource, context()).train(training_data())
    with storage.write_to(resource) as directory:
        (Path(directory) / CANTONESE_MODEL_FILE).write_text(
            "version: 1\nwords:\n  - {cantonese: 睇}\n", encoding="utf-8"
        )
    with pytest.raises(cantonese.CantoneseTableError, match="the model's cantonese.yml: entry 1"):
        HotlineGate.load(config(negatives), storage, resource, context())


def test_bad_threshold_is_refused(tmp_path: Path, negatives: Path) -> None:
    with pytest.raises(ValueError, match="threshold"):
        HotlineGate(config(negatives, threshold=1.5), LocalModelStorage(tmp_path), Resource("g"))


def test_fingerprint_follows_the_negatives_files(negatives: Path) -> None:
    cfg = config(negatives)
    before = HotlineGate.fingerprint_addon(cfg)
    negatives.write_text(
        negatives.read_text(encoding="utf-8") + "- domain: 天气\n  examples: |\n    - 明天下雨吗\n",
        encoding="utf-8",
    )
    assert HotlineGate.fingerprint_addon(cfg) != before


def test_bad_negatives_files_name_the_problem(tmp_path: Path) -> None:
    missing = tmp_path / "missing.yml"
    with pytest.raises(GateDataError, match="missing.yml"):
        load_negatives(missing)
    wrong = tmp_path / "wrong.yml"
    wrong.write_text("nlu:\n- intent: out_of_scope\n", encoding="utf-8")
    with pytest.raises(GateDataError, match="wrong.yml.*off_topic"):
        load_negatives(wrong)
    bad_line = tmp_path / "bad_line.yml"
    bad_line.write_text("off_topic:\n- domain: 音乐\n  examples: |\n    放歌\n", encoding="utf-8")
    with pytest.raises(GateDataError, match="音乐"):
        load_negatives(bad_line)
    storage = model_storage(tmp_path)
    gate = HotlineGate(config(tmp_path / "none-*.yml"), storage, Resource("g"))
    with pytest.raises(GateDataError, match="matches no file"):
        gate.train(training_data())


def test_normalise() -> None:
    assert normalise(" Ａ１２ 3 ") == "a000"


@pytest.mark.parametrize(
    ("text", "reading"),
    [
        ("gjj余额在哪个小程序能看", "公积金余额在哪个小程序能看"),
        ("我GJJ还有几多钱 点查", "我公积金还有多少钱怎么查"),  # with the Cantonese table
        ("用 sfz 办", "用身份证办"),
        ("ｙｙｚｚ过期了", "营业执照过期了"),  # NFKC first
        # only a whole run of Latin letters: words that hold them stay
        ("gjjx", "gjjx"),
        ("abcsfz", "abcsfz"),
        ("sb每个月交多少", "sb每个月交多少"),  # sb is also an insult: not in the list
    ],
)
def test_normalise_reads_pinyin_initials(text: str, reading: str) -> None:
    assert normalise(text) == reading


def test_shipped_negatives_load_and_are_not_nlu_data() -> None:
    files = sorted((ROOT / "data" / "gate").glob("*.yml"))
    assert files
    assert sum(len(load_negatives(f)) for f in files) >= 500
    for path in files:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert "nlu" not in data  # DIET must never train on them


def test_config_runs_the_gate_after_the_fallback_classifier() -> None:
    pipeline = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))["pipeline"]
    names = [c["name"] for c in pipeline]
    gate = names.index("hotline_rasa.hotline_gate.HotlineGate")
    assert gate > names.index("FallbackClassifier")
    assert gate > names.index("hotline_rasa.faq_retriever.FaqRetriever")


def test_gate_on_the_shipped_training_data(tmp_path: Path) -> None:
    """Trained on the real data/ with the configured settings: obvious everyday
    requests are rejected, obvious hotline matters kept."""
    from rasa.shared.importers.importer import TrainingDataImporter

    pipeline = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))["pipeline"]
    (cfg,) = [c for c in pipeline if c["name"] == "hotline_rasa.hotline_gate.HotlineGate"]
    cfg = {k: v for k, v in cfg.items() if k != "name"}
    cfg["negatives"] = [str(ROOT / "data" / "gate" / "*.yml")]
    importer = TrainingDataImporter.load_from_dict(
        {}, str(ROOT / "config.yml"), str(ROOT / "domain.yml"), [str(ROOT / "data")]
    )
    storage = model_storage(tmp_path)
    resource = Resource("hotline_gate")
    gate = HotlineGate.create(cfg, storage, resource, context())
    gate.train(importer.get_nlu_data())
    gate = HotlineGate.load(cfg, storage, resource, context())

    off_topic = ["帮我把闹钟定在明早六点", "放一首张学友的吻别", "二十三乘以十七等于多少"]
    hotline = ["社保卡丢了怎么补办", "楼下烧烤店天天吵到凌晨", "我要查一下工单进度"]
    # "complain" stands for any watched intent: it has no required words
    messages = [parsed(t, "complain") for t in off_topic + hotline]
    gate.process(messages)
    outcome = {m.get("text"): m.get("intent")["name"] for m in messages}
    assert {t: outcome[t] for t in off_topic} == {t: "out_of_scope" for t in off_topic}
    assert {t: outcome[t] for t in hotline} == {t: "complain" for t in hotline}
    assert all(m.get(GATE_KEY).get("reason") is None for m in messages)


# --- the FAQ check: an FAQ the gate half believes, with an unsure entry --------


class FixedProbability:
    """A stand-in for the trained gate: P(hotline matter) by text."""

    def __init__(self, p: dict[str, float]) -> None:
        self.p = p

    def predict_proba(self, texts: list[str]) -> Any:
        import numpy as np

        return np.array([[1 - self.p[t], self.p[t]] for t in texts])


def faq_parsed(text: str, faq_confidence: float | None, intent: str = "faq") -> Message:
    message = parsed(text, intent)
    if faq_confidence is not None:
        key = "faq/ut_tiered_electricity"
        message.set(
            "response_selector",
            {
                "all_retrieval_intents": ["faq"],
                "faq": {
                    "response": {"confidence": faq_confidence, "intent_response_key": key},
                    "ranking": [{"confidence": faq_confidence, "intent_response_key": key}],
                },
            },
            add_to_output=True,
        )
    return message


def fixed_gate(tmp_path: Path, p: dict[str, float], **extra: Any) -> HotlineGate:
    cfg = {**HotlineGate.get_default_config(), "threshold": 0.45, **extra}
    return HotlineGate(cfg, model_storage(tmp_path), Resource("gate"), FixedProbability(p))


def test_an_faq_half_believed_with_an_unsure_entry_is_rejected(tmp_path: Path) -> None:
    text = "圆通的电话是多少"
    gate = fixed_gate(tmp_path, {normalise(text): 0.58})
    message = faq_parsed(text, 0.13)
    gate.process([message])
    assert message.get("intent") == {"name": "out_of_scope", "confidence": 0.42}
    # DIET's guess stays in the ranking, after out_of_scope
    assert [r["name"] for r in message.get("intent_ranking")][:2] == ["out_of_scope", "faq"]
    assert message.get(GATE_KEY) == {
        "p_hotline": 0.58,
        "rejected": True,
        "reason": "faq_unsupported",
    }


@pytest.mark.parametrize(
    ("p", "confidence"),
    [
        (0.58, 0.5),  # the retriever is sure of its entry
        (0.58, 0.95),
        (0.7, 0.13),  # the gate believes it is a hotline matter
        (0.99, 0.16),  # a homophone-laden hotline question the retriever barely ranks
    ],
)
def test_an_faq_with_one_strong_piece_of_evidence_is_kept(
    tmp_path: Path, p: float, confidence: float
) -> None:
    text = "电费阶梯是怎么分的"
    gate = fixed_gate(tmp_path, {normalise(text): p})
    message = faq_parsed(text, confidence)
    gate.process([message])
    assert message.get("intent")["name"] == "faq"
    assert message.get(GATE_KEY) == {"p_hotline": p, "rejected": False}


def test_the_faq_check_leaves_other_intents_and_a_parse_without_retriever(
    tmp_path: Path,
) -> None:
    texts = {"帮我查一下工单": 0.6, "阶梯电价": 0.6, "你好呀": 0.1}
    gate = fixed_gate(tmp_path, {normalise(t): p for t, p in texts.items()})
    ticket = faq_parsed("帮我查一下工单", 0.05, intent="check_ticket")
    no_retriever = faq_parsed("阶梯电价", None)
    hello = faq_parsed("你好呀", 0.05, intent="greet")
    gate.process([ticket, no_retriever, hello])
    assert ticket.get("intent")["name"] == "check_ticket"
    assert no_retriever.get("intent")["name"] == "faq"
    assert hello.get("intent")["name"] == "greet"


def test_faq_threshold_zero_turns_the_faq_check_off(tmp_path: Path) -> None:
    text = "圆通的电话是多少"
    gate = fixed_gate(tmp_path, {normalise(text): 0.58}, faq_threshold=0.0)
    message = faq_parsed(text, 0.13)
    gate.process([message])
    assert message.get("intent")["name"] == "faq"


@pytest.mark.parametrize("key", ["faq_threshold", "faq_sure_confidence"])
def test_faq_check_settings_are_checked(tmp_path: Path, key: str) -> None:
    with pytest.raises(ValueError, match=key):
        fixed_gate(tmp_path, {}, **{key: 1.5})


def test_diets_out_of_scope_for_a_sure_hotline_question_with_a_sure_entry_is_the_faq(
    tmp_path: Path,
) -> None:
    text = "特困供养是啥"
    gate = fixed_gate(
        tmp_path, {normalise(text): 0.81}, accept_threshold=0.75, accept_faq_confidence=0.85
    )
    message = faq_parsed(text, 0.9977, intent="out_of_scope")
    gate.process([message])
    assert message.get("intent") == {"name": "faq", "confidence": 0.9977}
    assert [r["name"] for r in message.get("intent_ranking")][:2] == ["faq", "out_of_scope"]
    assert message.get(GATE_KEY) == {"p_hotline": 0.81, "rejected": False, "accepted": "faq_sure"}


@pytest.mark.parametrize(
    ("p", "confidence", "extra"),
    [
        (0.74, 0.99, {}),  # the gate is not sure it is a hotline matter
        (0.78, 0.71, {}),  # the retriever is not sure of its entry ("鲸鱼是鱼吗")
        (0.99, None, {}),  # no retriever output
        (0.99, 0.99, {"accept_threshold": 1.1}),  # acceptance off (the default)
    ],
)
def test_diets_out_of_scope_otherwise_stands(
    tmp_path: Path, p: float, confidence: float | None, extra: dict[str, float]
) -> None:
    text = "鲸鱼是鱼吗"
    settings = {"accept_threshold": 0.75, "accept_faq_confidence": 0.85, **extra}
    gate = fixed_gate(tmp_path, {normalise(text): p}, **settings)
    message = faq_parsed(text, confidence, intent="out_of_scope")
    gate.process([message])
    assert message.get("intent")["name"] == "out_of_scope"
    assert "accepted" not in message.get(GATE_KEY)


def test_acceptance_is_only_for_out_of_scope(tmp_path: Path) -> None:
    text = "帮我查一下工单"
    gate = fixed_gate(tmp_path, {normalise(text): 0.99}, accept_threshold=0.75)
    message = faq_parsed(text, 0.99, intent="check_ticket")
    gate.process([message])
    assert message.get("intent")["name"] == "check_ticket"


@pytest.mark.parametrize(
    ("p", "confidence", "intent", "kept"),
    [
        (0.21, 0.9995, "faq", True),  # all but certain of the entry: kept down to 0.15
        (0.15, 0.99, "faq", True),
        (0.14, 0.9995, "faq", False),  # below the lower threshold
        (0.21, 0.98, "faq", False),  # the entry not certain enough: the usual 0.45
        (0.21, 0.9995, "check_ticket", False),  # only an FAQ
    ],
)
def test_an_faq_the_retriever_is_all_but_certain_of_is_rejected_only_lower(
    tmp_path: Path, p: float, confidence: float, intent: str, kept: bool
) -> None:
    text = "租房提公基金 一次最多提多少"
    settings = {"certain_faq_confidence": 0.99, "certain_faq_threshold": 0.15}
    gate = fixed_gate(tmp_path, {normalise(text): p}, **settings)
    message = faq_parsed(text, confidence, intent=intent)
    gate.process([message])
    assert (message.get("intent")["name"] == intent) is kept
    assert message.get(GATE_KEY)["rejected"] is not kept


def test_the_certain_faq_rule_is_off_by_default_and_checked(tmp_path: Path) -> None:
    text = "租房提公基金 一次最多提多少"
    gate = fixed_gate(tmp_path, {normalise(text): 0.21})
    message = faq_parsed(text, 1.0)
    gate.process([message])
    assert message.get("intent")["name"] == "out_of_scope"
    with pytest.raises(ValueError, match="certain_faq_threshold"):
        fixed_gate(tmp_path, {}, certain_faq_threshold=1.5)


def test_the_shipped_config_accepts_as_chosen() -> None:
    gate = next(
        c
        for c in yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))["pipeline"]
        if c["name"].endswith("HotlineGate")
    )
    assert (gate["accept_threshold"], gate["accept_faq_confidence"]) == (0.75, 0.85)


# --- required words: a request of the hotline's own kind names it ------------


def shipped_required_words() -> dict[str, str]:
    gate = next(
        c
        for c in yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))["pipeline"]
        if c["name"].endswith("HotlineGate")
    )
    return gate["required_words"]


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("裁判那个判罚球迷都在投诉，你觉得是点球吗", "record_service_complaint"),
        ("有人在评论区投诉我的笔记抄袭，我该怎么回", "record_service_complaint"),
        ("一个月减10斤有啥办法", "check_ticket"),
    ],
)
def test_a_request_without_its_words_is_declined(tmp_path: Path, text: str, intent: str) -> None:
    gate = fixed_gate(tmp_path, {normalise(text): 0.9}, required_words=shipped_required_words())
    message = parsed(text, intent)
    gate.process([message])
    assert message.get("intent") == {"name": "out_of_scope", "confidence": 1.0}
    assert [r["name"] for r in message.get("intent_ranking")][:2] == ["out_of_scope", intent]
    assert message.get(GATE_KEY) == {"p_hotline": 0.9, "rejected": True, "reason": "words_missing"}


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("我要投诉你哋嘅客服", "record_service_complaint"),  # Cantonese 你哋 read as 你们
        ("投诉１２３４５", "record_service_complaint"),  # full-width digits
        ("帮我记一个投诉 对象是你们接线员", "record_service_complaint"),
        ("我那单搞掂未啊", "check_ticket"),  # 搞掂 is read 搞定
        ("20261205-000004", "check_ticket"),  # a ticket number alone
        ("之前登记的路灯问题班结了没有", "check_ticket"),  # a typo of 办结
        ("我上周投的那个事处理到哪了", "check_ticket"),
        ("明天天气怎么样", "faq"),  # an intent without required words is left to the rest
    ],
)
def test_a_request_with_its_words_is_kept(tmp_path: Path, text: str, intent: str) -> None:
    gate = fixed_gate(tmp_path, {normalise(text): 0.9}, required_words=shipped_required_words())
    message = parsed(text, intent)
    gate.process([message])
    assert message.get("intent")["name"] == intent
    assert message.get(GATE_KEY) == {"p_hotline": 0.9, "rejected": False}


def test_required_words_are_off_by_default(tmp_path: Path) -> None:
    text = "一个月减10斤有啥办法"
    gate = fixed_gate(tmp_path, {normalise(text): 0.9})
    message = parsed(text, "check_ticket")
    gate.process([message])
    assert message.get("intent")["name"] == "check_ticket"


def test_the_words_are_looked_at_before_p_hotline(tmp_path: Path) -> None:
    text = "一个月减10斤有啥办法"
    gate = fixed_gate(tmp_path, {normalise(text): 0.2}, required_words=shipped_required_words())
    message = parsed(text, "check_ticket")
    gate.process([message])
    assert message.get("intent") == {"name": "out_of_scope", "confidence": 1.0}
    assert message.get(GATE_KEY) == {"p_hotline": 0.2, "rejected": True, "reason": "words_missing"}


def test_a_request_without_its_words_may_still_be_a_sure_faq(tmp_path: Path) -> None:
    """Read as DIET's out_of_scope, it meets the acceptance: a hotline matter
    (P >= 0.75) whose entry the retriever is sure of (>= 0.85) is that FAQ."""
    text = "查一下我有冇违章"
    settings = {"accept_threshold": 0.75, "accept_faq_confidence": 0.85}
    gate = fixed_gate(
        tmp_path, {normalise(text): 0.78}, required_words=shipped_required_words(), **settings
    )
    message = faq_parsed(text, 0.998, intent="check_ticket")
    gate.process([message])
    assert message.get("intent") == {"name": "faq", "confidence": 0.998}
    assert message.get(GATE_KEY) == {
        "p_hotline": 0.78,
        "rejected": False,
        "reason": "words_missing",
        "accepted": "faq_sure",
    }
    unsure = faq_parsed(text, 0.6, intent="check_ticket")
    gate.process([unsure])
    assert unsure.get("intent")["name"] == "out_of_scope"


def test_every_training_example_of_a_guarded_intent_holds_its_words() -> None:
    from rasa.shared.nlu.training_data.loading import load_data

    from hotline_rasa.hotline_gate import plain_reading, required_words

    patterns = required_words(shipped_required_words(), frozenset())
    examples = load_data(str(ROOT / "data" / "nlu")).intent_examples
    for intent, pattern in patterns.items():
        texts = [e.get("text") for e in examples if e.get("intent") == intent]
        assert len(texts) >= 50
        assert [t for t in texts if not pattern.search(plain_reading(t))] == []


@pytest.mark.parametrize(
    ("setting", "error"),
    [
        (["check_ticket"], "must map intents"),
        ({"greet": "你好"}, "exempt"),
        ({"check_ticket": ""}, "non-empty"),
        ({"check_ticket": "工单("}, "check_ticket"),
    ],
)
def test_bad_required_words_are_refused(tmp_path: Path, setting: Any, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        fixed_gate(tmp_path, {}, required_words=setting)


def test_the_pickled_features_keep_no_stop_words_and_give_the_same_vectors() -> None:
    """drop_stop_words: scikit-learn keeps the n-grams min_df left out
    (``stop_words_``) for introspection only; the gate, the safety net's
    detector and the retrievers drop them before the model is saved."""
    import io

    import joblib

    texts = ["社保卡怎么补办", "社保卡丢了", "公积金怎么提取", "公积金贷款", "天气怎么样", "放首歌"]
    model = build_classifier(
        {"ngram_range": [1, 3], "min_df": 2, "word_ngram_range": [1, 2], "C": 1.0}
    )
    model.fit(texts, [1, 1, 1, 1, 0, 0])
    before = model.predict_proba(["社保卡补办要多久", "今天天气"])
    whole = io.BytesIO()
    joblib.dump(model, whole)
    assert any(v.stop_words_ for _, v in model.steps[0][1].transformer_list)
    assert drop_stop_words(model) is model
    assert all(v.stop_words_ is None for _, v in model.steps[0][1].transformer_list)
    lean = io.BytesIO()
    joblib.dump(model, lean)
    assert lean.tell() < whole.tell()
    assert (model.predict_proba(["社保卡补办要多久", "今天天气"]) == before).all()
