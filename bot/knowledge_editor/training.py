"""Which knowledge changes the trained model does not have yet.

scripts/train.py fingerprints its inputs (config, domain, every data file)
and leaves ``models/.trained-<fingerprint>`` next to the model it trained.
The editor records the fingerprint before and after each of its changes, so:

- the current fingerprint equals the trained one: nothing awaits training;
- else, walking the changes from the newest back, the changes after the one
  whose "after" fingerprint was trained await it (if the trained fingerprint
  was some change's "before", that change and the later ones await it);
- else (the data was also changed by hand) the changes made after the model
  was trained await it, and the page says the data differs from the model.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.db.unanswered import KnowledgeChange
from bot.knowledge_editor.scripts import script


@dataclass(frozen=True)
class TrainedModel:
    fingerprint: str
    at: dt.datetime
    model: str


def project_root(knowledge_dir: Path) -> Path:
    """The project around ``<root>/data/knowledge``: what the trainer hashes."""
    return knowledge_dir.resolve().parent.parent


def in_checkout(knowledge_dir: Path) -> bool:
    """Whether ``knowledge_dir`` is a checkout's ``data/knowledge`` (``make run``,
    the tests), not a deployment's knowledge volume (``KNOWLEDGE_DIR=/knowledge``,
    docs/deploy.md), where no training data or config lies around it."""
    root = project_root(knowledge_dir)
    return (
        root / "config.yml"
    ).is_file() and knowledge_dir.resolve() == root / "data" / "knowledge"


def fingerprint(knowledge_dir: Path) -> str:
    """The training fingerprint of the checkout around ``knowledge_dir``; for a
    knowledge volume, a hash of its files (the model is trained elsewhere, from
    a checkout the edited files were exported to)."""
    if not in_checkout(knowledge_dir):
        digest = hashlib.sha256()
        for path in sorted(knowledge_dir.glob("*.yml")):
            if path.name.startswith("."):  # the editor's temporary copy, while it writes
                continue
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
        return digest.hexdigest()[:16]
    root = project_root(knowledge_dir)
    return str(script("train").inputs_hash(root / "config.yml", root))


def trained_model(models_dir: Path) -> TrainedModel | None:
    """The stamp scripts/train.py left (the newest, should there be several)."""
    stamps = sorted(models_dir.glob(".trained-*"), key=lambda p: p.stat().st_mtime)
    if not stamps:
        return None
    stamp = stamps[-1]
    at = dt.datetime.fromtimestamp(stamp.stat().st_mtime, dt.UTC)
    model = stamp.read_text(encoding="utf-8").strip()
    return TrainedModel(stamp.name.removeprefix(".trained-"), at, model)


@dataclass(frozen=True)
class TrainingState:
    current: str
    trained: TrainedModel | None
    awaiting: list[KnowledgeChange]

    @property
    def up_to_date(self) -> bool:
        return self.trained is not None and self.trained.fingerprint == self.current

    @property
    def other_changes(self) -> bool:
        """The data differs from the model beyond what the listed changes explain."""
        if self.up_to_date:
            return False
        if not self.awaiting:
            return True
        newest = self.awaiting[0]
        return newest.fingerprint_after != self.current


def awaiting_training(
    changes: Sequence[KnowledgeChange], current: str, trained: TrainedModel | None
) -> list[KnowledgeChange]:
    """The changes (newest first, as given) the trained model lacks."""
    if trained is not None and trained.fingerprint == current:
        return []
    if trained is None:
        return list(changes)
    for i, change in enumerate(changes):
        if change.fingerprint_after == trained.fingerprint:
            return list(changes[:i])
        if change.fingerprint_before == trained.fingerprint:
            return list(changes[: i + 1])
    return [c for c in changes if c.at > trained.at]


def training_state(
    changes: Sequence[KnowledgeChange], knowledge_dir: Path, models_dir: Path
) -> TrainingState:
    current = fingerprint(knowledge_dir)
    trained = trained_model(models_dir)
    return TrainingState(current, trained, awaiting_training(changes, current, trained))
