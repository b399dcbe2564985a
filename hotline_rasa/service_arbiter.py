"""A question about a service, or a request to do it? Settle faq against
request_service_guide with what the message names.

With 316 FAQ entries and 77 services many FAQ questions are about a service's
subject ("民办学位补贴怎么申请" is an FAQ entry; "居住证办理" a service), and
DIET reads one as the other. On the tuning sets (the broad-catalog model) that
was the largest error: 15 FAQ questions of eval/citizen_dev read as service
requests, 10 service requests read as FAQ questions. The two intents lead to
different answers: a service request names no service -> the guide's form asks
"请问您想办理哪项业务" although the retriever knows the answer; an FAQ answer
the retriever barely prefers for "违章罚款怎么交" -> a neighbouring entry
instead of the payment guide.

This component runs after the FAQ rescue and before the hotline gate (which
still judges the result), and changes the intent in two cases only:

- ``request_service_guide``, no catalog service named in the text, and the FAQ
  retriever sure of an entry (top confidence >= ``faq_confidence``): the
  intent becomes ``faq`` with the retriever's confidence;
- ``faq``, a catalog service named, a procedure asked for ("怎么办/弄/交/
  申请", "去哪办/补/换", "要带什么", "流程", "手续", ...; Cantonese read as
  Mandarin, hotline_rasa/cantonese.py) and the retriever not sure of its
  entry (top confidence < ``service_confidence``), or sure of an entry that
  answers no procedure (none of its phrasings in the FAQ catalog,
  ``catalog``, asks one): the intent becomes ``request_service_guide`` with
  DIET's confidence. The retriever has no "none of these": "社保卡掉了，要怎
  么补一张" is the social security card's only entry, what the card is for, at
  0.92, and "个税年度汇算具体怎么操作" the entry on who must file, at 0.97.

Otherwise DIET's intent stands. A changed parse carries ``service_arbiter:
{"from": intent, "diet_confidence": c, "service": id or None}``.

The services' names and aliases are read from ``services`` (the catalog file,
relative to the project), and the FAQ entries that answer no procedure from
``catalog``, when the model is trained and kept in the model, so Rasa's
process needs no catalog at run time; "names a service" is
``bot.knowledge.match_service``'s rule (hotline_rasa/service_names.py).

``faq_confidence`` 0.7 and ``service_confidence`` 0.6 were chosen on the
tuning sets (eval/heldout, eval/citizen_dev, eval/inscope_probe,
eval/offtopic_dev, eval/offtopic_probe; docs/experiments/
2026-12-06-service-or-faq.md; ``service_confidence`` 0.9 since 2026-12-07,
with "去哪办" and "要带什么" as procedures: docs/experiments/
2026-12-07-cantonese.md): 13 answers turned right, 1 turned into a
neighbouring answer ("想入户东莞 流程是怎样": the settlement conditions instead
of the guide), no off-topic sentence changed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from pathlib import Path
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from hotline_rasa.cantonese import to_mandarin
from hotline_rasa.faq_retriever import read_catalog
from hotline_rasa.hotline_gate import (
    PROJECT_ROOT,
    faq_confidence,
    faq_entry,
    read_initials,
    reading_fingerprint,
)
from hotline_rasa.intents import put_first
from hotline_rasa.service_names import load_service_names, named_service

logger = logging.getLogger(__name__)

ARBITER_KEY = "service_arbiter"
NAMES_FILE = "service_names.json"
#: The FAQ entries none of whose phrasings asks a procedure.
NO_PROCEDURE_FILE = "faq_without_procedure.json"

#: A procedure asked for: how to apply, pay, handle; where to do it; what to
#: bring; the steps, the formalities. Matched on the text with its Cantonese
#: words in Mandarin (去边度补 -> 去哪里补).
PROCEDURE = re.compile(
    r"(?:怎么|怎样|咋|如何)(?:办|弄|搞|交|处理|操作|申请|申领|报装|开通|补|换|登记|报名)"
    r"|(?:去|到|在)哪(?:里|儿)?(?:办|弄|搞|交|申请|申领|登记|换|补|上|开|打印|报名|领)"
    r"|(?:带|准备)(?:什么|哪些|啥)|(?:什么|哪些|啥)材料|流程|手续|步骤"
)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class ServiceFaqArbiter(GraphComponent, IntentClassifier):
    """Settles ``faq`` against ``request_service_guide`` by the services named."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "faq_intent": "faq",
            "service_intent": "request_service_guide",
            # the catalog file, relative to the project
            "services": "data/knowledge/services.yml",
            # the FAQ catalog, relative to the project (null: every entry is
            # taken to answer a procedure)
            "catalog": "data/knowledge/faq.yml",
            "faq_confidence": 0.7,
            "service_confidence": 0.6,
        }

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        names: list[tuple[str, list[str]]] | None = None,
        no_procedure: frozenset[str] = frozenset(),
    ) -> None:
        self._config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self._names = names or []
        #: FAQ entries that answer no procedure
        self._no_procedure = no_procedure
        self._faq = str(self._config["faq_intent"])
        self._service = str(self._config["service_intent"])
        for key in ("faq_confidence", "service_confidence"):
            value = float(self._config[key])
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"ServiceFaqArbiter {key} {value} is not between 0 and 1")
        self._faq_sure = float(self._config["faq_confidence"])
        self._faq_unsure = float(self._config["service_confidence"])

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> ServiceFaqArbiter:
        return cls(config, model_storage, resource)

    @classmethod
    def catalog_path(cls, config: dict[str, Any]) -> Path:
        """The service catalog."""
        path = Path(config.get("services") or cls.get_default_config()["services"])
        return path if path.is_absolute() else PROJECT_ROOT / path

    @classmethod
    def faq_path(cls, config: dict[str, Any]) -> Path | None:
        """The FAQ catalog, or None when the config sets none."""
        value = {**cls.get_default_config(), **config}.get("catalog")
        if not value:
            return None
        path = Path(str(value))
        return path if path.is_absolute() else PROJECT_ROOT / path

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        """The catalogs' contents (they are not part of Rasa's training data)
        and how texts are read (hotline_gate.reading_fingerprint)."""
        digest = hashlib.sha256(reading_fingerprint().encode())
        for path in (cls.catalog_path(config), cls.faq_path(config)):
            if path is None:
                continue
            try:
                digest.update(path.read_bytes())
            except OSError as error:
                return f"missing:{error}"
        return digest.hexdigest()

    @staticmethod
    def entries_without_procedure(path: Path) -> frozenset[str]:
        """The FAQ entries of a catalog none of whose phrasings asks a procedure."""
        return frozenset(
            entry
            for entry, phrasings, _ in read_catalog(path)
            if not any(PROCEDURE.search(to_mandarin(p)) for p in phrasings)
        )

    def train(self, training_data: TrainingData) -> Resource:
        self._names = load_service_names(self.catalog_path(self._config))
        faq = self.faq_path(self._config)
        self._no_procedure = self.entries_without_procedure(faq) if faq else frozenset()
        self.persist()
        logger.info(
            "ServiceFaqArbiter knows %d services, %d FAQ entries answering no procedure",
            len(self._names),
            len(self._no_procedure),
        )
        return self._resource

    def persist(self) -> None:
        with self._model_storage.write_to(self._resource) as directory:
            (Path(directory) / NAMES_FILE).write_text(
                json.dumps(self._names, ensure_ascii=False), encoding="utf-8"
            )
            (Path(directory) / NO_PROCEDURE_FILE).write_text(
                json.dumps(sorted(self._no_procedure)), encoding="utf-8"
            )

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> ServiceFaqArbiter:
        no_procedure: list[str] = []
        try:
            with model_storage.read_from(resource) as directory:
                names = json.loads((Path(directory) / NAMES_FILE).read_text(encoding="utf-8"))
                kept = Path(directory) / NO_PROCEDURE_FILE
                if kept.is_file():  # a model trained before 2026-12-07 has none
                    no_procedure = json.loads(kept.read_text(encoding="utf-8"))
        except (ValueError, FileNotFoundError):
            logger.warning("ServiceFaqArbiter: no service names in the model; intents unchanged")
            names = []
        return cls(
            config,
            model_storage,
            resource,
            [(i, list(a)) for i, a in names],
            frozenset(str(entry) for entry in no_procedure),
        )

    def decide(
        self, intent: str | None, text: str, retriever: float | None, entry: str | None = None
    ) -> tuple[str, str | None] | None:
        """(the intent to put in place of ``intent``, the service the text
        names), or None to keep it. ``entry`` is the retriever's top entry."""
        if not self._names or retriever is None:
            return None
        text = read_initials(text)  # "gjj贷款" names 公积金贷款
        if intent == self._service:
            if retriever >= self._faq_sure and named_service(text, self._names) is None:
                return self._faq, None
        elif (
            intent == self._faq
            and (retriever < self._faq_unsure or entry in self._no_procedure)
            and PROCEDURE.search(to_mandarin(text))
        ):
            service = named_service(text, self._names)
            if service is not None:
                return self._service, service
        return None

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            intent = message.get(INTENT) or {}
            name = intent.get("name")
            text = message.get(TEXT) or ""
            retriever = faq_confidence(message, self._faq)
            decision = self.decide(name, text, retriever, faq_entry(message, self._faq))
            if decision is None:
                continue
            new, service = decision
            diet = float(intent.get("confidence") or 0.0)
            confidence = float(retriever or 0.0) if new == self._faq else diet
            put_first(message, new, confidence)
            message.set(
                ARBITER_KEY,
                {
                    "from": name,
                    "diet_confidence": round(diet, 4),
                    "service": service,
                },
                add_to_output=True,
            )
        return messages
