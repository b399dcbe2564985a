"""The tokenizer of config.yml (hotline_rasa/punctuation_free_tokenizer.py):
jieba's tokens without punctuation, so a mark is no feature of any intent."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import (
    CountVectorsFeaturizer,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from hotline_rasa.punctuation_free_tokenizer import (
    PunctuationFreeJiebaTokenizer,
    is_punctuation,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def tokenizer(tmp_path: Path) -> PunctuationFreeJiebaTokenizer:
    return PunctuationFreeJiebaTokenizer.create(
        PunctuationFreeJiebaTokenizer.get_default_config(),
        LocalModelStorage(tmp_path),
        Resource("tokenizer"),
        ExecutionContext(GraphSchema({}), "test"),
    )


def words(tokenizer: PunctuationFreeJiebaTokenizer, text: str) -> list[str]:
    return [t.text for t in tokenizer.tokenize(Message(data={"text": text}), "text")]


def test_punctuation_marks_are_recognised() -> None:
    for mark in ["，", ",", "？", "?", "。", "！", "、", "……", "“", "）", " ", "～", "¥", "+"]:
        assert is_punctuation(mark), mark
    for word in ["嗨", "小助手", "hello", "20261130", "社保卡"]:
        assert not is_punctuation(word), word


def test_punctuation_tokens_are_dropped_words_kept(
    tokenizer: PunctuationFreeJiebaTokenizer,
) -> None:
    assert words(tokenizer, "嗨，小助手") == words(tokenizer, "嗨小助手")
    assert words(tokenizer, "领取养老金需要满足什么条件?") == words(
        tokenizer, "领取养老金需要满足什么条件？"
    )
    assert "，" not in words(tokenizer, "孩子两岁了，育儿补贴怎么领")
    assert words(tokenizer, "工单号 20261130-000456 查询") == [
        "工单",
        "号",
        "20261130",
        "000456",
        "查询",
    ]


def test_offsets_still_point_into_the_text(tokenizer: PunctuationFreeJiebaTokenizer) -> None:
    text = "好，就这样！谢谢"
    for token in tokenizer.tokenize(Message(data={"text": text}), "text"):
        assert text[token.start : token.end] == token.text


def test_a_message_of_punctuation_alone_keeps_its_tokens(
    tokenizer: PunctuationFreeJiebaTokenizer,
) -> None:
    assert words(tokenizer, "？？") == ["？", "？"]
    assert words(tokenizer, "。。。") == ["。", "。", "。"]


def test_featurizers_see_no_punctuation(
    tokenizer: PunctuationFreeJiebaTokenizer, tmp_path: Path
) -> None:
    """The character n-gram vocabulary DIET learns from holds no mark."""
    data = TrainingData(
        [
            Message(data={"text": "孩子两岁了，育儿补贴怎么领", "intent": "request_service_guide"}),
            Message(data={"text": "嗨，你好！", "intent": "greet"}),
        ]
    )
    tokenizer.process_training_data(data)
    featurizer = CountVectorsFeaturizer(
        {**CountVectorsFeaturizer.get_default_config(), "analyzer": "char", "max_ngram": 3},
        LocalModelStorage(tmp_path),
        Resource("cvf"),
        ExecutionContext(GraphSchema({}), "test"),
    )
    featurizer.train(data)
    vocabulary = featurizer.vectorizers["text"].vocabulary_
    assert vocabulary and not any(c in "，！" for gram in vocabulary for c in gram)


def test_the_pipeline_uses_it() -> None:
    config = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    names = [component["name"] for component in config["pipeline"]]
    assert names[0] == ("hotline_rasa.punctuation_free_tokenizer.PunctuationFreeJiebaTokenizer")
    assert "JiebaTokenizer" not in names
