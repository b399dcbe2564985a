"""Is the citizen reporting a problem to be fixed (a complaint) or asking a
question? A message that tells of a problem becomes the ``complain`` intent.

What a 12345 hotline receives most is a problem told in a line, without
"我要投诉": "楼下大排档每天吵到两点", "厂里三个月冇出粮", "隔壁工厂排黑烟 臭得要命".
DIET learns ``complain`` from about a hundred examples against thousands of FAQ
phrasings on the same topics (noise, wages, pollution), so it reads most such
lines as an FAQ question or declines them: of the 403 complaint descriptions of
eval/dispatch/dev*.yml, sent as first messages, 62 were read as complaints, 143
as FAQ questions and 120 were declined (the citizen got an FAQ answer or "抱歉，
我没太理解" and no ticket). The dispatch classifier's 2,469 complaint
descriptions (data/complaints/*.yml, one file per category) already say what a
complaint sounds like; DIET never reads them.

This component, after every other intent decision, learns from them:

- a logistic regression over TF-IDF character 1-2-grams (``build_classifier``,
  the hotline gate's classifier with characters only) with the ``complain`` examples
  and data/complaints/*.yml as positives, and every other NLU example, the FAQ
  catalog's phrasings (questions) and the gate's everyday sentences
  (data/gate/*.yml) as negatives;
- an FAQ (``faq_intents``) becomes ``complain`` when P(complaint) >=
  ``faq_threshold`` and the FAQ retriever is not sure of an entry
  (< ``faq_sure_confidence``: "燃气费怎么交" stays a question), or, when it
  is sure, at P(complaint) >= ``sure_faq_threshold``: a problem told in a
  line is often on an FAQ entry's very subject ("厂里拖欠我两个月工资" and the
  wage arrears entry at 0.93, "有人在楼顶违建加盖" and the illegal building
  entry at 0.99), and the citizen asked for it to be dealt with, not for the
  rules (the complaint form's opening says how to leave for a question);
- a declined message (``rejected_intents``) becomes ``complain`` when
  P(complaint) >= ``rejected_threshold`` and the hotline gate does not call it
  surely everyday (P(hotline) >= ``rejected_min_p_hotline``; the detector
  alone, on a short everyday line of words it never saw, is sometimes sure of
  a complaint: "凉拌黄瓜的做法"), or at P(complaint) >=
  ``rejected_threshold_hotline`` when the gate half believes it is a hotline
  matter (P(hotline) >= ``rejected_hotline_min``: "邻居家漏水渗到我家天花",
  "的士不打表 一口价要五十");
- a request for a service guide or a complaint about the hotline's own service
  (``misread_intents``) becomes ``complain`` when P(complaint) >=
  ``misread_threshold`` ("办营业执照卡了一个月都没批", "医生态度好差 骂病人": a
  problem with an office, for its department, not a guide or the hotline's
  supervisors; the hotline's own service complaints of the tuning sets had
  P <= 0.87).

- the other way round, DIET's ``complain`` the detector doubts
  (P(complaint) < ``doubt_threshold``) is no complaint: the FAQ
  (``faq_retrieval_intent``) when the FAQ retriever's confidence is >=
  ``doubt_faq_confidence`` ("老板拖欠工资三个月了怎么办", "共享单车停哪里才不
  算乱停": P 0.04-0.16, their entries at 0.55-1.0), else ``out_of_scope``
  ("公众号文章被人恶意举报删了，怎么申诉", "跟闺蜜吵架了，先道歉是不是很没面
  子": P <= 0.11, the retriever <= 0.26); such a parse carries
  ``complaint_doubted: {"to": intent, "confidence": c, "p_complaint": P}``.

The numbers were chosen on the tuning sets (eval/heldout, eval/citizen_dev,
eval/inscope_probe, the four off-topic dev and probe sets and the dispatch dev
sets; docs/experiments/2026-12-06-complaint-arbiter.md). Every other intent is
left alone; an emergency is never touched. Every parse carries
``complaint: {"p": P(complaint)}``; a changed one also ``complaint_arbiter:
{"from": intent, "confidence": c, "p_complaint": P}``, which the complaint
form's opening reads (a complaint the citizen did not name as one).

The data files are read when the model is trained (the Rasa image holds no
data/ folder); their contents are part of the component's fingerprint.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
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

from hotline_rasa.faq_retriever import catalog_path, read_catalog
from hotline_rasa.hotline_gate import (
    GATE_KEY,
    LabelledTexts,
    faq_confidence,
    fit_binary,
    load_negatives,
    negatives_files,
    normalise,
    read_yaml,
    reading_fingerprint,
)
from hotline_rasa.intents import put_first

logger = logging.getLogger(__name__)

#: Every parse: ``{"p": P(complaint) or None}``.
COMPLAINT_KEY = "complaint"
#: A changed parse: ``{"from": intent, "confidence": c, "p_complaint": P}``.
ARBITER_KEY = "complaint_arbiter"
#: DIET's complaint the detector doubted: ``{"to": intent, "confidence": c, "p_complaint": P}``.
DOUBT_KEY = "complaint_doubted"
OUT_OF_SCOPE = "out_of_scope"
MODEL_FILE = "complaint_detector.joblib"


class ComplaintDataError(ValueError):
    """A complaint data file is missing or not in its format."""


def load_complaints(path: Path) -> list[str]:
    """The ``examples`` of one data/complaints file (``category: <key>``,
    ``examples: [text, ...]``, bot/dispatch's training format)."""
    data = read_yaml(path, ComplaintDataError, "ComplaintArbiter data")
    examples = data.get("examples") if isinstance(data, dict) else None
    if not isinstance(examples, list):
        raise ComplaintDataError(f"{path}: needs 'examples:' as a list of texts")
    return [str(text).strip() for text in examples if str(text or "").strip()]


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class ComplaintArbiter(GraphComponent, IntentClassifier):
    """Turns an FAQ guess or a declined message that tells of a problem into ``complain``."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "complaint_intent": "complain",
            # An FAQ guess becomes a complaint at P(complaint) >= faq_threshold
            # unless the FAQ retriever is sure of its entry.
            "faq_intents": ["faq"],
            "faq_threshold": 0.75,
            "faq_sure_confidence": 0.9,
            # ...and, when the retriever is sure of its entry, at P(complaint)
            # >= sure_faq_threshold (above 1: never)
            "sure_faq_threshold": 1.01,
            "faq_retrieval_intent": "faq",
            # A declined message becomes a complaint at P(complaint) >=
            # rejected_threshold unless the gate is sure it is everyday.
            "rejected_intents": ["out_of_scope", "nlu_fallback"],
            "rejected_threshold": 0.85,
            "rejected_min_p_hotline": 0.05,
            # ...or at P(complaint) >= rejected_threshold_hotline when the gate
            # gives P(hotline) >= rejected_hotline_min (above 1: never)
            "rejected_threshold_hotline": 1.01,
            "rejected_hotline_min": 0.1,
            # A service guide request or a complaint about the hotline's own
            # service becomes a complaint at P(complaint) >= misread_threshold.
            "misread_intents": ["request_service_guide", "complain_service"],
            "misread_threshold": 0.9,
            # DIET's complaint at P(complaint) < doubt_threshold is the FAQ when
            # the FAQ retriever's confidence >= doubt_faq_confidence, else
            # out_of_scope (0: never)
            "doubt_threshold": 0.0,
            "doubt_faq_confidence": 0.5,
            # complaint descriptions (bot/dispatch's format), positives
            "complaints": ["data/complaints/*.yml"],
            # the FAQ catalog: its phrasings are questions, negatives (null: none)
            "catalog": "data/knowledge/faq.yml",
            # everyday sentences (the hotline gate's format), negatives
            "negatives": ["data/gate/*.yml"],
            # Character 1-2-grams seen in 3+ sentences: 0.25 MB. With jieba word
            # 1-2-grams and pinyin (the gate's and the safety net's features)
            # it was 2.3 MB for one citizen_dev complaint and 6 of 403 dispatch
            # descriptions more (docs/experiments/2026-12-06-complaint-arbiter.md).
            "ngram_range": [1, 2],
            "min_df": 3,
            "word_ngram_range": None,
            "pinyin_ngram_range": None,
            "C": 10.0,
        }

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        detector: Any = None,
    ) -> None:
        self._config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self._intent = str(self._config["complaint_intent"])
        self._faq_intents = frozenset(str(i) for i in self._config["faq_intents"] or [])
        self._rejected = frozenset(str(i) for i in self._config["rejected_intents"] or [])
        self._misread = frozenset(str(i) for i in self._config["misread_intents"] or [])
        for key in (
            "faq_threshold",
            "faq_sure_confidence",
            "sure_faq_threshold",
            "rejected_threshold",
            "rejected_min_p_hotline",
            "rejected_threshold_hotline",
            "rejected_hotline_min",
            "misread_threshold",
            "doubt_threshold",
            "doubt_faq_confidence",
        ):
            value = float(self._config[key])
            if not 0.0 <= value <= 1.01:
                raise ValueError(f"ComplaintArbiter {key} {value} is not in [0, 1]")
        self._detector = detector

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> ComplaintArbiter:
        return cls(config, model_storage, resource)

    @classmethod
    def data_files(cls, config: dict[str, Any]) -> tuple[list[Path], Path | None, list[Path]]:
        """(complaint files, the catalog or None, everyday negative files)."""
        merged = {**cls.get_default_config(), **config}
        return (
            negatives_files(merged.get("complaints") or [], ComplaintDataError, "ComplaintArbiter"),
            catalog_path(merged),
            negatives_files(merged.get("negatives") or [], ComplaintDataError, "ComplaintArbiter"),
        )

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        """The data files' contents (they are not part of Rasa's training data)
        and how texts are read (hotline_gate.reading_fingerprint)."""
        digest = hashlib.sha256(reading_fingerprint().encode())
        try:
            complaints, catalog, negatives = cls.data_files(config)
            for path in [*complaints, *([catalog] if catalog else []), *negatives]:
                digest.update(path.name.encode())
                digest.update(path.read_bytes())
        except (OSError, ComplaintDataError) as error:
            return f"missing:{error}"
        return digest.hexdigest()

    # --- training ------------------------------------------------------------

    def training_sets(self, training_data: TrainingData) -> tuple[list[str], list[int]]:
        """(normalised texts, labels): 1 for the complaint intent's examples and
        the complaint descriptions, 0 for every other NLU example, the catalog's
        phrasings and the everyday sentences. A text given both labels keeps
        the first (the NLU's)."""
        labelled = LabelledTexts()
        for example in training_data.intent_examples:
            labelled.add(example.get(TEXT), int(example.get(INTENT) == self._intent))
        complaints, catalog, negatives = self.data_files(self._config)
        for path in complaints:
            for text in load_complaints(path):
                labelled.add(text, 1)
        if catalog is not None:
            for _entry, phrasings, _answer in read_catalog(catalog):
                for text in phrasings:
                    labelled.add(text, 0)
        for path in negatives:
            for text in load_negatives(path):
                labelled.add(text, 0)
        return labelled.texts, labelled.labels

    def train(self, training_data: TrainingData) -> Resource:
        texts, labels = self.training_sets(training_data)
        self._detector = fit_binary(
            self._config,
            texts,
            labels,
            ComplaintDataError,
            "ComplaintArbiter",
            "complaints",
            "other sentences",
        )
        self.persist()
        return self._resource

    def persist(self) -> None:
        import joblib

        if self._detector is None:
            return
        with self._model_storage.write_to(self._resource) as directory:
            joblib.dump(self._detector, Path(directory) / MODEL_FILE, compress=3)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> ComplaintArbiter:
        import joblib

        detector = None
        try:
            with model_storage.read_from(resource) as directory:
                detector = joblib.load(Path(directory) / MODEL_FILE)
        except (ValueError, FileNotFoundError):
            logger.warning("ComplaintArbiter: no trained detector in the model; intents unchanged")
        return cls(config, model_storage, resource, detector)

    # --- parsing --------------------------------------------------------------

    def p_complaint(self, texts: Sequence[str]) -> list[float | None]:
        """P(complaint) of each text (None without a trained detector)."""
        if self._detector is None:
            return [None] * len(texts)
        normalised = [normalise(text) for text in texts]
        return [float(p) for p in self._detector.predict_proba(normalised)[:, 1]]

    def turns_into_complaint(self, message: Message, p: float | None) -> bool:
        """Whether the message's intent, with P(complaint) ``p``, becomes a complaint."""
        if p is None:
            return False
        name = (message.get(INTENT) or {}).get("name")
        if name in self._faq_intents:
            sure = faq_confidence(message, str(self._config["faq_retrieval_intent"]))
            if (sure or 0.0) >= float(self._config["faq_sure_confidence"]):
                return p >= float(self._config["sure_faq_threshold"])
            return p >= float(self._config["faq_threshold"])
        if name in self._rejected:
            gate = message.get(GATE_KEY) or {}
            p_hotline = gate.get("p_hotline")
            if p_hotline is not None and float(p_hotline) >= float(
                self._config["rejected_hotline_min"]
            ):
                if p >= float(self._config["rejected_threshold_hotline"]):
                    return True
            return p >= float(self._config["rejected_threshold"]) and (
                p_hotline is None
                or float(p_hotline) >= float(self._config["rejected_min_p_hotline"])
            )
        if name in self._misread:
            return p >= float(self._config["misread_threshold"])
        return False

    def doubts_complaint(self, message: Message, p: float | None) -> bool:
        """DIET's complaint with P(complaint) below ``doubt_threshold`` becomes
        the FAQ the retriever is sure enough of, or out_of_scope; True when
        the parse was changed."""
        intent = message.get(INTENT) or {}
        if p is None or intent.get("name") != self._intent:
            return False
        if p >= float(self._config["doubt_threshold"]):
            return False
        faq_intent = str(self._config["faq_retrieval_intent"])
        sure = faq_confidence(message, faq_intent)
        if sure is not None and sure >= float(self._config["doubt_faq_confidence"]):
            to, confidence = faq_intent, sure
        else:
            to, confidence = OUT_OF_SCOPE, 1.0 - p
        message.set(
            DOUBT_KEY,
            {
                "to": to,
                "confidence": round(float(intent.get("confidence") or 0.0), 4),
                "p_complaint": round(p, 4),
            },
            add_to_output=True,
        )
        put_first(message, to, confidence)
        return True

    def process(self, messages: list[Message]) -> list[Message]:
        if not messages:
            return messages
        chances = self.p_complaint([message.get(TEXT) or "" for message in messages])
        for message, p in zip(messages, chances, strict=True):
            message.set(
                COMPLAINT_KEY, {"p": None if p is None else round(p, 4)}, add_to_output=True
            )
            if self.doubts_complaint(message, p):
                continue
            if not self.turns_into_complaint(message, p):
                continue
            intent = message.get(INTENT) or {}
            message.set(
                ARBITER_KEY,
                {
                    "from": intent.get("name"),
                    "confidence": round(float(intent.get("confidence") or 0.0), 4),
                    "p_complaint": round(float(p or 0.0), 4),
                },
                add_to_output=True,
            )
            put_first(message, self._intent, float(p or 0.0))
        return messages
