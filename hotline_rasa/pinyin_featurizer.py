"""Pinyin n-grams for DIET: a homophone typo still carries its word's sound.

Citizens type with pinyin input methods and voice input; their slips are
homophones: 社宝 for 社保, 公基金 for 公积金, 居住症 for 居住证, 驾驶正 for
驾驶证. The character and word n-gram featurizers see a different character
and, often, a different jieba cut; the syllables are the same. This is Rasa's
``CountVectorsFeaturizer`` (word analyzer, same configuration keys) over the
toneless pinyin of each token instead of its characters: a token becomes its
syllables ("社宝" -> "she bao"), so the sequence features of a token are its
syllables and syllable n-grams, and the sentence features the syllable
n-grams of the whole message, across token boundaries.

pypinyin's dictionary ships inside the package; nothing is downloaded.
Non-Chinese runs (digits, Latin letters) are kept as they are, so digits still
become Rasa's ``__NUMBER__`` token.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import (
    CountVectorsFeaturizer,
)
from rasa.shared.nlu.constants import ACTION_NAME, INTENT, INTENT_RESPONSE_KEY
from rasa.shared.nlu.training_data.message import Message


def token_pinyin(token: str) -> str:
    """The syllables of one token, space-separated ("社宝" -> "she bao")."""
    from pypinyin import lazy_pinyin

    return " ".join(part for syllable in lazy_pinyin(token) for part in syllable.split()) or token


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class PinyinCountVectorsFeaturizer(CountVectorsFeaturizer):
    """``CountVectorsFeaturizer`` over each token's pinyin (word analyzer)."""

    def _get_message_tokens_by_attribute(self, message: Message, attribute: str) -> list[str]:
        tokens = super()._get_message_tokens_by_attribute(message, attribute)
        if attribute in (INTENT, ACTION_NAME, INTENT_RESPONSE_KEY):
            return tokens  # labels stay labels
        return [token_pinyin(token) for token in tokens]

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        super().validate_config(config)
        if config.get("analyzer", "word") != "word":
            raise ValueError(
                "PinyinCountVectorsFeaturizer works on syllables: analyzer must be 'word'"
            )
