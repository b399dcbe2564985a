"""Which catalog service does a request name in other words? A learned
fallback for the service matcher.

Services are recognised by the catalog's names, aliases and regular
expressions (``bot.knowledge.match_service``; its Rasa-side copy
hotline_rasa/service_names.py), so a request in other words ("开个证明 证明
我没犯过事的那种" = no_criminal_record) named no service and got "办事指南里暂时
没有找到这个事项" (issue 18). This component learns the services from the
catalog (data/knowledge/services.yml: each service's name, aliases and
examples) the way the FAQ retriever learns the FAQ entries
(hotline_rasa/faq_retriever.py): TF-IDF character and word n-grams
(``hotline_gate.normalise``), a one-vs-rest linear SVM, a softmax confidence.

With ``generic_class`` (default on) it also learns a class of its own,
``__generic__``, from the NLU examples of ``request_service_guide`` that name
no service and are none of the catalog's phrasings ("我要办事", "办事要带什么
材料"): a request naming no service at all is then that class rather than the
service it happens to be nearest to.

At parse time, for a message whose intent (after the arbiter and the hotline
gate: this component runs last) is one of ``intents`` and in which the
matcher finds no service, it adds the entity ``{"entity": "service",
"value": <id>, "extractor": "ServiceRetriever", "confidence_entity": c}`` when
the top class is a service with confidence c >= ``threshold``. domain.yml
fills the ``service`` slot from that entity, so the guide's form starts with
the service understood and its next question names it, with "不是这个".

Messages that are no hotline matter are a class of their own,
``__off_topic__`` (the NLU's ``off_topic_intent`` examples and the sentences
of the ``negatives`` files, the hotline gate's data/gate/*.yml). ``service``
and its confidence ``c`` are the top class among the services and
``__generic__`` *given that the message is a hotline matter* (the off-topic
class left out, the rest summing to 1); the off-topic class's own share says
whether it is one at all.

A message DIET or the hotline gate declined (its intent one of
``rescue_intents``: out_of_scope, nlu_fallback) becomes
``request_service_guide`` with the ``service`` entity when the retriever is
sure of one service counted against every class, off-topic included
(``c x (1 - off-topic share) >= rescue_threshold``): "那个去港澳的小本本过期了
在哪续" was declined although it asks for one service; the guide's next
question names the service understood, with "不是这个". Chosen on the tuning
sets (docs/experiments/2026-12-06-declined-service-requests.md): 25 of
eval/service_naming/dev.yml's 37 declined requests named right, none of the
1,372 off-topic tuning sentences started the guide.

The other way round, with ``decline_off_topic``: a message whose intent is
``request_service_guide``, which names no service (no entity, no catalog name)
and whose off-topic share is >= ``decline_off_topic``, becomes
``off_topic_intent`` with that share as its confidence. DIET read everyday
questions as requests of the guide at 1.0 ("蚊子咬了很痒怎么办", "宜家买的床少
了个配件，去哪里申请补发"), the gate half believed them, and the guide's form
asked "请问您想办理哪项业务". The complaint arbiter, after this component, still
takes a complaint from a declined message. Chosen on the tuning sets
(docs/experiments/2026-12-07-mandarin-features.md, thirteenth session).

Every message (whatever its intent) gets the parse key ``service_retriever:
{"service": id or None, "confidence": c, "off_topic": share, "used": bool,
"sure": bool}``: ``service`` the top class (None for ``__generic__``),
``sure`` c >= threshold, ``used`` whether the entity was added,
``"rescued_from": intent`` when a declined message became a request and
``"declined_from": intent`` when a request became a declined message. The
actions read it at the form's service question (actions/guidance.py: a
free-text answer no matcher understood) and next to an FAQ answer (the guide
of the service the question is about, offered as a button).

Turning DIET's ``faq`` into the guide when this retriever is sure of a
service was tried and removed: it named 15 more dev.yml requests right but
turned real FAQ questions of eval/heldout and eval/citizen_dev into the guide
(heldout FAQ top-1 0.973 -> 0.909; docs/experiments/
2026-12-06-service-retriever.md). C 2, scale 3 x ln(classes) and threshold
0.7 were chosen on eval/service_naming/dev.yml.

The model is the vocabulary and the sparse weights (``faq_retriever.Retriever``),
persisted like FaqRetriever's; the catalog's contents are part of the
component's fingerprint, so Rasa retrains it when the catalog changes.
"""

from __future__ import annotations

import hashlib
import logging
import math
from pathlib import Path
from typing import Any

import yaml
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import ENTITIES, INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from hotline_rasa.faq_retriever import Retriever
from hotline_rasa.hotline_gate import (
    PROJECT_ROOT,
    GateDataError,
    load_negatives,
    negatives_files,
    reading_fingerprint,
)
from hotline_rasa.intents import put_first
from hotline_rasa.service_names import load_service_names, named_service

logger = logging.getLogger(__name__)

RETRIEVER_KEY = "service_retriever"
EXTRACTOR = "ServiceRetriever"
ENTITY = "service"
GENERIC = "__generic__"
#: The class of messages that are no hotline matter (the NLU's out_of_scope
#: examples and the hotline gate's everyday negatives).
OFF_TOPIC = "__off_topic__"
GUIDE_INTENT = "request_service_guide"
MODEL_FILE = "service_retriever.joblib"
NAMES_FILE = "service_names.yml"
#: The persisted layout; part of the fingerprint (Rasa's cache does not key on code).
MODEL_FORMAT = 2


class ServiceRetrieverError(ValueError):
    """The catalog cannot train the retriever (named in the message)."""


def read_services(path: Path) -> list[tuple[str, list[str]]]:
    """(id, [name, *aliases, *examples]) of every service of a catalog file."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError as error:
        raise ServiceRetrieverError(f"{path}: no such file (ServiceRetriever catalog)") from error
    except yaml.YAMLError as error:
        raise ServiceRetrieverError(f"{path}: not valid YAML: {error}") from error
    services = document.get("services") if isinstance(document, dict) else None
    if not isinstance(services, list) or not services:
        raise ServiceRetrieverError(f"{path}: no 'services' list")
    result = []
    for number, service in enumerate(services, 1):
        if not isinstance(service, dict) or not service.get("id") or not service.get("name"):
            raise ServiceRetrieverError(f"{path}: service {number} has no id or name")
        examples = service.get("examples") or []
        if not isinstance(examples, list):
            raise ServiceRetrieverError(
                f"{path}: service {service['id']}: 'examples' is not a list"
            )
        texts = [service["name"], *(service.get("aliases") or []), *examples]
        result.append((str(service["id"]), [str(t).strip() for t in texts if str(t).strip()]))
    return result


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class ServiceRetriever(GraphComponent, IntentClassifier):
    """Guesses the service of a service request that names none."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            # the catalog file, relative to the project
            "services": "data/knowledge/services.yml",
            # the intents whose messages may get the entity
            "intents": ["request_service_guide"],
            # the NLU intent whose examples naming no service make __generic__
            # (null: no such class)
            "generic_intent": "request_service_guide",
            # messages that are no hotline matter make __off_topic__: this
            # intent's NLU examples and the sentences of these negatives files
            # (data/gate/*.yml's shape); both null/empty: no such class
            "off_topic_intent": None,
            "negatives": [],
            # a message declined with one of these intents becomes a request of
            # the service the retriever is sure of (>= rescue_threshold, counted
            # against every class, __off_topic__ included); empty: never
            "rescue_intents": [],
            "rescue_threshold": 0.9,
            # a request of the guide that names no service, whose off-topic
            # share is >= this, becomes ``off_topic_intent`` (null: never)
            "decline_off_topic": None,
            "ngram_range": [1, 3],
            "word_ngram_range": [1, 2],
            "pinyin_ngram_range": [1, 2],
            "C": 1.0,
            "prune_below": 0.003,
            # softmax scale: a number, or "auto" (scale_per_log_entry x ln(classes))
            "scale": "auto",
            "scale_per_log_entry": 1.17,
            # the entity is added when the top service's confidence >= this
            "threshold": 0.5,
        }

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        retriever: Retriever | None = None,
        names: list[tuple[str, list[str]]] | None = None,
    ) -> None:
        self._config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self._retriever = retriever
        self._names = names or []
        self._intents = {str(i) for i in self._config["intents"] or []}
        threshold = float(self._config["threshold"])
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"ServiceRetriever threshold {threshold} is not between 0 and 1")
        self._threshold = threshold
        self._rescue_intents = {str(i) for i in self._config["rescue_intents"] or []}
        rescue = float(self._config["rescue_threshold"])
        if not 0.0 < rescue <= 1.0:
            raise ValueError(f"ServiceRetriever rescue_threshold {rescue} is not in (0, 1]")
        self._rescue_threshold = rescue
        decline = self._config["decline_off_topic"]
        if decline is not None and not 0.0 < float(decline) <= 1.0:
            raise ValueError(f"ServiceRetriever decline_off_topic {decline} is not in (0, 1]")
        off_topic_intent = self._config["off_topic_intent"]
        if decline is not None and not off_topic_intent:
            raise ValueError("ServiceRetriever decline_off_topic needs an off_topic_intent")
        self._decline = None if decline is None else float(decline)
        self._off_topic_intent = str(off_topic_intent or "")
        scale = self._config["scale"]
        per_log = float(self._config["scale_per_log_entry"])
        if scale != "auto" and (not isinstance(scale, (int, float)) or scale <= 0):
            raise ValueError(f"ServiceRetriever scale {scale!r} must be 'auto' or above 0")
        if per_log <= 0:
            raise ValueError(f"ServiceRetriever scale_per_log_entry {per_log} must be above 0")
        self._scale: float | None = None if scale == "auto" else float(scale)
        self._per_log = per_log

    def scale(self) -> float:
        if self._scale is not None:
            return self._scale
        classes = len(self._retriever.keys) if self._retriever is not None else 2
        return self._per_log * math.log(max(classes, 2))

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> ServiceRetriever:
        return cls(config, model_storage, resource)

    @classmethod
    def catalog_path(cls, config: dict[str, Any]) -> Path:
        path = Path(config.get("services") or cls.get_default_config()["services"])
        return path if path.is_absolute() else PROJECT_ROOT / path

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        """The catalog's and the negatives files' contents: they are not part
        of Rasa's training data."""
        digest = hashlib.sha256(f"format:{MODEL_FORMAT}".encode())
        digest.update(reading_fingerprint().encode())  # how texts are read (hotline_gate)
        try:
            digest.update(cls.catalog_path(config).read_bytes())
            for path in negatives_files(config.get("negatives") or []):
                digest.update(path.name.encode())
                digest.update(path.read_bytes())
        except (OSError, GateDataError) as error:
            return f"format:{MODEL_FORMAT}:missing:{error}"
        return digest.hexdigest()

    # --- training ------------------------------------------------------------

    def training_pairs(self, training_data: TrainingData) -> tuple[list[str], list[str]]:
        """(texts, labels): each service's name, aliases and examples, and with
        ``generic_intent`` that intent's NLU examples naming no service (label
        ``__generic__``); each distinct (text, label) once."""
        texts: list[str] = []
        labels: list[str] = []
        seen: set[tuple[str, str]] = set()
        services = read_services(self.catalog_path(self._config))
        for service_id, phrasings in services:
            for text in phrasings:
                if (text, service_id) not in seen:
                    seen.add((text, service_id))
                    texts.append(text)
                    labels.append(service_id)
        generic = self._config.get("generic_intent")
        if generic:
            known = {text for text, _ in seen}
            for example in training_data.intent_examples:
                text = (example.get(TEXT) or "").strip()
                if (
                    example.get(INTENT) == generic
                    and text
                    and text not in known
                    and (text, GENERIC) not in seen
                    and named_service(text, self._names) is None
                ):
                    seen.add((text, GENERIC))
                    texts.append(text)
                    labels.append(GENERIC)
        off_topic = self._config.get("off_topic_intent")
        negatives = negatives_files(self._config.get("negatives") or [])
        if off_topic or negatives:
            known = {text for text, _ in seen}
            everyday = [
                (example.get(TEXT) or "").strip()
                for example in training_data.intent_examples
                if off_topic and example.get(INTENT) == off_topic
            ]
            everyday += [text.strip() for path in negatives for text in load_negatives(path)]
            for text in everyday:
                if text and text not in known:
                    known.add(text)
                    texts.append(text)
                    labels.append(OFF_TOPIC)
        return texts, labels

    def train(self, training_data: TrainingData) -> Resource:
        self._names = load_service_names(self.catalog_path(self._config))
        texts, labels = self.training_pairs(training_data)
        self._retriever = Retriever.fit(texts, labels, {}, self._config)
        logger.info(
            "ServiceRetriever trained on %d phrasings of %d classes (%d generic, %d off-topic)",
            len(texts),
            len(self._retriever.keys),
            labels.count(GENERIC),
            labels.count(OFF_TOPIC),
        )
        self.persist()
        return self._resource

    def persist(self) -> None:
        import joblib

        with self._model_storage.write_to(self._resource) as directory:
            if self._retriever is not None:
                joblib.dump(
                    {"format": MODEL_FORMAT, "retriever": self._retriever, "names": self._names},
                    Path(directory) / MODEL_FILE,
                    compress=3,
                )

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> ServiceRetriever:
        import joblib

        saved = None
        try:
            with model_storage.read_from(resource) as directory:
                path = Path(directory) / MODEL_FILE
                if path.exists():
                    saved = joblib.load(path)
        except ValueError:
            pass
        if saved is not None and saved.get("format") != MODEL_FORMAT:
            raise ServiceRetrieverError(
                f"the model's service retriever has layout {saved.get('format')}, this code "
                f"reads {MODEL_FORMAT}: retrain the model (make model)"
            )
        if saved is None:
            logger.warning("ServiceRetriever: no trained retriever in the model; no guesses")
            return cls(config, model_storage, resource)
        names = [(str(i), list(a)) for i, a in saved["names"]]
        return cls(config, model_storage, resource, saved["retriever"], names)

    # --- parsing --------------------------------------------------------------

    def guess(self, texts: list[str]) -> list[tuple[str | None, float, float]]:
        """(service id or None for the generic class, confidence, off-topic
        share) of each text. The confidence is the top class's among the
        services and ``__generic__``, given that the message is a hotline
        matter (the ``__off_topic__`` class left out, the rest summing to 1):
        a message whose intent already says it is a request is judged on which
        service; the off-topic share says whether it is one at all."""
        retriever = self._retriever
        if retriever is None:
            return [(None, 0.0, 0.0) for _ in texts]
        scores = retriever.scores(texts, self.scale())
        off = retriever.keys.index(OFF_TOPIC) if OFF_TOPIC in retriever.keys else None
        result = []
        for row in scores:
            off_share = float(row[off]) if off is not None else 0.0
            if off is not None:
                row = row.copy()
                row[off] = 0.0
            best = int(row.argmax())
            key = retriever.keys[best]
            confidence = float(row[best]) / max(1.0 - off_share, 1e-9)
            result.append((None if key == GENERIC else key, min(confidence, 1.0), off_share))
        return result

    def _names_none(self, message: Message, text: str) -> bool:
        """No service entity yet and none named by the catalog's matcher."""
        return not any(
            e.get("entity") == ENTITY for e in message.get(ENTITIES) or []
        ) and (named_service(text, self._names) is None)

    def process(self, messages: list[Message]) -> list[Message]:
        if not messages or self._retriever is None:
            return messages
        texts = [m.get(TEXT) or "" for m in messages]
        for message, text, (service, confidence, off_share) in zip(
            messages, texts, self.guess(texts), strict=True
        ):
            sure = service is not None and confidence >= self._threshold
            intent = (message.get(INTENT) or {}).get("name")
            # sure of the service counted against every class, off-topic included
            joint = confidence * (1.0 - off_share)
            rescued = (
                service is not None
                and intent in self._rescue_intents
                and joint >= self._rescue_threshold
            )
            if rescued:
                # "我的身分证消磁了刷不出来 怎么重新办一张": declined by DIET or the
                # gate, but a request of one service; the guide's next question
                # names it, with "不是这个"
                put_first(message, GUIDE_INTENT, joint)
            declined = (
                self._decline is not None
                and not rescued
                and intent == GUIDE_INTENT
                and off_share >= self._decline
                and self._names_none(message, text)
            )
            if declined:
                # "蚊子咬了很痒怎么办", "宜家买的床少了个配件，去哪里申请补发": DIET read
                # an everyday question as a request of the guide (at 1.0), the gate
                # half believed it, and the guide's form asked "请问您想办理哪项业务"
                put_first(message, self._off_topic_intent, off_share)
            used = False
            if (
                rescued or (sure and intent in self._intents and not declined)
            ) and self._names_none(message, text):
                entities = list(message.get(ENTITIES) or [])
                entities.append(
                    {
                        "entity": ENTITY,
                        "value": service,
                        "start": 0,
                        "end": len(text),
                        "extractor": EXTRACTOR,
                        "confidence_entity": round(confidence, 4),
                    }
                )
                message.set(ENTITIES, entities, add_to_output=True)
                used = True
            verdict: dict[str, Any] = {
                "service": service,
                "confidence": round(confidence, 4),
                "off_topic": round(off_share, 4),
                "sure": sure,
                "used": used,
            }
            if rescued:
                verdict["rescued_from"] = intent
            if declined:
                verdict["declined_from"] = intent
            message.set(RETRIEVER_KEY, verdict, add_to_output=True)
        return messages
