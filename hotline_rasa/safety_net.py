"""The safety net inside the NLU: a message read as chit-chat or declined that
holds words of danger becomes the ``emergency`` intent.

The dialogue answers ``emergency`` with the emergency numbers (119 / 120 /
110) and a person (data/rules.yml). The action server's own net
(actions/_runtime.py ``warn_if_danger``) puts the numbers first in the FAQ,
fallback, complaint and guide actions, but a message DIET reads as a greeting
("有人撬门" was ``greet``), thanks or goodbye is answered with a fixed
response, and no action ever sees it. This component closes that gap where
it opens: after every other intent decision (last in the NLU pipeline), when
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
"confidence": c, "words": [matched]}``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
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

from hotline_rasa.hotline_gate import PROJECT_ROOT
from hotline_rasa.intents import put_first

logger = logging.getLogger(__name__)

SAFETY_KEY = "safety_net"
PATTERN_FILE = "danger_words.json"


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


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class SafetyNet(GraphComponent, IntentClassifier):
    """Turns chit-chat or a declined message with words of danger into ``emergency``."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "emergency_intent": "emergency",
            # intents the net leaves alone: their actions put the numbers first
            # themselves (the FAQ, the complaint and the guide), an answer to a
            # form's question, a ticket's number or an edit (a past event told
            # again). Every other intent (chit-chat, yes/no, stop, a person, the
            # hotline's service, declined...) with words of danger is an emergency.
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
        }

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        words: dict[str, list[str]] | None = None,
    ) -> None:
        self._config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self._emergency = str(self._config["emergency_intent"])
        self._keep = frozenset(str(i) for i in self._config["keep_intents"]) | {self._emergency}
        self._words = words or {"danger": [], "quiet": []}
        self._patterns = compile_words(self._words)

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
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        """The word file's contents: it is not part of Rasa's training data."""
        try:
            return hashlib.sha256(cls.words_path(config).read_bytes()).hexdigest()
        except OSError as error:
            return f"missing:{error}"

    def train(self, training_data: TrainingData) -> Resource:
        self._words = load_fragments(self.words_path(self._config))
        self._patterns = compile_words(self._words)
        self.persist()
        logger.info("SafetyNet knows %d fragments of danger words", len(self._words["danger"]))
        return self._resource

    def persist(self) -> None:
        with self._model_storage.write_to(self._resource) as directory:
            (Path(directory) / PATTERN_FILE).write_text(
                json.dumps(self._words, ensure_ascii=False), encoding="utf-8"
            )

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> SafetyNet:
        try:
            with model_storage.read_from(resource) as directory:
                words = json.loads((Path(directory) / PATTERN_FILE).read_text(encoding="utf-8"))
        except (ValueError, FileNotFoundError):
            # the action server's net still answers danger in its actions
            logger.warning("SafetyNet: no danger words in the model; intents unchanged")
            words = {}
        return cls(
            config,
            model_storage,
            resource,
            {key: [str(f) for f in words.get(key) or []] for key in ("danger", "quiet")},
        )

    def words(self, text: str) -> list[str]:
        """The danger words in ``text`` (empty: none, or only told about)."""
        return heard(self._patterns, text)

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            intent = message.get(INTENT) or {}
            name = intent.get("name")
            if not name or name in self._keep:
                continue
            found = self.words(message.get(TEXT) or "")
            if not found:
                continue
            put_first(message, self._emergency, 1.0)
            message.set(
                SAFETY_KEY,
                {
                    "from": name,
                    "confidence": round(float(intent.get("confidence") or 0.0), 4),
                    "words": found,
                },
                add_to_output=True,
            )
        return messages
