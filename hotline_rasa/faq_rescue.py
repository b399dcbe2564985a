"""An FAQ the retriever is sure of, behind DIET's doubt: answer it.

DIET decides the intent and the FAQ retriever (hotline_rasa/faq_retriever.py)
decides which FAQ entry; the FallbackClassifier declines a message when DIET's
top intent is below its threshold. On short, colloquial or Cantonese questions
DIET is often unsure between ``faq`` and a neighbouring intent while the
retriever, trained on the catalog's own phrasings, is sure of the entry
("如果在家闻到煤气味，应该怎么做": DIET 0.43 for ``edit_complaint``, the
retriever 0.91 for the gas-leak entry). Measured on eval/heldout (the tuning
set) with the shipped model, 9 of its FAQ questions were missed, 4 of them
declined by the fallback with the right entry ranked first.

This component runs after the FallbackClassifier and before the hotline gate.
When the intent is ``nlu_fallback`` and the retriever's confidence in its top
entry is at least ``min_confidence``, the intent becomes the retrieval intent
(``faq``) with the retriever's confidence, put first in the ranking, and the
parse result carries ``faq_rescue: {"from": <DIET's top intent>,
"diet_confidence": c}``. The hotline gate still runs after it, so an everyday
message that happens to resemble an entry is still turned away. A message the
FallbackClassifier did not decline is never touched, and nothing is trained.

``min_confidence`` 0.5 was chosen on eval/heldout and eval/offtopic_dev (the
tuning sets): at 0.5 it rescued 3 FAQ questions there and nothing else; at 0.4
it also rescued one off-topic sentence, at 0.3 a "停" (stop) too.

Small talk is short. A question spoken into the phone starts with a greeting
and runs on ("喂你好我想问下就是我驾照今年已经扣了9分了如果再扣扣满12分会怎么样"),
and DIET, which weighs every word, calls it ``greet`` or ``rate``. A message
DIET gives one of ``small_talk_intents`` (greetings, thanks, goodbyes,
ratings, "who are you") that is at least ``small_talk_min_chars`` long
(letters and digits, without spaces and punctuation) and whose entry the
retriever gives at least ``min_confidence`` becomes ``faq`` the same way
(``faq_rescue.from`` names the small-talk intent). On the tuning sets
(eval/heldout, eval/citizen_dev, eval/citizen_dev2, eval/inscope_probe, the
four off-topic sets; 2026-12-07) 12 characters turned 6 FAQ questions and no
other sentence; 10 also turned three small-talk ones ("这是12345官方的吗",
"你好呀东莞12345").

In config.yml, right after the FallbackClassifier::

    - name: hotline_rasa.faq_rescue.FaqRescue
      retrieval_intent: faq
      min_confidence: 0.5
"""

from __future__ import annotations

import re
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.constants import RESPONSE_SELECTOR_PREDICTION_KEY, RESPONSE_SELECTOR_PROPERTY_NAME
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from hotline_rasa.intents import put_first

FALLBACK = "nlu_fallback"
RESCUE_KEY = "faq_rescue"
#: letters and digits of any script: what a message's length counts
_WORD_CHARS = re.compile(r"[^\W_]", re.UNICODE)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class FaqRescue(GraphComponent, IntentClassifier):
    """Turns ``nlu_fallback``, or small talk too long to be small talk, into
    ``faq`` when the FAQ retriever is sure of its entry."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "retrieval_intent": "faq",
            "min_confidence": 0.5,
            # a long message DIET calls small talk, with a sure entry, is the FAQ
            "small_talk_intents": ["greet", "goodbye", "thank", "rate", "ask_identity"],
            "small_talk_min_chars": 12,
        }

    def __init__(self, config: dict[str, Any]) -> None:
        self._config = {**self.get_default_config(), **config}
        self._intent = str(self._config["retrieval_intent"])
        minimum = float(self._config["min_confidence"])
        if not 0.0 < minimum <= 1.0:
            raise ValueError(f"FaqRescue min_confidence {minimum} is not in (0, 1]")
        self._minimum = minimum
        self._small_talk = frozenset(str(i) for i in self._config["small_talk_intents"] or [])
        self._small_talk_chars = int(self._config["small_talk_min_chars"])

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> FaqRescue:
        return cls(config)

    def retriever_confidence(self, message: Message) -> float:
        """The retriever's confidence in its top entry (0 when it gave none)."""
        selector = (message.get(RESPONSE_SELECTOR_PROPERTY_NAME) or {}).get(self._intent) or {}
        response = selector.get(RESPONSE_SELECTOR_PREDICTION_KEY) or {}
        return float(response.get(PREDICTED_CONFIDENCE_KEY) or 0.0)

    def long_small_talk(self, message: Message) -> bool:
        """DIET's small talk on a message too long to be small talk."""
        name = (message.get(INTENT) or {}).get("name")
        text = message.get(TEXT) or ""
        return name in self._small_talk and len(_WORD_CHARS.findall(text)) >= self._small_talk_chars

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            name = (message.get(INTENT) or {}).get("name")
            if name != FALLBACK and not self.long_small_talk(message):
                continue
            confidence = self.retriever_confidence(message)
            if confidence < self._minimum:
                continue
            ranked = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != FALLBACK]
            diet: dict[str, Any] = next(iter(ranked), {})  # DIET's top
            put_first(message, self._intent, confidence, drop=[FALLBACK])
            message.set(
                RESCUE_KEY,
                {
                    "from": diet.get("name"),
                    "diet_confidence": round(float(diet.get("confidence") or 0.0), 4),
                },
                add_to_output=True,
            )
        return messages
