"""Jieba tokens without punctuation: punctuation is no evidence of an intent.

Rasa's ``JiebaTokenizer`` keeps every punctuation mark as a token, so the
character n-gram featurizer gives DIET "，" or "?" as features. A class whose
training examples happen to use a mark becomes that mark's class: with the
77-service catalog, 40 of the 220 ``request_service_guide`` examples hold a
full-width comma ("孩子两岁了，育儿补贴怎么领") and hardly any other intent's
do, and DIET read unseen messages with one — "嗨，小助手", "好，就这样",
emergencies, FAQ questions — as service requests with confidence ~1.0
(docs/experiments/2026-12-05-broad-catalog.md). Likewise every FAQ question of
the catalog ends with an ASCII "?", which citizens type full-width or not at all.

This tokenizer drops tokens made only of punctuation, symbols and whitespace,
in training and at parse time alike. A message made only of them ("？？",
"。。。") keeps its tokens: Rasa's featurizers need at least one.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.training_data.message import Message

#: Unicode general categories dropped: punctuation (P*), symbols (S*),
#: separators (Z*) and control characters (Cc).
_DROPPED_CATEGORIES = ("P", "S", "Z", "Cc")


def is_punctuation(text: str) -> bool:
    """Whether ``text`` holds only punctuation, symbols or whitespace."""
    return all(
        char.isspace() or unicodedata.category(char).startswith(_DROPPED_CATEGORIES)
        for char in text
    )


def without_punctuation(tokens: list[Token]) -> list[Token]:
    """``tokens`` without the punctuation-only ones, unless none would be left."""
    kept = [token for token in tokens if not is_punctuation(token.text)]
    return kept or tokens


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=True)
class PunctuationFreeJiebaTokenizer(JiebaTokenizer):
    """``JiebaTokenizer`` (same configuration) that leaves punctuation out."""

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        return without_punctuation(super().tokenize(message, attribute))

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return JiebaTokenizer.get_default_config()
