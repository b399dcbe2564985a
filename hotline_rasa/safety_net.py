"""The safety net inside the NLU: a message read as chit-chat or declined that
holds words of danger becomes the ``emergency`` intent.

The dialogue answers ``emergency`` with the emergency numbers (119 / 120 /
110) and a person (data/rules.yml). The action server's own net
(actions/_runtime.py ``warn_if_danger``) puts the numbers first in the FAQ,
fallback, complaint and guide actions, but a message DIET reads as a greeting
("有人撬门" was ``greet``), thanks or goodbye is answered with a fixed
response, and no action ever sees it. This component closes that gap where
it opens: after every other intent decision (last in the NLU pipeline but the
complaint arbiter, which never changes an emergency), when
the intent is not one of ``keep_intents`` (chit-chat, yes/no, stop, a person,
declined...) and the text holds a fragment of data/danger_words.yml (and
none of its ``quiet`` fragments: a game, a film, a dream, the news), the
intent becomes ``emergency`` with confidence 1.0 (a rule, not a guess).

``keep_intents`` are left alone: an FAQ question, a complaint or a request of
a service with such words is answered by its action, which puts the numbers
first itself; an answer to a form's question (``inform``) is the form's; a
ticket query or an edit tells a past event again.

The word file is read when the model is trained and kept in the model (the
Rasa image holds no data/ folder); its contents are part of the component's
fingerprint. A changed parse carries ``safety_net: {"from": intent,
"confidence": c, "words": [matched], "by": "words" | "detector" | "both",
"p_danger": P}``.

The word list only hears the words it holds: on phrasings nobody tuned it on
(eval/safety/test.yml) it heard 55 of 131 emergencies. So the net also has a
**learned detector** (issue 18): a logistic regression over character, jieba
word and pinyin n-grams (the hotline gate's features,
hotline_rasa/hotline_gate.py ``build_classifier``), trained at ``rasa train``
time on the ``emergency`` NLU examples plus the ``emergency`` sentences of
``detector_data`` (data/safety/*.yml: citizen-style emergencies and hard
negatives written for it, which DIET never sees: as DIET examples they made it
call complaint descriptions and form answers emergencies) against every other
NLU example, the ``not_emergency`` sentences of those files and the everyday
sentences of ``detector_negatives`` (data/gate/*.yml). P(danger) at or above
``detector_threshold`` in a message of at least ``detector_min_chars``
characters (shorter ones are the word list's) without a ``quiet`` fragment is
an alarm, as a word of danger is; a word of danger in such a message whose P is
below ``detector_veto_below`` raises none (a calm question about a danger).
Every parse carries ``danger: {"p": P, "alarm": bool, "words": [...],
"vetoed": bool}``; the action server's net (actions/_runtime.py
``danger_alarm``) puts the numbers first on that alarm in the FAQ, fallback,
complaint and guide actions, which the keep-list leaves alone here.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from hotline_rasa.hotline_gate import (
    PROJECT_ROOT,
    LabelledTexts,
    example_lines,
    fit_binary,
    load_negatives,
    negatives_files,
    normalise,
    read_yaml,
    reading_fingerprint,
)
from hotline_rasa.intents import put_first

logger = logging.getLogger(__name__)

SAFETY_KEY = "safety_net"
#: Every parse: ``{"p": P(danger) or None, "alarm": bool, "words": [...] heard,
#: "vetoed": bool}`` (vetoed: words heard in a message the detector is sure is ordinary).
DANGER_KEY = "danger"
PATTERN_FILE = "danger_words.json"
DETECTOR_FILE = "danger_detector.joblib"
EMERGENCY = "emergency"
NOT_EMERGENCY = "not_emergency"


class DangerWordsError(ValueError):
    """The word file is malformed; the message names the group."""


def _fragments(path: Path, name: str, items: Any) -> list[str]:
    if not isinstance(items, list) or not items:
        raise DangerWordsError(f"{path}: group {name!r} must be a non-empty list")
    fragments = []
    for item in items:
        if not isinstance(item, str) or not item.strip():
            raise DangerWordsError(f"{path}: group {name!r} has an empty fragment")
        try:
            re.compile(item)
        except re.error as error:
            raise DangerWordsError(f"{path}: group {name!r}: {item!r}: {error}") from error
        fragments.append(item.strip())
    return fragments


def load_fragments(path: Path) -> dict[str, list[str]]:
    """``{"danger": [...], "quiet": [...]}``: the fragments of the file's
    ``groups`` in order and of its optional ``quiet`` list (the action server's
    reader, bot/danger_words.py, reads them the same way)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if data.get("version") != 1:
        raise DangerWordsError(f"{path}: version must be 1")
    groups = data.get("groups")
    if not isinstance(groups, dict) or not groups:
        raise DangerWordsError(f"{path}: 'groups' must map names to lists of fragments")
    danger = [f for name, items in groups.items() for f in _fragments(path, name, items)]
    quiet = _fragments(path, "quiet", data["quiet"]) if "quiet" in data else []
    return {"danger": danger, "quiet": quiet}


Patterns = tuple["re.Pattern[str] | None", "re.Pattern[str] | None"]


def compile_words(words: dict[str, list[str]]) -> Patterns:
    """(danger, quiet) patterns of :func:`load_fragments`' fragments, compiled
    once (None where the list is empty)."""
    danger, quiet = words.get("danger") or [], words.get("quiet") or []
    return (
        re.compile("|".join(danger)) if danger else None,
        re.compile("|".join(quiet)) if quiet else None,
    )


def heard(patterns: Patterns, text: str) -> list[str]:
    """The words of danger in ``text``; none when a ``quiet`` fragment says the
    danger is only told about (a game, a film, a dream, the news)."""
    danger, quiet = patterns
    if danger is None:
        return []
    found = [m.group(0) for m in danger.finditer(text or "")]
    if found and quiet is not None and quiet.search(text or ""):
        return []
    return found


def load_detector_data(path: Path) -> dict[str, list[str]]:
    """``{"emergency": [...], "not_emergency": [...]}`` of one detector data file::

        emergency:
          - kind: 火灾
            examples: |
              - 楼下烧起来了
        not_emergency:
          - kind: 不紧急的投诉
            examples: |
              - 消防通道被车堵了

    Not Rasa NLU data (no ``nlu:`` key: Rasa and DIET never read it). Raises
    DangerWordsError naming the file and the entry when it is not so."""
    data = read_yaml(path, DangerWordsError, "SafetyNet detector data")
    if not isinstance(data, dict) or not (set(data) & {EMERGENCY, NOT_EMERGENCY}):
        raise DangerWordsError(f"{path}: expected '{EMERGENCY}:' and/or '{NOT_EMERGENCY}:' lists")
    if "nlu" in data:
        raise DangerWordsError(f"{path}: has 'nlu:': Rasa would train DIET on it")
    result: dict[str, list[str]] = {EMERGENCY: [], NOT_EMERGENCY: []}
    for label in (EMERGENCY, NOT_EMERGENCY):
        entries = data.get(label) or []
        if not isinstance(entries, list):
            raise DangerWordsError(f"{path}: '{label}' must be a list of {{kind, examples}}")
        for index, entry in enumerate(entries, 1):
            where = f"{path}: {label} entry {index}"
            result[label] += example_lines(entry, where, "kind", DangerWordsError)
    return result


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class SafetyNet(GraphComponent, IntentClassifier):
    """Turns chit-chat or a declined message that sounds like danger into
    ``emergency``, and tells every parse whether it sounds like danger."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "emergency_intent": EMERGENCY,
            # intents the net leaves alone: their actions put the numbers first
            # themselves (the FAQ, the complaint and the guide), an answer to a
            # form's question, a ticket's number or an edit (a past event told
            # again). Every other intent (chit-chat, yes/no, stop, a person, the
            # hotline's service, declined...) that sounds like danger is an emergency.
            "keep_intents": [
                "faq",
                "complain",
                "suggest",
                "record_service_complaint",
                "request_service_guide",
                "inform",
                "check_ticket",
                "edit_complaint",
            ],  # fmt: skip
            # the word file, relative to the project
            "words": "data/danger_words.yml",
            # The learned detector: P(danger) at or above the threshold is an
            # alarm (null: no detector, the words only).
            "detector_threshold": None,
            # Messages shorter than this (normalised characters) are left to the
            # words: on 3-5 characters the n-grams are a guess ("有人么" is a
            # greeting, "想不起来了" an answer to a form), and the short
            # emergencies are the list's own ("救命", "着火了", "有人晕倒了").
            "detector_min_chars": 6,
            # A word of danger in a message the detector is sure is ordinary
            # (P below this, 6+ characters) raises no alarm: a calm question
            # about a danger ("家暴的话 离婚时法院会怎么处理", "上班路上被车撞算不算工伤").
            # null: the words alone decide.
            "detector_veto_below": None,
            # extra emergencies and hard negatives (globs; load_detector_data)
            "detector_data": ["data/safety/*.yml"],
            # everyday sentences (the hotline gate's format), negatives
            "detector_negatives": ["data/gate/*.yml"],
            "ngram_range": [1, 3],
            "min_df": 2,
            "word_ngram_range": [1, 2],
            "pinyin_ngram_range": [1, 2],
            "C": 10.0,
        }

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        words: dict[str, list[str]] | None = None,
        detector: Any = None,
    ) -> None:
        self._config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self._emergency = str(self._config["emergency_intent"])
        self._keep = frozenset(str(i) for i in self._config["keep_intents"]) | {self._emergency}
        self._words = words or {"danger": [], "quiet": []}
        self._patterns = compile_words(self._words)
        threshold = self._config["detector_threshold"]
        if threshold is not None and not 0.0 < float(threshold) <= 1.0:
            raise ValueError(f"SafetyNet detector_threshold {threshold} is not in (0, 1]")
        self._threshold = None if threshold is None else float(threshold)
        self._min_chars = int(self._config["detector_min_chars"] or 0)
        veto = self._config["detector_veto_below"]
        self._veto = None if veto is None else float(veto)
        self._detector = detector if self._threshold is not None else None

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SafetyNet:
        return cls(config, model_storage, resource)

    @classmethod
    def words_path(cls, config: dict[str, Any]) -> Path:
        path = Path(config.get("words") or cls.get_default_config()["words"])
        return path if path.is_absolute() else PROJECT_ROOT / path

    @classmethod
    def _detector_files(cls, config: dict[str, Any]) -> tuple[list[Path], list[Path]]:
        defaults = cls.get_default_config()
        data = config.get("detector_data", defaults["detector_data"]) or []
        negatives = config.get("detector_negatives", defaults["detector_negatives"]) or []
        return (
            negatives_files(data, DangerWordsError, "SafetyNet"),
            negatives_files(negatives, DangerWordsError, "SafetyNet"),
        )

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        """The word file's and the detector's data files' contents: they are
        not part of Rasa's training data), and how texts are read
        (hotline_gate.reading_fingerprint)."""
        digest = hashlib.sha256(reading_fingerprint().encode())
        try:
            digest.update(cls.words_path(config).read_bytes())
            if config.get("detector_threshold") is not None:
                data, negatives = cls._detector_files(config)
                for path in [*data, *negatives]:
                    digest.update(path.name.encode())
                    digest.update(path.read_bytes())
        except (OSError, DangerWordsError) as error:
            return f"missing:{error}"
        return digest.hexdigest()

    # --- training ------------------------------------------------------------

    def training_sets(self, training_data: TrainingData) -> tuple[list[str], list[int]]:
        """(texts, labels) of the detector: 1 for the ``emergency`` examples and
        the detector data's emergencies, 0 for every other NLU example, the
        detector data's ``not_emergency`` and the everyday negatives. A text
        given both labels keeps the first (the NLU's)."""
        labelled = LabelledTexts()
        for example in training_data.intent_examples:
            labelled.add(example.get(TEXT), int(example.get(INTENT) == self._emergency))
        data, negatives = self._detector_files(self._config)
        for path in data:
            sentences = load_detector_data(path)
            for text in sentences[EMERGENCY]:
                labelled.add(text, 1)
            for text in sentences[NOT_EMERGENCY]:
                labelled.add(text, 0)
        for path in negatives:
            for text in load_negatives(path):
                labelled.add(text, 0)
        return labelled.texts, labelled.labels

    def train(self, training_data: TrainingData) -> Resource:
        self._words = load_fragments(self.words_path(self._config))
        self._patterns = compile_words(self._words)
        if self._threshold is not None:
            texts, labels = self.training_sets(training_data)
            self._detector = fit_binary(
                self._config,
                texts,
                labels,
                DangerWordsError,
                "SafetyNet's detector",
                "emergencies",
                "other sentences",
            )
        self.persist()
        logger.info("SafetyNet knows %d fragments of danger words", len(self._words["danger"]))
        return self._resource

    def persist(self) -> None:
        import joblib

        with self._model_storage.write_to(self._resource) as directory:
            (Path(directory) / PATTERN_FILE).write_text(
                json.dumps(self._words, ensure_ascii=False), encoding="utf-8"
            )
            if self._detector is not None:
                joblib.dump(self._detector, Path(directory) / DETECTOR_FILE, compress=3)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> SafetyNet:
        import joblib

        words: dict[str, Any] = {}
        detector = None
        try:
            with model_storage.read_from(resource) as directory:
                words = json.loads((Path(directory) / PATTERN_FILE).read_text(encoding="utf-8"))
                if (Path(directory) / DETECTOR_FILE).is_file():
                    detector = joblib.load(Path(directory) / DETECTOR_FILE)
        except (ValueError, FileNotFoundError):
            # the action server's net still answers danger in its actions
            logger.warning("SafetyNet: no danger words in the model; intents unchanged")
        if detector is None and config.get("detector_threshold") is not None and words:
            logger.warning("SafetyNet: no trained detector in the model; the words only")
        return cls(
            config,
            model_storage,
            resource,
            {key: [str(f) for f in words.get(key) or []] for key in ("danger", "quiet")},
            detector,
        )

    # --- parsing --------------------------------------------------------------

    def words(self, text: str) -> list[str]:
        """The danger words in ``text`` (empty: none, or only told about)."""
        return heard(self._patterns, text)

    def quiet(self, text: str) -> bool:
        """True when a ``quiet`` fragment says the danger is only told about."""
        pattern = self._patterns[1]
        return pattern is not None and pattern.search(text or "") is not None

    def p_danger(self, texts: Sequence[str]) -> list[float | None]:
        """P(danger) of each text by the detector (None without one)."""
        return self._p_normalised([normalise(t) for t in texts])

    def _p_normalised(self, normalised: list[str]) -> list[float | None]:
        if self._detector is None:
            return [None] * len(normalised)
        return [float(p) for p in self._detector.predict_proba(normalised)[:, 1]]

    def process(self, messages: list[Message]) -> list[Message]:
        if not messages:
            return messages
        texts = [message.get(TEXT) or "" for message in messages]
        normalised = [normalise(text) for text in texts]
        chances = self._p_normalised(normalised)
        for message, text, key, p in zip(messages, texts, normalised, chances, strict=True):
            heard_words = self.words(text)
            long_enough = len(key) >= self._min_chars
            learned = (
                p is not None
                and self._threshold is not None
                and p >= self._threshold
                and long_enough
                and not self.quiet(text)
            )
            vetoed = bool(
                heard_words
                and p is not None
                and self._veto is not None
                and p < self._veto
                and long_enough
            )
            found = [] if vetoed else heard_words
            message.set(
                DANGER_KEY,
                {
                    "p": None if p is None else round(p, 4),
                    "alarm": bool(found) or learned,
                    "words": heard_words,
                    "vetoed": vetoed,
                },
                add_to_output=True,
            )
            intent = message.get(INTENT) or {}
            name = intent.get("name")
            if not name or name in self._keep or not (found or learned):
                continue
            put_first(message, self._emergency, 1.0)
            message.set(
                SAFETY_KEY,
                {
                    "from": name,
                    "confidence": round(float(intent.get("confidence") or 0.0), 4),
                    "words": found,
                    "by": "both" if found and learned else "words" if found else "detector",
                    "p_danger": None if p is None else round(p, 4),
                },
                add_to_output=True,
            )
        return messages
