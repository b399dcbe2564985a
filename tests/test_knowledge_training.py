"""Which editor changes the trained model lacks (bot/knowledge_editor/training.py):
by the fingerprint chain the editor records, else by the time of the model's stamp."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from bot.db.unanswered import KnowledgeChange
from bot.knowledge_editor.training import (
    TrainedModel,
    TrainingState,
    awaiting_training,
    trained_model,
)

T0 = dt.datetime(2026, 12, 5, 2, 0, tzinfo=dt.UTC)


def change(n: int, before: str, after: str, minutes: int) -> KnowledgeChange:
    return KnowledgeChange(
        id=n, at=T0 + dt.timedelta(minutes=minutes), actor="banzhang", kind="attach",
        faq_key="si_transfer_in", file="data/knowledge/faq.yml", detail={},
        fingerprint_before=before, fingerprint_after=after,
    )  # fmt: skip


# newest first, as UnansweredRepo.changes() gives them
CHANGES = [change(3, "b", "c", 30), change(2, "a", "b", 20), change(1, "0", "a", 10)]


def model(fingerprint: str, minutes: int) -> TrainedModel:
    return TrainedModel(fingerprint, T0 + dt.timedelta(minutes=minutes), "m.tar.gz")


def test_nothing_awaits_when_the_model_has_the_current_data() -> None:
    assert awaiting_training(CHANGES, "c", model("c", 5)) == []


def test_the_changes_after_the_trained_one_await() -> None:
    assert [c.id for c in awaiting_training(CHANGES, "c", model("a", 40))] == [3, 2]
    # trained from the data before change 1 (training started before it was made)
    assert [c.id for c in awaiting_training(CHANGES, "c", model("0", 40))] == [3, 2, 1]


def test_without_a_model_everything_awaits() -> None:
    assert [c.id for c in awaiting_training(CHANGES, "c", None)] == [3, 2, 1]


def test_hand_edits_fall_back_to_the_stamps_time_and_are_flagged() -> None:
    trained = model("hand-edited", 15)
    waiting = awaiting_training(CHANGES, "d", trained)
    assert [c.id for c in waiting] == [3, 2]
    assert TrainingState("d", trained, waiting).other_changes
    assert not TrainingState("c", model("a", 40), CHANGES[:2]).other_changes


def test_the_newest_stamp_is_the_trained_model(tmp_path: Path) -> None:
    assert trained_model(tmp_path) is None
    (tmp_path / ".trained-abc").write_text("20261205-model.tar.gz\n", encoding="utf-8")
    found = trained_model(tmp_path)
    assert found is not None and (found.fingerprint, found.model) == (
        "abc", "20261205-model.tar.gz",
    )  # fmt: skip
