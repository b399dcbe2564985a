"""Is this a hotline matter at all? A binary gate after the intent classifiers.

DIET and the ResponseSelector only know the hotline's own intents, and DIET is
sure of itself (confidence ~1.0) even on a message that is no hotline matter
("明早去长沙的火车几点开" becomes ``check_ticket``); adding everyday requests
to its out-of-scope training cost FAQ accuracy (docs/experiments/
2026-12-05-everyday-out-of-scope.md). This component asks the question
separately: a small logistic regression over character n-grams and jieba
word n-grams, trained at
``rasa train`` time on every in-scope NLU example (positive) against the
``out_of_scope`` examples plus the everyday off-topic sentences of
``data/gate/*.yml`` (negative; those are *not* NLU training data, so DIET never
sees them).

At parse time, when the intent chosen so far is one the gate watches (an FAQ, a
form-starting or other topical intent; not a greeting, a yes/no or an answer
inside a form) and P(hotline matter) is below ``threshold``, the intent becomes
``out_of_scope`` (confidence 1 - P), put first in the ranking; otherwise the
message is left alone. Every message gets ``hotline_gate`` in the parse result:
``{"p_hotline": P, "rejected": bool}`` (and ``"reason": "faq_unsupported"``
when the FAQ check below rejected it).

The gate also accepts: when DIET says ``out_of_scope`` for a message the gate
is sure is a hotline matter (P >= ``accept_threshold``) and the FAQ retriever
is sure of its entry (>= ``accept_faq_confidence``), the intent becomes
``faq`` with the retriever's confidence and the parse carries ``"accepted":
"faq_sure"``. DIET's out_of_scope examples pull in short citizen questions
about the newer entries ("特困供养是啥", "gjj贷款额度上限", "晚上想出去摆地摊
哪里可以摆": DIET out_of_scope 1.0, P 0.76-0.84, the retriever 0.87-0.999 for
the right entry); on the tuning sets no off-topic sentence was near both
figures (the nearest, "鲸鱼是鱼吗", P 0.78 and 0.71). 0.75 / 0.85 were chosen
on eval/heldout, eval/citizen_dev, eval/inscope_probe, eval/offtopic_dev and
eval/offtopic_probe (docs/experiments/2026-12-06-service-or-faq.md).

An FAQ question with typos, Cantonese or words near everyday life ("我外国朋友
签证下周到期 还能延吗", "租房提公基金 一次最多提多少", "年终奖发咗3万 个税点计")
gets a low P(hotline) (0.05-0.45) although DIET calls it ``faq`` and the
retriever is all but certain of its entry (>= 0.99). Such an FAQ
(``certain_faq_confidence``) is rejected only below ``certain_faq_threshold``.
At 0.99 / 0.15 the tuning sets (eval/heldout, eval/citizen_dev,
eval/citizen_dev2, eval/inscope_probe, the four off-topic sets; 2026-12-07)
kept 7 FAQ questions and passed no other sentence; at 0.98 / 0.15 three
off-topic ones passed too ("直播间买的东西真的比店里便宜吗", "日本签证好办吗").

An FAQ answer is a stronger claim than starting a form (the citizen gets a
policy answer, not a question back), so an ``faq`` intent must also pass an
FAQ check: when P(hotline) is below ``faq_threshold`` *and* the FAQ retriever
(hotline_rasa/faq_retriever.py) is unsure of its entry (top confidence below
``faq_sure_confidence``), the message becomes ``out_of_scope`` too. Two weak
pieces of evidence do not make an answer: DIET calls almost any everyday
question ``faq`` with confidence ~1.0, so on eval/offtopic_dev and eval/heldout
every off-topic FAQ answer was DIET's ``faq`` that the gate half believed
(P 0.54-0.58) with an entry the retriever barely preferred (0.13-0.22:
"圆通的电话是多少", "直播间买的东西能退吗", "蛋糕用电饭煲能不能做"), while no
in-scope FAQ question of heldout was answered with P below 0.7 and a confidence
below 0.5 (faq_threshold 0.7 and faq_sure_confidence 0.5 were chosen there and
on a probe set of everyday questions sharing the hotline's words, branch
i-offtopic). A message without the retriever's output is left to the threshold
above.

Some intents are requests of the hotline's own kind, and their words say so
(``required_words``): a complaint about the hotline's service names the
hotline (你们, 12345, 热线, 接线员, 客服...), a ticket query names a ticket, a
report or its progress (单, 进度, 投诉, 之前...). DIET read "裁判那个判罚球迷
都在投诉，你觉得是点球吗" as ``record_service_complaint`` and "一个月减10斤有啥
办法" as ``check_ticket``, and the gate half believed them. A message of such an
intent holding none of its words is read as DIET's ``out_of_scope``
(confidence 1) with ``"reason": "words_missing"``, before the gate's other
rules: the acceptance above may still answer it as an FAQ the gate and the
retriever are sure of ("查一下我有冇违章", read as ``check_ticket`` by one
seed's DIET, is the traffic-violation FAQ at 0.998). The words are looked for in the NFKC text
with Cantonese words in Mandarin (``plain_reading``), digits kept.

In config.yml, after the FallbackClassifier::

    - name: hotline_rasa.hotline_gate.HotlineGate
      threshold: 0.45

The model is persisted with Rasa's model (a few hundred KB, joblib) and its
training is fingerprinted with the negatives files' contents as well, so
Rasa's cache retrains it when they change.
"""

from __future__ import annotations

import glob
import hashlib
import logging
import re
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.constants import RESPONSE_SELECTOR_PREDICTION_KEY, RESPONSE_SELECTOR_PROPERTY_NAME
from rasa.shared.nlu.constants import INTENT, INTENT_RESPONSE_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from hotline_rasa import cantonese
from hotline_rasa.cantonese import to_mandarin
from hotline_rasa.intents import put_first

logger = logging.getLogger(__name__)

OUT_OF_SCOPE = "out_of_scope"
GATE_KEY = "hotline_gate"
#: ``hotline_gate.reason`` of a message the FAQ check rejected.
FAQ_UNSUPPORTED = "faq_unsupported"
#: ``hotline_gate.reason`` of a message that holds none of its intent's words.
WORDS_MISSING = "words_missing"
#: ``hotline_gate.accepted`` of DIET's out_of_scope the gate turned into the FAQ.
FAQ_SURE = "faq_sure"
MODEL_FILE = "hotline_gate.joblib"
#: The Cantonese word table the model was trained with (hotline_rasa/cantonese.py).
CANTONESE_MODEL_FILE = "cantonese.yml"
#: The persisted layout; part of the fingerprint (Rasa's cache does not key on
#: code): 2 keeps the Cantonese table beside the gate.
LAYOUT = 2
NEGATIVES_KEY = "off_topic"

#: Intents the gate never overrides: chit-chat (already a fine answer to an
#: off-topic message), short answers inside a form (yes, no, stop, skip, a
#: phone number, a rating at the end), the rejections themselves, and
#: emergencies (never turned away on a guess).
DEFAULT_EXEMPT = [
    "greet",
    "goodbye",
    "thank",
    "ask_identity",
    "affirm",
    "deny",
    "stop",
    "skip",
    "go_back",
    "inform",
    "emergency",
    "rate",
    OUT_OF_SCOPE,
    "nlu_fallback",
]


class GateDataError(ValueError):
    """A negatives file is missing or not in the expected shape."""


_SPACE = re.compile(r"\s+")
_DIGIT = re.compile(r"\d")


#: Pinyin initials citizens type for the hotline's commonest words ("gjj余额
#: 在哪看", "sfz掉了"), each unambiguous in a hotline message (sb, hk are not:
#: an insult, Hong Kong). Read only as a whole run of Latin letters.
PINYIN_INITIALS = {
    "gjj": "公积金",
    "sfz": "身份证",
    "jzz": "居住证",
    "sbk": "社保卡",
    "ybk": "医保卡",
    "hkb": "户口本",
    "jsz": "驾驶证",
    "yyzz": "营业执照",
}
_INITIALS = re.compile(
    r"(?<![a-z])(" + "|".join(PINYIN_INITIALS) + r")(?![a-z])", re.IGNORECASE
)


def read_initials(text: str) -> str:
    """``text`` with the pinyin initials of ``PINYIN_INITIALS`` as their words."""
    return _INITIALS.sub(lambda match: PINYIN_INITIALS[match.group(1).lower()], text)


def normalise(text: str) -> str:
    """NFKC, Cantonese words in Mandarin (``cantonese.to_mandarin``), lower
    case, pinyin initials as their words (``PINYIN_INITIALS``), no
    whitespace, every digit 0 (a sum and a ticket number differ by their
    words, not by which digits they hold)."""
    text = read_initials(to_mandarin(unicodedata.normalize("NFKC", text or ""))).lower()
    return _DIGIT.sub("0", _SPACE.sub("", text))


def reading_fingerprint() -> str:
    """How texts are read before a classifier sees them: the Cantonese word
    table (data/language/cantonese.yml) and the code of ``to_mandarin`` and
    ``normalise``. Every component that trains on ``normalise``d or
    ``to_mandarin``ed texts puts it in its ``fingerprint_addon``, so Rasa's
    training cache retrains it when the reading changes (without it a cached
    component kept the old reading while messages were read the new way)."""
    digest = hashlib.sha256()
    for path in (cantonese.CANTONESE_FILE, Path(cantonese.__file__), Path(__file__)):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def use_the_models_table(table: str | None) -> None:
    """Read messages with the Cantonese table a model was trained with (its
    YAML ``table``, kept by ``HotlineGate.persist``), whatever the image's
    data/language/cantonese.yml now says. A model without one (trained before
    the table travelled with it) is read with the image's table, with a
    warning; a malformed one stops the load (``CantoneseTableError`` names the
    entry)."""
    if table is None:
        logger.warning(
            "HotlineGate: the model keeps no Cantonese table (trained before it travelled "
            "with the model); messages are read with the image's %s",
            cantonese.CANTONESE_FILE,
        )
        cantonese.use(cantonese.IMAGE_WORDS)  # not a model loaded before it
        return
    words = cantonese.read_cantonese(table, f"the model's {CANTONESE_MODEL_FILE}")
    if words.text != cantonese.IMAGE_WORDS.text:
        logger.warning(
            "HotlineGate: the model was trained with another Cantonese table than the "
            "image's %s; messages are read with the model's, as its classifiers learnt them",
            cantonese.CANTONESE_FILE,
        )
    cantonese.use(words)


def read_yaml(path: Path, error: type[Exception], what: str) -> Any:
    """``path``'s YAML; ``error`` naming the file when it is missing (``what``
    says whose file it is) or not valid YAML (the gate's negatives, the safety
    net's detector data and the FAQ retriever's catalog are read so)."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise error(f"{path}: no such file ({what})") from exc
    except yaml.YAMLError as exc:
        raise error(f"{path}: not valid YAML: {exc}") from exc


def example_lines(entry: Any, where: str, name_key: str, error: type[Exception]) -> list[str]:
    """The sentences of one ``{<name_key>, examples: "- text" lines}`` entry;
    ``error`` naming ``where`` (file and entry) when it is not so."""
    if not isinstance(entry, dict) or not isinstance(entry.get("examples"), str):
        raise error(f"{where} needs '{name_key}' and 'examples: |'")
    sentences: list[str] = []
    for line in entry["examples"].splitlines():
        line = line.strip()
        if not line:
            continue
        if not line.startswith("- ") or not line[2:].strip():
            raise error(f"{where} ({entry.get(name_key)}): line {line!r} is not '- text'")
        sentences.append(line[2:].strip())
    return sentences


def load_negatives(path: Path) -> list[str]:
    """The sentences of one negatives file::

        off_topic:
          - domain: 火车出行
            examples: |
              - 明早去长沙的火车几点开

    Raises GateDataError naming the file and the entry when it is not so.
    """
    data = read_yaml(path, GateDataError, "HotlineGate negatives")
    if not isinstance(data, dict) or not isinstance(data.get(NEGATIVES_KEY), list):
        raise GateDataError(f"{path}: expected a top-level '{NEGATIVES_KEY}:' list of domains")
    sentences: list[str] = []
    for index, entry in enumerate(data[NEGATIVES_KEY], 1):
        sentences += example_lines(entry, f"{path}: entry {index}", "domain", GateDataError)
    return sentences


#: Relative negatives patterns are resolved against the project (hotline_rasa's
#: parent directory), wherever ``rasa train`` runs.
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def negatives_files(
    patterns: Iterable[str],
    error: type[Exception] = GateDataError,
    owner: str = "HotlineGate negatives",
) -> list[Path]:
    """The files matched by ``patterns`` (globs; relative ones from the project
    root), sorted; ``error`` naming ``owner`` when one matches none (the gate's,
    the safety net's and the complaint arbiter's data files are found so)."""
    files: list[Path] = []
    for pattern in patterns:
        full = pattern if Path(pattern).is_absolute() else str(PROJECT_ROOT / pattern)
        matched = [Path(p) for p in sorted(glob.glob(full)) if Path(p).is_file()]
        if not matched:
            raise error(f"{owner}: {pattern!r} matches no file")
        files += matched
    return files


def jieba_words(text: str) -> list[str]:
    """Words of ``text`` as jieba cuts them (the pipeline's tokenizer)."""
    import jieba

    return [word for word in jieba.lcut(text) if word.strip()]


def pinyin_syllables(text: str) -> list[str]:
    """The toneless pinyin of ``text``'s Chinese characters, one syllable per
    character; other runs (digits, Latin letters) kept as they are.

    Citizens type with pinyin input methods and voice input, whose slips are
    homophones (社宝 for 社保, 公基金 for 公积金, 居住症 for 居住证): the
    characters differ, the syllables do not. pypinyin's own dictionary ships in
    the package (nothing is downloaded)."""
    from pypinyin import lazy_pinyin

    return [part for syllable in lazy_pinyin(text) for part in syllable.split()]


def _token_tfidf(tokenizer: Any, ngram_range: list[int]) -> Any:
    """TF-IDF n-grams of the tokens ``tokenizer`` gives (jieba words, pinyin syllables)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    low, high = ngram_range
    return TfidfVectorizer(
        analyzer="word",
        tokenizer=tokenizer,
        token_pattern=None,
        lowercase=False,
        ngram_range=(int(low), int(high)),
        sublinear_tf=True,
        dtype=_float32(),
    )


def build_features(config: dict[str, Any]) -> Any:
    """The unfitted feature union (the gate's and the FAQ retriever's): TF-IDF
    character n-grams (``ngram_range``, ``min_df`` when given), unless
    ``word_ngram_range`` is null jieba word n-grams, and when
    ``pinyin_ngram_range`` is given n-grams of pinyin syllables
    (``pinyin_syllables``)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_union

    low, high = config["ngram_range"]
    features: list[Any] = [
        TfidfVectorizer(
            analyzer="char",
            ngram_range=(int(low), int(high)),
            min_df=int(config.get("min_df", 1)),
            sublinear_tf=True,
            dtype=_float32(),
        )
    ]
    if config.get("word_ngram_range"):
        features.append(_token_tfidf(jieba_words, config["word_ngram_range"]))
    if config.get("pinyin_ngram_range"):
        features.append(_token_tfidf(pinyin_syllables, config["pinyin_ngram_range"]))
    return make_union(*features)


def fit_binary(
    config: dict[str, Any],
    texts: list[str],
    labels: list[int],
    error: type[Exception],
    what: str,
    ones: str,
    zeros: str,
) -> Any:
    """``build_classifier(config)`` fitted on normalised ``texts`` with 0/1
    ``labels``, without the vectorizers' ``stop_words_`` (the gate, the safety
    net's detector and the complaint arbiter train so). ``error`` naming
    ``what`` when a label has no text (``ones``/``zeros`` say what they are)."""
    positives = sum(labels)
    if len(set(labels)) < 2:
        raise error(
            f"{what} needs {ones} and {zeros} to train "
            f"(got {positives} {ones}, {len(labels) - positives} {zeros})"
        )
    model = build_classifier(config)
    model.fit(texts, labels)
    drop_stop_words(model)
    logger.info(
        "%s trained on %d %s and %d %s", what, positives, ones, len(labels) - positives, zeros
    )
    return model


class LabelledTexts:
    """Training texts, normalised (``normalise``), with 0/1 labels; each text
    once, with the first label it was given (``per_label``: once per label)."""

    def __init__(self, per_label: bool = False) -> None:
        self.texts: list[str] = []
        self.labels: list[int] = []
        self._per_label = per_label
        self._seen: set[tuple[str, int]] = set()

    def add(self, text: str | None, label: int) -> None:
        key = normalise(text or "")
        seen = (key, label if self._per_label else 0)
        if key and seen not in self._seen:
            self._seen.add(seen)
            self.texts.append(key)
            self.labels.append(label)


def drop_stop_words(estimator: Any) -> Any:
    """``estimator`` (a pipeline, a feature union or a vectorizer) without the
    TF-IDF vectorizers' ``stop_words_``: the n-grams ``min_df`` left out, kept
    by scikit-learn for introspection only, which it documents as safe to set
    to None before pickling. They were a quarter of the gate's and the safety
    net's files (45,827 and 55,573 character n-grams); the vectors are the same."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    steps = getattr(estimator, "steps", None) or getattr(estimator, "transformer_list", None)
    for _, part in steps or []:
        drop_stop_words(part)
    if isinstance(estimator, TfidfVectorizer) and hasattr(estimator, "stop_words_"):
        estimator.stop_words_ = None
    return estimator


def build_classifier(config: dict[str, Any]) -> Any:
    """The unfitted scikit-learn pipeline: ``build_features`` + logistic regression."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    return make_pipeline(
        build_features(config),
        LogisticRegression(
            C=float(config["C"]), class_weight="balanced", max_iter=5000, solver="liblinear"
        ),
    )


def _float32() -> Any:
    import numpy as np

    return np.float32


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class HotlineGate(GraphComponent, IntentClassifier):
    """Turns a topical intent into ``out_of_scope`` when the message is no hotline matter."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            # P(hotline matter) below this rejects a watched intent.
            "threshold": 0.5,
            # The FAQ check: an intent ``faq_intent`` is rejected when
            # P(hotline matter) < faq_threshold and the FAQ retriever's top
            # confidence < faq_sure_confidence (faq_threshold 0: no FAQ check).
            "faq_intent": "faq",
            "faq_threshold": 0.7,
            "faq_sure_confidence": 0.5,
            # The other way: DIET's ``out_of_scope`` for a message the gate is
            # sure is a hotline matter (P >= accept_threshold) whose entry the
            # FAQ retriever is sure of (>= accept_faq_confidence) becomes
            # ``faq_intent`` (accept_threshold above 1: never).
            "accept_threshold": 1.1,
            "accept_faq_confidence": 0.85,
            # An FAQ whose entry the retriever is all but certain of (>=
            # certain_faq_confidence) is rejected only below
            # certain_faq_threshold (certain_faq_confidence above 1: never).
            "certain_faq_confidence": 1.1,
            "certain_faq_threshold": 0.5,
            # {intent: regular expression}: a message of that intent holding
            # none of the expression's words (read by ``plain_reading``) is no
            # such request; it is read on as DIET's out_of_scope ({}: none).
            "required_words": {},
            # Off-topic sentences (globs, relative to the project root).
            "negatives": ["data/gate/*.yml"],
            # Intents never overridden (see DEFAULT_EXEMPT).
            "exempt_intents": list(DEFAULT_EXEMPT),
            "ngram_range": [1, 3],
            "min_df": 2,
            # jieba word n-grams too (null: characters only).
            "word_ngram_range": [1, 2],
            "C": 10.0,
        }

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: Any = None,
    ) -> None:
        self._config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self._model = model
        self._exempt = frozenset(self._config["exempt_intents"] or [])
        threshold = float(self._config["threshold"])
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"HotlineGate threshold {threshold} is not between 0 and 1")
        self._threshold = threshold
        self._faq_intent = str(self._config["faq_intent"])
        self._faq_threshold = float(self._config["faq_threshold"])
        self._faq_sure = float(self._config["faq_sure_confidence"])
        self._accept = float(self._config["accept_threshold"])
        self._accept_sure = float(self._config["accept_faq_confidence"])
        self._certain = float(self._config["certain_faq_confidence"])
        self._certain_threshold = float(self._config["certain_faq_threshold"])
        self._required = required_words(self._config["required_words"], self._exempt)
        for key in (
            "faq_threshold",
            "faq_sure_confidence",
            "accept_faq_confidence",
            "certain_faq_threshold",
        ):
            value = float(self._config[key])
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"HotlineGate {key} {value} is not between 0 and 1")

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> HotlineGate:
        return cls(config, model_storage, resource)

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        """The negatives files' contents (they are not part of Rasa's training
        data) and how texts are read (``reading_fingerprint``)."""
        digest = hashlib.sha256(f"layout:{LAYOUT}:{reading_fingerprint()}".encode())
        patterns = config.get("negatives", cls.get_default_config()["negatives"])
        try:
            files = negatives_files(patterns)
        except GateDataError as error:
            return f"missing:{error}"
        for path in files:
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
        return digest.hexdigest()

    # --- training ------------------------------------------------------------

    def training_sets(self, training_data: TrainingData) -> tuple[list[str], list[int]]:
        """(texts, labels): 1 for in-scope examples, 0 for out_of_scope and negatives."""
        labelled = LabelledTexts(per_label=True)
        for example in training_data.intent_examples:
            intent = example.get(INTENT)
            labelled.add(example.get(TEXT), 0 if intent == OUT_OF_SCOPE else 1)
        for path in negatives_files(self._config["negatives"]):
            for sentence in load_negatives(path):
                labelled.add(sentence, 0)
        return labelled.texts, labelled.labels

    def train(self, training_data: TrainingData) -> Resource:
        texts, labels = self.training_sets(training_data)
        self._model = fit_binary(
            self._config,
            texts,
            labels,
            GateDataError,
            "HotlineGate",
            "in-scope sentences",
            "off-topic sentences",
        )
        self.persist()
        return self._resource

    def persist(self) -> None:
        import joblib

        with self._model_storage.write_to(self._resource) as directory:
            joblib.dump(self._model, Path(directory) / MODEL_FILE, compress=3)
            # the table every component was trained with travels in the model
            (Path(directory) / CANTONESE_MODEL_FILE).write_text(
                cantonese.WORDS.text, encoding="utf-8"
            )

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> HotlineGate:
        import joblib

        table: str | None = None
        try:
            with model_storage.read_from(resource) as directory:
                model = joblib.load(Path(directory) / MODEL_FILE)
                if (path := Path(directory) / CANTONESE_MODEL_FILE).is_file():
                    table = path.read_text(encoding="utf-8")
        except (ValueError, FileNotFoundError):
            logger.warning("HotlineGate: no trained gate in the model; messages pass unchanged")
            model = None
        use_the_models_table(table)
        return cls(config, model_storage, resource, model)

    # --- parsing --------------------------------------------------------------

    def p_hotline(self, texts: Sequence[str]) -> list[float]:
        """P(hotline matter) of each text (1.0 for all when untrained)."""
        if self._model is None:
            return [1.0] * len(texts)
        normalised = [normalise(t) for t in texts]
        return [float(p) for p in self._model.predict_proba(normalised)[:, 1]]

    def process(self, messages: list[Message]) -> list[Message]:
        if not messages:
            return messages
        probabilities = self.p_hotline([m.get(TEXT) or "" for m in messages])
        for message, p in zip(messages, probabilities, strict=True):
            intent = message.get(INTENT) or {}
            name = intent.get("name")
            words_missing = (
                self._model is not None
                and name in self._required
                and self._required[name].search(plain_reading(message.get(TEXT) or "")) is None
            )
            if words_missing:
                # not this request: read on as DIET's out_of_scope, which the
                # acceptance below still answers as an FAQ it is sure of
                put_first(message, OUT_OF_SCOPE, 1.0)
                name = OUT_OF_SCOPE
            watched = self._model is not None and name is not None and name not in self._exempt
            confidence = faq_confidence(message, self._faq_intent)
            threshold = rejection_threshold(
                name,
                confidence,
                self._threshold,
                self._certain,
                self._certain_threshold,
                self._faq_intent,
            )
            rejected = watched and p < threshold
            unsupported = (
                watched
                and not rejected
                and unsure_faq(
                    name, p, confidence, self._faq_threshold, self._faq_sure, self._faq_intent
                )
            )
            accepted = self._model is not None and sure_faq(
                name, p, confidence, self._accept, self._accept_sure
            )
            if accepted:
                put_first(message, self._faq_intent, confidence or 0.0)
            if rejected or unsupported:
                put_first(message, OUT_OF_SCOPE, 1.0 - p)
            verdict: dict[str, Any] = {
                "p_hotline": round(p, 4),
                "rejected": bool(rejected or unsupported or (words_missing and not accepted)),
            }
            if unsupported:
                verdict["reason"] = FAQ_UNSUPPORTED
            if words_missing:
                verdict["reason"] = WORDS_MISSING
            if accepted:
                verdict["accepted"] = FAQ_SURE
            message.set(GATE_KEY, verdict, add_to_output=True)
        return messages


def plain_reading(text: str) -> str:
    """The text the required words are looked for in: NFKC, Cantonese words
    in Mandarin, lower case; digits and spaces kept ("12345" is the hotline,
    a ticket number is six digits or more)."""
    return to_mandarin(unicodedata.normalize("NFKC", text or "")).lower()


def required_words(config: Any, exempt: frozenset[str]) -> dict[str, re.Pattern[str]]:
    """``required_words`` compiled; a clear ValueError for a bad setting."""
    if not isinstance(config, dict):
        raise ValueError(
            f"HotlineGate required_words must map intents to expressions, not {config!r}"
        )
    compiled: dict[str, re.Pattern[str]] = {}
    for intent, pattern in config.items():
        if intent in exempt:
            raise ValueError(f"HotlineGate required_words: {intent} is exempt from the gate")
        if not isinstance(pattern, str) or not pattern.strip():
            raise ValueError(f"HotlineGate required_words: {intent} needs a non-empty expression")
        try:
            compiled[str(intent)] = re.compile(pattern)
        except re.error as error:
            raise ValueError(f"HotlineGate required_words: {intent}: {error}") from error
    return compiled


def rejection_threshold(
    intent: str | None,
    confidence: float | None,
    threshold: float,
    certain: float,
    certain_threshold: float,
    faq_intent: str = "faq",
) -> float:
    """P(hotline) below which the gate rejects the intent (also replayed by
    scripts/tune_hotline_gate.py): ``threshold``, or the lower
    ``certain_threshold`` for an FAQ whose entry the retriever gives at least
    ``certain``."""
    if intent == faq_intent and confidence is not None and confidence >= certain:
        return min(threshold, certain_threshold)
    return threshold


def unsure_faq(
    intent: str | None,
    p_hotline: float,
    confidence: float | None,
    faq_threshold: float,
    faq_sure: float,
    faq_intent: str = "faq",
) -> bool:
    """The FAQ check's rule (also replayed by scripts/tune_hotline_gate.py):
    an FAQ the gate half believes whose entry the retriever is unsure of; a
    parse without the retriever's confidence is not judged by it."""
    return (
        intent == faq_intent
        and p_hotline < faq_threshold
        and confidence is not None
        and confidence < faq_sure
    )


def sure_faq(
    intent: str | None,
    p_hotline: float,
    confidence: float | None,
    accept_threshold: float,
    accept_sure: float,
) -> bool:
    """The acceptance rule (also replayed by scripts/tune_hotline_gate.py):
    DIET's ``out_of_scope`` for a message the gate is sure is a hotline matter
    whose FAQ entry the retriever is sure of."""
    return (
        intent == OUT_OF_SCOPE
        and p_hotline >= accept_threshold
        and confidence is not None
        and confidence >= accept_sure
    )


def faq_confidence(message: Message, intent: str = "faq") -> float | None:
    """The FAQ retriever's confidence in its top entry (``response_selector``,
    hotline_rasa/faq_retriever.py), or None when the parse has none."""
    selector = (message.get(RESPONSE_SELECTOR_PROPERTY_NAME) or {}).get(intent) or {}
    response = selector.get(RESPONSE_SELECTOR_PREDICTION_KEY)
    if not isinstance(response, dict) or response.get(PREDICTED_CONFIDENCE_KEY) is None:
        return None
    return float(response[PREDICTED_CONFIDENCE_KEY])


def faq_entry(message: Message, intent: str = "faq") -> str | None:
    """The FAQ retriever's top entry (``faq/<id>`` -> ``<id>``), or None."""
    selector = (message.get(RESPONSE_SELECTOR_PROPERTY_NAME) or {}).get(intent) or {}
    response = selector.get(RESPONSE_SELECTOR_PREDICTION_KEY)
    key = response.get(INTENT_RESPONSE_KEY) if isinstance(response, dict) else None
    return key.split("/", 1)[1] if isinstance(key, str) and "/" in key else None
