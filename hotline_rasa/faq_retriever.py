"""Which FAQ entry does a message ask about? A retrieval component over the
catalog's own phrasings, in place of Rasa's ResponseSelector.

Rasa's ResponseSelector is a second DIET network: it learns an embedding per
entry over the pipeline's (large) n-gram vocabulary, trains for minutes and
grows with the catalog. With the 316-entry sample catalog it reached 0.92
accuracy on its own training data in 80 epochs and answered 43 % of held-out
FAQ questions with the right entry (issue 18). This component answers the same
question with a linear model over TF-IDF features of the catalog's phrasings:

- character 1-3-grams (robust to typos, homophones from pinyin input and a
  word jieba splits differently) and jieba word 1-2-grams, NFKC-normalised,
  lower-cased, without whitespace, digits as 0 (``hotline_gate.normalise``);
- a one-vs-rest linear SVM (scikit-learn's ``LinearSVC``, liblinear): seconds to
  train on thousands of entries; the model is the vocabulary and one sparse
  weight row per entry, near-zero weights dropped (``prune``);
- a confidence per entry: the softmax of the SVM's decision values times
  ``scale`` (a message like no phrasing of any entry gets a flat, low top
  confidence; the answer threshold ``actions.thresholds.FAQ_MIN_CONFIDENCE``
  then declines it). A softmax over more entries is flatter, so by default
  (``scale: auto``) the scale grows with the catalog: ``scale_per_log_entry``
  x ln(entries). config.yml sets 1.17 (5.0 at the shipped 73 entries, chosen
  on eval/heldout: 6.0 kept 0.3 points more in-scope sentences and declined
  0.8 points fewer off-topic ones; eval/offtopic_dev the same at both). At 316 entries a scale of 5
  left 32 right answers of heldout below the threshold and 8 one, so a
  larger catalog wants about 1.4 (docs/experiments/2026-12-05-faq-retrieval.md).

Measured by retrieval alone (the right entry among the catalog's, FAQ sentences
of the independent sets, scripts/faq_retrieval_experiment.py): with 73 entries
heldout 0.995, final 0.986, citizen 0.962; with the 316-entry catalog 0.973,
0.952, 0.915 and eval/breadth 0.922; kNN over single phrasings 0.79-0.86,
class centroids 0.88-0.96, logistic regression as good but 70 times slower to
train (docs/experiments/2026-12-05-faq-retrieval.md).

It learns from the catalog itself (``catalog``, data/knowledge/faq.yml: each
entry's question and examples) as well as from the ``faq/<id>`` examples of the
NLU data, so the NLU data need not hold every phrasing: DIET only has to tell
an FAQ from the other intents, and scripts/build_training_data.py gives it at
most ``FAQ_PHRASINGS_FOR_DIET`` phrasings in all (every entry's question
first), which keeps its training time flat as the catalog grows. The
catalog's contents are part of the component's fingerprint, so Rasa retrains
it when the catalog changes.

The output is what ResponseSelector writes, so nothing downstream changes:
``response_selector.faq.response`` with ``intent_response_key`` (``faq/<id>``),
``confidence``, ``responses`` and ``utter_action``, and a ``ranking`` of the
best ``ranking_length`` entries. DIET still decides whether a message is an
FAQ at all (the retrieval intent ``faq`` is one of its intents).

In config.yml, where ResponseSelector was::

    - name: hotline_rasa.faq_retriever.FaqRetriever
      retrieval_intent: faq
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
from pathlib import Path
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.constants import (
    RESPONSE_SELECTOR_PREDICTION_KEY,
    RESPONSE_SELECTOR_PROPERTY_NAME,
    RESPONSE_SELECTOR_RANKING_KEY,
    RESPONSE_SELECTOR_RESPONSES_KEY,
    RESPONSE_SELECTOR_RETRIEVAL_INTENTS,
    RESPONSE_SELECTOR_UTTER_ACTION_KEY,
)
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_RESPONSE_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from hotline_rasa.hotline_gate import (
    build_features,
    drop_stop_words,
    normalise,
    read_yaml,
    reading_fingerprint,
)

logger = logging.getLogger(__name__)

MODEL_FILE = "faq_retriever.joblib"
#: The persisted Retriever's layout. Part of the component's fingerprint:
#: Rasa's training cache keys a component on its class, config and inputs, not
#: on its code, so a change of layout must change this, or a cached retriever
#: of the old layout would be put into new models.
MODEL_FORMAT = 2


class FaqRetrieverError(ValueError):
    """The training data cannot train the retriever (named in the message)."""


def catalog_path(config: dict[str, Any]) -> Path | None:
    """The configured catalog file (None when the config has none). A relative
    path is read from the working directory, as ``rasa train`` reads its
    config, domain and data (scripts/train.py trains from its ``--root``), so a
    tree trained elsewhere (make knowledge-scale) is trained on its own catalog."""
    value = config.get("catalog")
    if not value:
        return None
    return Path(str(value)).absolute()


def read_catalog(path: Path) -> list[tuple[str, list[str], str]]:
    """(id, phrasings, answer) of each entry of an FAQ catalog file (the
    schema of data/knowledge/README.md: ``entries:`` with ``id``, ``question``,
    ``examples``, ``answer``; the app's checker validates the rest). Raises
    FaqRetrieverError naming the file and the entry when it is not so."""
    data = read_yaml(path, FaqRetrieverError, "FaqRetriever catalog")
    if not isinstance(data, dict) or not isinstance(data.get("entries"), list):
        raise FaqRetrieverError(f"{path}: expected a top-level 'entries:' list")
    entries = []
    for index, entry in enumerate(data["entries"], 1):
        if not isinstance(entry, dict) or not entry.get("id") or not entry.get("question"):
            raise FaqRetrieverError(f"{path}: entry {index} needs 'id' and 'question'")
        examples = entry.get("examples") or []
        if not isinstance(examples, list):
            raise FaqRetrieverError(f"{path}: entry {entry['id']}: 'examples' is not a list")
        phrasings = [str(t).strip() for t in [entry["question"], *examples] if str(t).strip()]
        entries.append((str(entry["id"]), phrasings, str(entry.get("answer") or "")))
    return entries


def softmax(values: Any, scale: float) -> Any:
    """Row-wise softmax of ``values * scale`` (numerically stable)."""
    import numpy as np

    scaled = np.asarray(values, dtype=np.float64) * scale
    scaled -= scaled.max(axis=1, keepdims=True)
    exp = np.exp(scaled)
    return exp / exp.sum(axis=1, keepdims=True)


def prune(weights: Any, below: float) -> Any:
    """The SVM's weights as a sparse float32 matrix without those smaller
    than ``below`` in magnitude.

    Kept dense they are entries x vocabulary floats: 116 MiB at 300 entries,
    about 2.7 GB at 2,000. Most are zero or nearly so (an entry's row weighs
    the n-grams of its own phrasings and of its neighbours'): at 316 entries
    4.3 million are non-zero, 1.7 million of at least 0.003, and the model file
    is 25 MB whole against 7.7 MB pruned at 0.003, with the same top-1 entry
    on every FAQ sentence of heldout, final, citizen and breadth (0.01 lost one
    of citizen's; docs/experiments/2026-12-05-faq-retrieval.md)."""
    import numpy as np
    import scipy.sparse

    matrix = scipy.sparse.csr_matrix(weights, dtype=np.float32)
    if below > 0:
        matrix.data[np.abs(matrix.data) < below] = 0.0
        matrix.eliminate_zeros()
    return matrix


_SENTENCE_END = re.compile(r"[。；;！!？?\n]+")


def answer_rows(keys: list[str], responses: dict) -> tuple[list[str], list[str]]:
    """(sentences, keys): the sentences of each entry's answer (the text of its
    first ``utter_<key>`` response), those of at least 4 characters.

    An answer tells what its entry covers, often in words its phrasings lack:
    learned as extra rows (``answer_weight``) it helps tell neighbouring
    entries apart in messages that describe a situation. Measured by
    eval/faq_retriever_tuning.py (training on the catalog before its citizen
    phrasings, tested on the 1,580 citizen phrasings written blind later): top-1
    0.924 -> 0.937, 34 sentences right that were wrong, 14 the other way. On
    the whole pipeline it was no better (docs/experiments/
    2026-12-06-complaint-arbiter.md), so config.yml leaves it off."""
    texts: list[str] = []
    labels: list[str] = []
    for key in keys:
        answer = (responses.get(f"utter_{key}") or [{}])[0].get(TEXT) or ""
        for sentence in _SENTENCE_END.split(str(answer)):
            if len(sentence.strip()) >= 4:
                texts.append(sentence.strip())
                labels.append(key)
    return texts, labels


class Retriever:
    """The fitted model: features, the SVM's weights (features x entries,
    sparse) and intercepts, the entries' keys (``faq/<id>``) and their
    responses. Plain data, persisted with joblib.

    The weights are kept transposed, in rows by feature: a message's few
    n-grams then pick a few rows. scikit-learn's ``decision_function``
    transposes entries x features on every call: 170 ms per message at 2,000
    synthetic entries (8.9 million weights) against 0.14 ms this way."""

    def __init__(
        self, features: Any, weights: Any, intercept: Any, keys: list[str], responses: dict
    ) -> None:
        self.format = MODEL_FORMAT
        self.features = features
        self.weights = weights
        self.intercept = intercept
        self.keys = keys
        self.responses = responses

    @classmethod
    def fit(
        cls, texts: list[str], keys: list[str], responses: dict, config: dict[str, Any]
    ) -> Retriever:
        import numpy as np
        import scipy.sparse
        from sklearn.preprocessing import normalize
        from sklearn.svm import LinearSVC

        features = build_features(config)
        matrix = normalize(features.fit_transform([normalise(t) for t in texts]))
        labels = sorted(set(keys))
        if len(labels) == 1:
            # a one-entry catalog: nothing to tell apart, every FAQ is that entry
            drop_stop_words(features)
            return cls(features, None, None, labels, responses)
        weights = None
        answer_weight = float(config.get("answer_weight") or 0.0)
        if answer_weight > 0:
            # the answers' sentences as lighter rows of their entries, in the
            # phrasings' vocabulary (fitted above, so the model does not grow
            # by the answers' n-grams)
            answer_texts, answer_keys = answer_rows(labels, responses)
            if answer_texts:
                extra = normalize(features.transform([normalise(t) for t in answer_texts]))
                matrix = scipy.sparse.vstack([matrix, extra]).tocsr()
                weights = np.concatenate(
                    [np.ones(len(texts)), np.full(len(answer_texts), answer_weight)]
                )
                keys = [*keys, *answer_keys]
        drop_stop_words(features)
        classifier = LinearSVC(C=float(config["C"]), max_iter=5000, random_state=0)
        classifier.fit(matrix, keys, sample_weight=weights)
        coef, intercept = classifier.coef_, classifier.intercept_
        if coef.shape[0] == 1:  # two entries: liblinear gives one row, for the second
            coef, intercept = np.vstack([-coef, coef]), np.concatenate([-intercept, intercept])
        weights = prune(coef, float(config["prune_below"])).T.tocsr()
        return cls(
            features,
            weights,
            np.asarray(intercept, dtype=np.float32),
            [str(k) for k in classifier.classes_],
            responses,
        )

    def decision(self, texts: list[str]) -> Any:
        """(len(texts), entries) SVM decision values."""
        from sklearn.preprocessing import normalize

        matrix = normalize(self.features.transform([normalise(t) for t in texts]))
        return (matrix @ self.weights).toarray() + self.intercept

    def scores(self, texts: list[str], scale: float) -> Any:
        """(len(texts), entries) confidences, each row summing to 1."""
        import numpy as np

        if self.weights is None:
            return np.ones((len(texts), 1))
        return softmax(self.decision(texts), scale)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class FaqRetriever(GraphComponent, IntentClassifier):
    """Chooses the FAQ entry of every message (used when DIET says ``faq``)."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            # The retrieval intent whose sub-intents are the entries.
            "retrieval_intent": "faq",
            # The FAQ catalog whose phrasings it learns as well (relative to
            # the working directory of the training; null: the NLU data's
            # examples only).
            "catalog": "data/knowledge/faq.yml",
            "ngram_range": [1, 3],
            # jieba word n-grams too (null: characters only).
            "word_ngram_range": [1, 2],
            # Pinyin syllable n-grams too, so a homophone typo (社宝) still
            # meets its word (社保) (null: none). hotline_gate.pinyin_syllables.
            "pinyin_ngram_range": [1, 2],
            # The SVM's regularisation (liblinear's C).
            "C": 1.0,
            # Each entry's answer, cut into sentences, learned as rows of its
            # entry with this sample weight (0: not learned). answer_rows().
            "answer_weight": 0.0,
            # Weights smaller than this in magnitude are dropped (prune()).
            "prune_below": 0.003,
            # Softmax scale of the decision values: a number, or "auto" for
            # scale_per_log_entry x ln(entries) (tuned on eval/heldout).
            "scale": "auto",
            "scale_per_log_entry": 1.17,
            # Entries listed in the ranking.
            "ranking_length": 10,
        }

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        retriever: Retriever | None = None,
    ) -> None:
        self._config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self._retriever = retriever
        self._intent = str(self._config["retrieval_intent"])
        scale = self._config["scale"]
        per_log = float(self._config["scale_per_log_entry"])
        if scale != "auto" and (not isinstance(scale, (int, float)) or scale <= 0):
            raise ValueError(f"FaqRetriever scale {scale!r} must be 'auto' or above 0")
        if per_log <= 0:
            raise ValueError(f"FaqRetriever scale_per_log_entry {per_log} must be above 0")
        self._scale: float | None = None if scale == "auto" else float(scale)
        self._per_log = per_log

    def scale(self) -> float:
        """The softmax scale in use (``auto``: grows with the catalog)."""
        if self._scale is not None:
            return self._scale
        entries = len(self._retriever.keys) if self._retriever is not None else 2
        return self._per_log * math.log(max(entries, 2))

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> FaqRetriever:
        return cls(config, model_storage, resource)

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        """The catalog's contents: they are not all part of Rasa's training data."""
        path = catalog_path({**cls.get_default_config(), **config})
        reading = reading_fingerprint()  # how texts are read (hotline_gate)
        if path is None:
            return f"format:{MODEL_FORMAT}:{reading}"
        try:
            return (
                f"format:{MODEL_FORMAT}:{reading}:{hashlib.sha256(path.read_bytes()).hexdigest()}"
            )
        except FileNotFoundError:
            return f"format:{MODEL_FORMAT}:{reading}:missing:{path}"

    # --- training ------------------------------------------------------------

    def training_pairs(
        self, training_data: TrainingData
    ) -> tuple[list[str], list[str], dict[str, list[dict[str, Any]]]]:
        """(texts, ``faq/<id>`` keys, responses): the retrieval intent's
        examples and the catalog's phrasings, each distinct (text, key) once;
        the responses of the NLU data, or the catalog's answer."""
        texts: list[str] = []
        keys: list[str] = []
        seen: set[tuple[str, str]] = set()

        def add(text: str, key: str) -> None:
            text = text.strip()
            if text and (text, key) not in seen:
                seen.add((text, key))
                texts.append(text)
                keys.append(key)

        for example in training_data.intent_examples:
            key = example.get(INTENT_RESPONSE_KEY)
            if example.get(INTENT) == self._intent and key:
                add(example.get(TEXT) or "", str(key))
        responses = {
            key: list(value)
            for key, value in training_data.responses.items()
            if key.startswith(f"utter_{self._intent}/")
        }
        path = catalog_path(self._config)
        if path is not None:
            for entry_id, phrasings, answer in read_catalog(path):
                key = f"{self._intent}/{entry_id}"
                for text in phrasings:
                    add(text, key)
                if answer:
                    responses.setdefault(f"utter_{key}", [{TEXT: answer}])
        return texts, keys, responses

    def train(self, training_data: TrainingData) -> Resource:
        texts, keys, responses = self.training_pairs(training_data)
        if not texts:
            logger.warning(
                "FaqRetriever: no '%s/<id>' examples in the training data or the "
                "catalog; messages get no FAQ choice",
                self._intent,
            )
            self._retriever = None
        else:
            missing = sorted({k for k in keys if f"utter_{k}" not in responses})
            if missing:
                raise FaqRetrieverError(
                    "FaqRetriever: these entries have examples but no response "
                    f"(utter_<key>): {', '.join(missing[:10])}"
                )
            self._retriever = Retriever.fit(texts, keys, responses, self._config)
            logger.info(
                "FaqRetriever trained on %d phrasings of %d entries",
                len(texts),
                len(self._retriever.keys),
            )
        self.persist()
        return self._resource

    def persist(self) -> None:
        import joblib

        with self._model_storage.write_to(self._resource) as directory:
            if self._retriever is not None:
                joblib.dump(self._retriever, Path(directory) / MODEL_FILE, compress=3)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> FaqRetriever:
        import joblib

        retriever = None
        try:
            with model_storage.read_from(resource) as directory:
                path = Path(directory) / MODEL_FILE
                if path.exists():
                    retriever = joblib.load(path)
        except ValueError:
            pass
        if retriever is not None and getattr(retriever, "format", None) != MODEL_FORMAT:
            raise FaqRetrieverError(
                f"the model's FAQ retriever has layout {getattr(retriever, 'format', 1)}, "
                f"this code reads {MODEL_FORMAT}: retrain the model (make model)"
            )
        if retriever is None:
            logger.warning("FaqRetriever: no trained retriever in the model; no FAQ choice")
        return cls(config, model_storage, resource, retriever)

    # --- parsing --------------------------------------------------------------

    def process(self, messages: list[Message]) -> list[Message]:
        if not messages or self._retriever is None:
            return messages
        retriever = self._retriever
        scores = retriever.scores([m.get(TEXT) or "" for m in messages], self.scale())
        length = max(1, int(self._config["ranking_length"]))
        for message, row in zip(messages, scores, strict=True):
            order = row.argsort()[::-1][:length]
            ranking = [
                {
                    "id": _label_id(retriever.keys[i]),
                    PREDICTED_CONFIDENCE_KEY: round(float(row[i]), 4),
                    INTENT_RESPONSE_KEY: retriever.keys[i],
                }
                for i in order
            ]
            best = retriever.keys[order[0]]
            prediction = {
                RESPONSE_SELECTOR_PREDICTION_KEY: {
                    RESPONSE_SELECTOR_RESPONSES_KEY: retriever.responses.get(f"utter_{best}", []),
                    PREDICTED_CONFIDENCE_KEY: round(float(row[order[0]]), 4),
                    INTENT_RESPONSE_KEY: best,
                    RESPONSE_SELECTOR_UTTER_ACTION_KEY: f"utter_{best}",
                },
                RESPONSE_SELECTOR_RANKING_KEY: ranking,
            }
            properties = dict(message.get(RESPONSE_SELECTOR_PROPERTY_NAME) or {})
            properties[RESPONSE_SELECTOR_RETRIEVAL_INTENTS] = [self._intent]
            properties[self._intent] = prediction
            message.set(RESPONSE_SELECTOR_PROPERTY_NAME, properties, add_to_output=True)
        return messages


def _label_id(key: str) -> int:
    """A stable integer id per entry (ResponseSelector gives one per label)."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:6], "big")
