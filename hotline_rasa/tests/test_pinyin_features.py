"""Pinyin features (hotline_rasa/pinyin_featurizer.py for DIET, and the FAQ
retriever's ``pinyin_ngram_range``): a homophone typo of pinyin or voice input
shares its word's syllables, so it still meets its word."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import (
    CountVectorsFeaturizer,
)
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from hotline_rasa.hotline_gate import build_features, normalise, pinyin_syllables
from hotline_rasa.pinyin_featurizer import (
    ATTRIBUTES,
    TEXT_ATTRIBUTES,
    PinyinCountVectorsFeaturizer,
    token_pinyin,
)
from hotline_rasa.punctuation_free_tokenizer import PunctuationFreeJiebaTokenizer

ROOT = Path(__file__).resolve().parents[2]
NAME = "hotline_rasa.pinyin_featurizer.PinyinCountVectorsFeaturizer"


def context(finetuning: bool = False) -> ExecutionContext:
    return ExecutionContext(GraphSchema({}), "test", is_finetuning=finetuning)


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
    vocabulary = pinyin.vocabularies["text"]
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
    assert pinyin.message_tokens(message, "intent") == ["greet"]
    assert pinyin.message_tokens(message, "text") == ["ni hao"]
    pinyin.train(TrainingData([message]))
    assert pinyin.vocabularies["intent"] == {"greet": 0}
    pinyin.process([message])
    sequence, sentence = message.get_sparse_features("intent")
    assert sequence is not None and sentence is None  # a label: sequence features only


def test_only_the_word_analyzer_is_accepted() -> None:
    with pytest.raises(ValueError, match="analyzer"):
        PinyinCountVectorsFeaturizer.validate_config(
            {**PinyinCountVectorsFeaturizer.get_default_config(), "analyzer": "char"}
        )


# --- the same features as Rasa's CountVectorsFeaturizer fed pinyin tokens ------


def configured() -> dict[str, Any]:
    """The featurizer's settings in config.yml."""
    pipeline = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))["pipeline"]
    (config,) = [c for c in pipeline if c["name"] == NAME]
    return {k: v for k, v in config.items() if k != "name"}


def with_pinyin_tokens(message: Message) -> Message:
    """A copy of a tokenized message whose text tokens are their pinyin: what
    Rasa's own CountVectorsFeaturizer must see to give the reference features."""
    data = dict(message.data)
    for attribute in TEXT_ATTRIBUTES:
        tokens = data.get(TOKENS_NAMES[attribute])
        if tokens:
            data[TOKENS_NAMES[attribute]] = [
                Token(token_pinyin(t.lemma), t.start, t.end) for t in tokens
            ]
    return Message(data=data)


def assert_same_features(ours: Message, reference: Message) -> None:
    for attribute in ATTRIBUTES:
        for mine, theirs in zip(
            ours.get_sparse_features(attribute), reference.get_sparse_features(attribute)
        ):
            assert (mine is None) == (theirs is None), (attribute, ours.get("text"))
            if mine is None or theirs is None:
                continue
            a, b = mine.features, theirs.features
            assert a.shape == b.shape and a.dtype == b.dtype, (attribute, ours.get("text"))
            assert (a != b).nnz == 0, (attribute, ours.get("text"))


#: Inference messages: typos, digits, Latin letters, unseen syllables, marks only, empty.
UNSEEN = [
    "社宝卡丢了怎么补办",
    "公基金2026年怎么提取",
    "我的工单号是 12345，APP 上查不到",
    "嗯嗯",
    "Xylophone qwrtz",
    "？？？",
    "",
]


def test_same_features_as_count_vectors_featurizer_on_the_training_data(
    tokenizer: PunctuationFreeJiebaTokenizer, tmp_path: Path
) -> None:
    """On what ``rasa train`` gives the pipeline (data/, domain.yml): the same
    vocabularies, column for column, and the same sparse matrices, message by
    message and attribute by attribute, at training and at inference. Both
    featurize through a component loaded from the model storage, as in
    ``rasa train``. So DIET trains on identical inputs."""
    from rasa.shared.importers.importer import TrainingDataImporter

    importer = TrainingDataImporter.load_from_dict(
        {}, str(ROOT / "config.yml"), str(ROOT / "domain.yml"), [str(ROOT / "data")]
    )
    data = importer.get_nlu_data()
    assert len(data.training_examples) > 1000
    tokenizer.process_training_data(data)
    ours = TrainingData([Message(data=dict(m.data)) for m in data.training_examples])
    theirs = TrainingData([with_pinyin_tokens(m) for m in data.training_examples])

    config = configured()
    assert config == {"analyzer": "word", "min_ngram": 1, "max_ngram": 2, "min_df": 2}
    storage = LocalModelStorage(tmp_path)
    mine_config = {**PinyinCountVectorsFeaturizer.get_default_config(), **config}
    rasa_config = {**CountVectorsFeaturizer.get_default_config(), **config}
    PinyinCountVectorsFeaturizer.create(mine_config, storage, Resource("ours"), context()).train(
        ours
    )
    CountVectorsFeaturizer.create(rasa_config, storage, Resource("theirs"), context()).train(
        theirs
    )
    mine = PinyinCountVectorsFeaturizer.load(mine_config, storage, Resource("ours"), context())
    reference = CountVectorsFeaturizer.load(rasa_config, storage, Resource("theirs"), context())

    rasa_vocabularies = {
        attribute: dict(vectorizer.vocabulary_)
        for attribute, vectorizer in reference.vectorizers.items()
        if getattr(vectorizer, "vocabulary_", None)
    }
    assert set(rasa_vocabularies) == set(mine.vocabularies) >= {"text", "intent"}
    for attribute, vocabulary in rasa_vocabularies.items():
        assert mine.vocabularies[attribute] == {k: int(v) for k, v in vocabulary.items()}
    assert len(mine.vocabularies["text"]) > 1000

    mine.process_training_data(ours)
    reference.process_training_data(theirs)
    for a, b in zip(ours.training_examples, theirs.training_examples):
        assert_same_features(a, b)
    assert sum(m.features_present("text") for m in ours.training_examples) > 1000

    unseen = [Message(data={"text": text}) for text in UNSEEN]
    tokenizer.process(unseen)
    reference_unseen = [with_pinyin_tokens(m) for m in unseen]
    mine.process(unseen)
    reference.process(reference_unseen)
    for a, b in zip(unseen, reference_unseen):
        assert_same_features(a, b)
    assert not unseen[-1].features_present("text")  # no tokens, no features


def trained(tokenizer: PunctuationFreeJiebaTokenizer, storage: LocalModelStorage) -> Any:
    data = TrainingData(
        [
            Message(data={"text": "社保卡丢了怎么补办", "intent": "faq"}),
            Message(data={"text": "社保怎么转移", "intent": "faq"}),
            Message(data={"text": "工单12345进度", "intent": "check_ticket"}),
            Message(data={"text": "查工单 678 进度", "intent": "check_ticket"}),
            Message(data={"text": "你好", "intent": "greet"}),
        ]
    )
    tokenizer.process_training_data(data)
    config = {**PinyinCountVectorsFeaturizer.get_default_config(), **configured()}
    featurizer = PinyinCountVectorsFeaturizer.create(config, storage, Resource("pinyin"), context())
    featurizer.train(data)
    return featurizer, config


def test_persist_and_load_give_the_same_features(
    tokenizer: PunctuationFreeJiebaTokenizer, tmp_path: Path
) -> None:
    storage = LocalModelStorage(tmp_path)
    featurizer, config = trained(tokenizer, storage)
    loaded = PinyinCountVectorsFeaturizer.load(config, storage, Resource("pinyin"), context())
    assert loaded.vocabularies == featurizer.vocabularies
    assert "__number__" in loaded.vocabularies["text"]  # 12345 and 678
    assert "she bao" in loaded.vocabularies["text"]
    assert "ni" not in loaded.vocabularies["text"]  # seen once: min_df 2

    first = [Message(data={"text": t}) for t in UNSEEN]
    second = [Message(data={"text": t}) for t in UNSEEN]
    tokenizer.process(first)
    tokenizer.process(second)
    featurizer.process(first)
    loaded.process(second)
    for a, b in zip(first, second):
        assert_same_features(a, b)

    # digits are one feature; unseen syllables count nothing; no tokens, no features
    numbers, unseen, empty = first[2], first[4], first[-1]
    column = loaded.vocabularies["text"]["__number__"]
    sequence, sentence = numbers.get_sparse_features("text")
    assert sequence is not None and sentence is not None
    assert sentence.features.toarray()[0, column] == 1
    sequence, sentence = unseen.get_sparse_features("text")
    assert sequence is not None and sentence is not None
    assert sequence.features.shape[0] == len(unseen.get("text_tokens"))
    assert sequence.features.nnz == 0 and sentence.features.nnz == 0
    assert not empty.features_present("text")


def test_an_untrained_or_missing_featurizer_adds_nothing(tmp_path: Path) -> None:
    config = {**PinyinCountVectorsFeaturizer.get_default_config(), **configured()}
    loaded = PinyinCountVectorsFeaturizer.load(
        config, LocalModelStorage(tmp_path), Resource("never_trained"), context()
    )
    message = Message(data={"text": "你好", "text_tokens": [Token("你好", 0)]})
    loaded.process([message])
    assert loaded.vocabularies == {} and not message.features


def test_fine_tuning_keeps_the_columns_and_appends_new_ngrams(
    tokenizer: PunctuationFreeJiebaTokenizer, tmp_path: Path
) -> None:
    storage = LocalModelStorage(tmp_path)
    featurizer, config = trained(tokenizer, storage)
    before = featurizer.vocabularies["text"]
    tuned = PinyinCountVectorsFeaturizer.load(
        config, storage, Resource("pinyin"), context(finetuning=True)
    )
    more = TrainingData([Message(data={"text": "公积金怎么提取", "intent": "faq"})])
    tokenizer.process_training_data(more)
    tuned.resource = Resource("pinyin_tuned")  # Rasa gives the new model its own resource
    tuned.train(more)
    after = tuned.vocabularies["text"]
    assert {k: after[k] for k in before} == before
    assert "gong ji" in after and after["gong ji"] >= len(before)
    assert sorted(after.values()) == list(range(len(after)))
