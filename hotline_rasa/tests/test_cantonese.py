"""Written Cantonese read as Mandarin (hotline_rasa/cantonese.py): every
scikit-learn component's text (``hotline_gate.normalise``) carries the
Mandarin words; Mandarin text is unchanged. The words are the table
data/language/cantonese.yml, which the action server's reader of form answers
loads too (tests/test_cantonese_table.py, in the app's environment)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from hotline_rasa.cantonese import (
    CANTONESE_FILE,
    WORDS,
    CantoneseTableError,
    load_cantonese,
    to_mandarin,
)
from hotline_rasa.hotline_gate import normalise

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("cantonese", "mandarin"),
    [
        ("点样睇自己社保交咗几多个月", "怎样看自己社保交了多少个月"),
        ("户口簿唔见咗 去边度补", "户口簿不见了 去哪里补"),
        ("屋企突然冇电 要揾边个", "家里突然没有电 要找谁"),  # 边个: who
        ("退咗休仲使唔使交医保", "退了休还需不需要交医保"),
        ("你系唔系真人", "你是不是真人"),
        ("我系东莞人 系咪可以申请", "我是东莞人 是不是可以申请"),
        ("系呀 冇错", "是呀 没错"),
        ("揸车证过咗期", "驾驶证过了期"),
        ("老细仲未出粮", "老板还未发工资"),
        ("唔该晒", "谢谢"),
        ("有人喺度吗", "有人在这里吗"),
    ],
)
def test_cantonese_words_become_mandarin(cantonese: str, mandarin: str) -> None:
    assert to_mandarin(cantonese) == mandarin


@pytest.mark.parametrize(
    "mandarin",
    [
        # 系 in Mandarin words, 仲 in 仲裁, 人工 and 紧 are left alone
        "系统一直登不上",
        "怎么开具亲属关系证明",
        "联系不上社区工作人员",
        "劳动仲裁怎么申请",
        "转人工",
        "紧急情况怎么办",
        "我最近比较佛系",
        "一系列的优惠政策",
        "共享电单车停在哪里",
        "",
    ],
)
def test_mandarin_is_unchanged(mandarin: str) -> None:
    assert to_mandarin(mandarin) == mandarin


def test_the_catalog_is_mandarin_to_the_rewriting() -> None:
    """Every FAQ question and answer of the catalog comes back unchanged: the
    rewriting never touches the Mandarin a citizen's question is matched to."""
    catalog = yaml.safe_load((ROOT / "data/knowledge/faq.yml").read_text(encoding="utf-8"))
    changed = [
        (entry["id"], field)
        for entry in catalog["entries"]
        for field in ("question", "answer")
        if to_mandarin(str(entry[field])) != str(entry[field])
    ]
    assert changed == []


def test_every_learned_component_reads_the_mandarin() -> None:
    assert normalise("点样睇 社保") == normalise("怎样看社保")
    assert normalise("gjj 几多钱") == normalise("GJJ多少钱")


SHARED_CASES = json.loads(
    (ROOT / "tests" / "data" / "cantonese_cases.json").read_text(encoding="utf-8")
)["cases"]


@pytest.mark.parametrize(("cantonese", "reading"), [tuple(case) for case in SHARED_CASES])
def test_the_nlu_reads_cantonese_like_the_form_reader(cantonese: str, reading: str) -> None:
    """The action server reads form answers with its own copy
    (actions.answers.mandarin, tests/test_cantonese_cases.py): the words
    both read are read alike."""
    assert to_mandarin(cantonese) == reading


TABLE = yaml.safe_load(CANTONESE_FILE.read_text(encoding="utf-8"))
TABLE_WORDS = [
    (word, entry["mandarin"])
    for entry in TABLE["words"]
    for word in (
        entry["cantonese"] if isinstance(entry["cantonese"], list) else [entry["cantonese"]]
    )
]


def test_the_nlu_reads_the_shared_table() -> None:
    """The file the action server reads (bot/cantonese.py), under data/, whose
    files the training fingerprint hashes (tests/deploy/test_model_versions.py)."""
    assert CANTONESE_FILE == ROOT / "data" / "language" / "cantonese.yml"
    assert WORDS.meanings == dict(TABLE_WORDS)


@pytest.mark.parametrize(("word", "meaning"), TABLE_WORDS)
def test_the_nlu_reads_every_word_of_the_table(word: str, meaning: str) -> None:
    assert to_mandarin(word) == meaning


TABLE_ERRORS = json.loads(
    (ROOT / "tests" / "data" / "cantonese_table_errors.json").read_text(encoding="utf-8")
)["cases"]


@pytest.mark.parametrize(("text", "message"), TABLE_ERRORS)
def test_a_malformed_table_names_the_entry(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "cantonese.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CantoneseTableError) as error:
        load_cantonese(path)
    assert str(path) in str(error.value) and message in str(error.value)


@pytest.mark.parametrize(
    ("text", "reading"),
    [
        ("帮我翻译成日语", "帮我翻译成日语"),  # 成日 (often) not in 翻译成 + 日语
        ("地点搞错了", "地点搞错了"),  # 点搞 (how) not after 地
        ("可以快点处理吗", "可以快点处理吗"),
        ("那边处理一下", "那边处理一下"),  # 边处 (where) not after a side
        ("唔好意思", "不好意思"),  # not 不要意思
        ("唔知道啊", "不知道啊"),
        ("凉茶点样煲", "凉茶怎样煲"),
    ],
)
def test_the_guards_keep_mandarin_words(text: str, reading: str) -> None:
    assert to_mandarin(text) == reading


def test_every_component_reading_texts_retrains_when_the_table_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rasa's training cache keys a component on its config and inputs, not on
    the files it reads: without the reading in their fingerprints, a cached
    gate or retriever kept the old table's reading while messages were read
    with the new one (hotline_gate.reading_fingerprint)."""
    from hotline_rasa import cantonese
    from hotline_rasa.complaint_arbiter import ComplaintArbiter
    from hotline_rasa.faq_retriever import FaqRetriever
    from hotline_rasa.hotline_gate import HotlineGate
    from hotline_rasa.safety_net import SafetyNet
    from hotline_rasa.service_arbiter import ServiceFaqArbiter
    from hotline_rasa.service_retriever import ServiceRetriever

    components: list[Any] = [
        ComplaintArbiter,
        FaqRetriever,
        HotlineGate,
        SafetyNet,
        ServiceFaqArbiter,
        ServiceRetriever,
    ]
    configs: dict[Any, dict[str, Any]] = {
        SafetyNet: {"detector_threshold": 0.7},
        ServiceRetriever: {"services": "data/knowledge/services.yml"},
    }

    def addons() -> list[str | None]:
        return [c.fingerprint_addon(configs.get(c, {})) for c in components]

    before = addons()
    assert not any(a is None or a.startswith("missing") for a in before), before
    table = tmp_path / "cantonese.yml"
    table.write_bytes(cantonese.CANTONESE_FILE.read_bytes() + b"\n# changed\n")
    monkeypatch.setattr(cantonese, "CANTONESE_FILE", table)
    after = addons()
    assert all(a != b for a, b in zip(before, after, strict=True))
