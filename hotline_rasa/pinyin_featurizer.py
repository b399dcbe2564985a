"""Pinyin n-grams for DIET: a homophone typo still carries its word's sound.

Citizens type with pinyin input methods and voice input; their slips are
homophones: 社宝 for 社保, 公基金 for 公积金, 居住症 for 居住证, 驾驶正 for
驾驶证. The character and word n-gram featurizers see a different character
and, often, a different jieba cut; the syllables are the same. This
featurizer counts word n-grams over the toneless pinyin of each token instead
of its characters: a token becomes its syllables ("社宝" -> "she bao"), so the
sequence features of a token are its syllables and syllable n-grams, and the
sentence features the syllable n-grams of the whole message, across token
boundaries.

It is a Rasa graph component of its own (a ``SparseFeaturizer``, registered
as a message featurizer) with its own vocabulary (sklearn's
``CountVectorizer``) and its own persistence in the model storage; it uses
Rasa's public API only. Its features are exactly those Rasa's
``CountVectorsFeaturizer`` (word analyzer, independent vocabularies) gives
when fed each token's pinyin, for every attribute that featurizer handles
(hotline_rasa/tests/test_pinyin_features.py compares them message by message
on the project's training data):

- text attributes (``text``, ``response``, ``action_text``): a token becomes
  its syllables; whole-number runs become ``__NUMBER__``; lowercased; one
  sequence row per token and one sentence row; ``min_df`` applies to
  ``text`` only, the others keep every n-gram seen;
- label attributes (``intent``, ``action_name``, ``intent_response_key``):
  tokens kept as they are (labels stay labels), sequence rows only. DIET's
  label features and, in end-to-end training, TED's are built from them.

An n-gram outside the vocabulary counts nothing (a token made only of unseen
syllables gets a zero row); a message without tokens for an attribute gets no
features for it. In fine-tuning (``rasa train --finetune``) the loaded
vocabulary keeps its columns and new n-grams are appended after them.

pypinyin's dictionary ships inside the package; nothing is downloaded.
Non-Chinese runs (digits, Latin letters) are kept as they are, so digits still
become ``__NUMBER__``.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import scipy.sparse
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.featurizers.sparse_featurizer.sparse_featurizer import SparseFeaturizer
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.nlu.constants import (
    ACTION_NAME,
    ACTION_TEXT,
    INTENT,
    INTENT_RESPONSE_KEY,
    RESPONSE,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.feature_extraction.text import CountVectorizer

logger = logging.getLogger(__name__)

#: Attributes whose tokens are words: turned into pinyin, given sentence features.
TEXT_ATTRIBUTES = (TEXT, RESPONSE, ACTION_TEXT)
#: Attributes whose tokens are labels: kept as they are, sequence features only.
LABEL_ATTRIBUTES = (INTENT, ACTION_NAME, INTENT_RESPONSE_KEY)
#: In Rasa's order (``rasa.nlu.constants.MESSAGE_ATTRIBUTES``).
ATTRIBUTES = (TEXT, INTENT, RESPONSE, ACTION_NAME, ACTION_TEXT, INTENT_RESPONSE_KEY)
#: A run of digits between word boundaries, which counts as one feature.
NUMBER = re.compile(r"\b[0-9]+\b")
NUMBER_WORD = "__NUMBER__"
#: sklearn's word pattern as Rasa sets it: "__NUMBER__" is one word.
WORD = r"(?u)\b\w+\b"
#: Where the vocabularies are kept in the component's model storage.
VOCABULARY_FILE = "vocabularies.json"

Vocabulary = dict[str, int]


def token_pinyin(token: str) -> str:
    """The syllables of one token, space-separated ("社宝" -> "she bao")."""
    from pypinyin import lazy_pinyin

    return " ".join(part for syllable in lazy_pinyin(token) for part in syllable.split()) or token


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class PinyinCountVectorsFeaturizer(SparseFeaturizer, GraphComponent):
    """Counts of syllable n-grams of each token's pinyin (word n-grams)."""

    @classmethod
    def required_components(cls) -> list[type]:
        return [Tokenizer]

    @staticmethod
    def required_packages() -> list[str]:
        return ["sklearn", "pypinyin"]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            **SparseFeaturizer.get_default_config(),  # "alias"
            # word n-grams of syllables; the only analyzer accepted
            "analyzer": "word",
            "min_ngram": 1,
            "max_ngram": 1,
            # sklearn's CountVectorizer: an n-gram in fewer than min_df (more
            # than max_df) training messages is dropped; min_df: text only
            "min_df": 1,
            "max_df": 1.0,
            "max_features": None,
            "strip_accents": None,
            "stop_words": None,
            "lowercase": True,
            # count a token's lemma when the tokenizer gives one
            "use_lemma": True,
        }

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        if config.get("analyzer", "word") != "word":
            raise ValueError(
                "PinyinCountVectorsFeaturizer works on syllables: analyzer must be 'word'"
            )
        if config.get("min_ngram", 1) > config.get("max_ngram", 1):
            raise ValueError("PinyinCountVectorsFeaturizer: min_ngram is above max_ngram")

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        vocabularies: dict[str, Vocabulary | None] | None = None,
    ) -> None:
        super().__init__(execution_context.node_name, config)
        self.component_config = {**self.get_default_config(), **config}
        self.model_storage = model_storage
        self.resource = resource
        self.finetune_mode = execution_context.is_finetuning
        self.vocabularies: dict[str, Vocabulary] = {}
        self.vectorizers: dict[str, CountVectorizer] = {}
        self.set_vocabularies(vocabularies or {})

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> PinyinCountVectorsFeaturizer:
        return cls(config, model_storage, resource, execution_context)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> PinyinCountVectorsFeaturizer:
        try:
            with model_storage.read_from(resource) as directory:
                stored = json.loads((directory / VOCABULARY_FILE).read_text(encoding="utf-8"))
        except (ValueError, OSError):
            logger.debug("No vocabulary stored for %s: an untrained featurizer", resource.name)
            stored = {}
        return cls(config, model_storage, resource, execution_context, vocabularies=stored)

    # --- vocabulary ------------------------------------------------------

    def vectorizer(self, attribute: str, vocabulary: Vocabulary | None = None) -> CountVectorizer:
        """sklearn's CountVectorizer for ``attribute``: fits a vocabulary when
        ``vocabulary`` is None, counts the n-grams of that one otherwise."""
        config = self.component_config
        return CountVectorizer(
            analyzer="word",
            token_pattern=WORD,
            ngram_range=(config["min_ngram"], config["max_ngram"]),
            min_df=config["min_df"] if attribute == TEXT else 1,
            max_df=config["max_df"],
            max_features=config["max_features"],
            strip_accents=config["strip_accents"],
            stop_words=config["stop_words"],
            lowercase=config["lowercase"],
            vocabulary=vocabulary,
        )

    def set_vocabularies(self, vocabularies: dict[str, Vocabulary | None]) -> None:
        """Keeps the vocabularies (n-gram -> column) and a counting vectorizer
        for each attribute that has one."""
        self.vocabularies = {
            attribute: {gram: int(column) for gram, column in vocabulary.items()}
            for attribute, vocabulary in vocabularies.items()
            if vocabulary
        }
        self.vectorizers = {
            attribute: self.vectorizer(attribute, vocabulary)
            for attribute, vocabulary in self.vocabularies.items()
        }

    def fit_vocabulary(self, attribute: str, texts: list[str]) -> Vocabulary | None:
        """The n-grams of ``texts`` (sklearn's sorted vocabulary); in fine-tuning,
        the loaded vocabulary with the new n-grams appended after its columns."""
        if self.finetune_mode and self.vocabularies.get(attribute):
            vocabulary = dict(self.vocabularies[attribute])
            analyzer = self.vectorizer(attribute).build_analyzer()
            new = sorted({gram for text in texts for gram in analyzer(text)} - vocabulary.keys())
            size = len(vocabulary)
            vocabulary.update((gram, size + i) for i, gram in enumerate(new))
            return vocabulary
        try:
            vectorizer = self.vectorizer(attribute).fit(texts)
        except ValueError as error:  # nothing left after pruning, no words at all
            logger.warning("No pinyin vocabulary for the %s attribute: %s", attribute, error)
            return None
        return {gram: int(column) for gram, column in vectorizer.vocabulary_.items()}

    # --- tokens ----------------------------------------------------------

    def message_tokens(self, message: Message, attribute: str) -> list[str]:
        """The strings counted for ``attribute`` of ``message``, one per token:
        its pinyin with digit runs as ``__NUMBER__`` for a text attribute, the
        token itself for a label."""
        if message.get(attribute) is None:
            return []
        tokens = message.get(TOKENS_NAMES[attribute]) or []
        use_lemma = self.component_config["use_lemma"]
        texts = [token.lemma if use_lemma else token.text for token in tokens]
        if attribute in LABEL_ATTRIBUTES:
            return texts
        texts = [NUMBER.sub(NUMBER_WORD, token_pinyin(text)) for text in texts]
        if self.component_config["lowercase"]:
            texts = [text.lower() for text in texts]
        return texts

    # --- training and processing ----------------------------------------

    def train(self, training_data: TrainingData) -> Resource:
        """Learns a vocabulary for each attribute the training data has text for."""
        # fine-tuning extends the loaded vocabularies; otherwise they start afresh
        vocabularies: dict[str, Vocabulary | None] = (
            dict(self.vocabularies) if self.finetune_mode else {}
        )
        for attribute in ATTRIBUTES:
            texts = [
                " ".join(self.message_tokens(message, attribute))
                for message in training_data.training_examples
            ]
            if any(texts):
                vocabulary = self.fit_vocabulary(attribute, texts)
                vocabularies[attribute] = vocabulary
                if attribute in TEXT_ATTRIBUTES and vocabulary:
                    logger.info(
                        "%d pinyin vocabulary items for the %s attribute",
                        len(vocabulary),
                        attribute,
                    )
        self.set_vocabularies(vocabularies)
        self.persist()
        return self.resource

    def persist(self) -> None:
        with self.model_storage.write_to(self.resource) as directory:
            (directory / VOCABULARY_FILE).write_text(
                json.dumps(self.vocabularies, ensure_ascii=False), encoding="utf-8"
            )

    def features(
        self, attribute: str, tokens: list[str]
    ) -> tuple[scipy.sparse.coo_matrix | None, scipy.sparse.coo_matrix | None]:
        """(sequence, sentence) counts: one row per token, and one for the
        whole message (text attributes only); None without tokens."""
        vectorizer = self.vectorizers.get(attribute)
        if vectorizer is None or not tokens:
            return None, None
        sequence = vectorizer.transform(tokens)
        sequence.sort_indices()
        if attribute not in TEXT_ATTRIBUTES:
            return sequence.tocoo(), None
        sentence = vectorizer.transform([" ".join(tokens)])
        sentence.sort_indices()
        return sequence.tocoo(), sentence.tocoo()

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            for attribute in ATTRIBUTES:
                sequence, sentence = self.features(
                    attribute, self.message_tokens(message, attribute)
                )
                self.add_features_to_message(sequence, sentence, attribute, message)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process(training_data.training_examples)
        return training_data
