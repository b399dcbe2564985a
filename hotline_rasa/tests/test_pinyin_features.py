"""Pinyin features (hotline_rasa/pinyin_featurizer.py for DIET, and the FAQ
retriever's ``pinyin_ngram_range``): a homophone typo of pinyin or voice input
shares its word's syllables, so it still meets its word."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from hotline_rasa.hotline_gate import build_features, normalise, pinyin_syllables
from hotline_rasa.pinyin_featurizer import PinyinCountVectorsFeaturizer, token_pinyin
from hotline_rasa.punctuation_free_tokenizer import PunctuationFreeJiebaTokenizer


def context() -> ExecutionContext:
    return ExecutionContext(GraphSchema({}), "test")


def test_homophones_have_the_same_syllables() -> None:
    assert pinyin_syllables("社宝") == pinyin_syllables("社保") == ["she", "bao"]
    assert pinyin_syllables("公基金") == pinyin_syllables("公积金")
    assert pinyin_syllables("居住症") == pinyin_syllables("居住证")
    # digits and Latin letters stay, whitespace goes
    assert pinyin_syllables("查 12345 app") == ["cha", "12345", "app"]
    assert token_pinyin("驾驶正") == token_pinyin("驾驶证") == "jia shi zheng"
    assert token_pinyin("2026") == "2026"


def test_retriever_features_bring_a_homophone_typo_closer_to_its_word() -> None:
    from sklearn.preprocessing import normalize

    texts = [normalise(t) for t in ["居住证怎么办", "住房公积金怎么提取", "社保怎么转移"]]
    typo = normalise("居住症咋弄")

    def similarities(config: dict) -> np.ndarray:
        features = build_features(config)
        matrix = normalize(features.fit_transform(texts))
        return np.asarray((normalize(features.transform([typo])) @ matrix.T).todense())[0]

    plain = {"ngram_range": [1, 3], "word_ngram_range": [1, 2]}
    with_pinyin = {**plain, "pinyin_ngram_range": [1, 2]}
    before, after = similarities(plain), similarities(with_pinyin)
    assert after.argmax() == 0 and after[0] > before[0] + 0.1
    vocabulary = build_features(with_pinyin).fit(texts).transformer_list[-1][1].vocabulary_
    assert "zhu zheng" in vocabulary  # a syllable bigram


@pytest.fixture
def tokenizer(tmp_path: Path) -> PunctuationFreeJiebaTokenizer:
    return PunctuationFreeJiebaTokenizer.create(
        PunctuationFreeJiebaTokenizer.get_default_config(),
        LocalModelStorage(tmp_path),
        Resource("tokenizer"),
        context(),
    )


def featurizer(tmp_path: Path) -> PinyinCountVectorsFeaturizer:
    return PinyinCountVectorsFeaturizer.create(
        {**PinyinCountVectorsFeaturizer.get_default_config(), "max_ngram": 2},
        LocalModelStorage(tmp_path),
        Resource("pinyin"),
        context(),
    )


def test_diet_featurizer_gives_a_typo_its_words_features(
    tokenizer: PunctuationFreeJiebaTokenizer, tmp_path: Path
) -> None:
    data = TrainingData(
        [
            Message(data={"text": "社保怎么转移", "intent": "faq"}),
            Message(data={"text": "你好", "intent": "greet"}),
        ]
    )
    tokenizer.process_training_data(data)
    pinyin = featurizer(tmp_path)
    pinyin.train(data)
    vocabulary = pinyin.vectorizers["text"].vocabulary_
    assert {"she", "bao", "she bao", "ni", "hao"} <= set(vocabulary)
    assert not any("\u4e00" <= c <= "\u9fff" for gram in vocabulary for c in gram)

    right, typo = Message(data={"text": "社保"}), Message(data={"text": "社宝"})
    for message in (right, typo):
        tokenizer.process([message])
    pinyin.process([right, typo])
    sentence = [
        m.get_sparse_features("text")[1].features.toarray()  # (sequence, sentence)
        for m in (right, typo)
    ]
    assert sentence[0].sum() > 0 and (sentence[0] == sentence[1]).all()
    # one row of sequence features per token, as DIET requires
    sequence = typo.get_sparse_features("text")[0].features
    assert sequence.shape[0] == len(typo.get("text_tokens"))


def test_intent_labels_are_not_turned_into_pinyin(
    tokenizer: PunctuationFreeJiebaTokenizer, tmp_path: Path
) -> None:
    pinyin = featurizer(tmp_path)
    message = Message(data={"text": "你好", "intent": "greet"})
    tokenizer.process_training_data(TrainingData([message]))
    assert pinyin._get_message_tokens_by_attribute(message, "intent") == ["greet"]


def test_only_the_word_analyzer_is_accepted() -> None:
    with pytest.raises(ValueError, match="analyzer"):
        PinyinCountVectorsFeaturizer.validate_config(
            {**PinyinCountVectorsFeaturizer.get_default_config(), "analyzer": "char"}
        )
