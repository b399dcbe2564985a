"""Messages that ask two things at once (``eval/<set>/mixed.yml``, issue 18).

A mixed set is a YAML mapping with one key, ``mixed``: a list of messages, each
with its ``text`` and its ``labels``, every answer that is acceptable (at least
two: ``faq/<id>`` for an FAQ, or a conversational intent such as ``complain``)::

    mixed:
      - text: 社保断交有啥影响 还有公积金咋提
        labels: [faq/si_interruption_impact, faq/hpf_withdrawal_conditions]

A message counts as right when the assistant's top answer (the intent after the
fallback, ``faq/<id>`` for an FAQ) is one of its labels (``mixed_report``).

Plain Python and PyYAML only: eval/check_sets.py and scripts/evaluate.py run it in
Rasa's environment, and its tests (hotline_rasa/tests/test_mixed_report.py) need
no model.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

MIXED_FILE = "mixed.yml"
MIN_LABELS = 2


class MixedSetError(ValueError):
    """A mixed set that cannot be used, with the message (1-based) at fault."""


@dataclass(frozen=True)
class MixedMessage:
    text: str
    labels: tuple[str, ...]


def parse_mixed(data: Any, source: str = MIXED_FILE) -> list[MixedMessage]:
    """The messages of a loaded mixed set; MixedSetError names the first bad one."""
    if not isinstance(data, dict) or set(data) != {"mixed"}:
        raise MixedSetError(f"{source}: expected a mapping with the single key 'mixed'")
    items = data["mixed"]
    if not isinstance(items, list) or not items:
        raise MixedSetError(f"{source}: 'mixed' must be a non-empty list of messages")
    messages = []
    for number, item in enumerate(items, start=1):
        where = f"{source}: message {number}"
        if not isinstance(item, dict) or set(item) != {"text", "labels"}:
            raise MixedSetError(f"{where}: expected exactly the keys 'text' and 'labels'")
        text, labels = item["text"], item["labels"]
        if not isinstance(text, str) or not text.strip():
            raise MixedSetError(f"{where}: 'text' must be a non-empty string")
        if not isinstance(labels, list) or not all(
            isinstance(label, str) and label.strip() for label in labels
        ):
            raise MixedSetError(f"{where} ({text!r}): 'labels' must be a list of strings")
        if len(set(labels)) < MIN_LABELS:
            raise MixedSetError(
                f"{where} ({text!r}): at least {MIN_LABELS} different labels, got {labels}"
            )
        if len(set(labels)) != len(labels):
            raise MixedSetError(f"{where} ({text!r}): a label is repeated in {labels}")
        messages.append(MixedMessage(text.strip(), tuple(labels)))
    return messages


def load_mixed(path: Path) -> list[MixedMessage]:
    """The messages of one mixed.yml; MixedSetError when it is malformed."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise MixedSetError(f"{path.name}: not valid YAML ({exc})") from exc
    return parse_mixed(data, path.name)


def nlu_files(folder: Path) -> list[Path]:
    """The NLU files of an evaluation set: its *.yml files but the mixed set."""
    return sorted(p for p in folder.glob("*.yml") if p.name != MIXED_FILE)


def unknown_labels(
    messages: Iterable[MixedMessage], faq_ids: Iterable[str], intents: Iterable[str]
) -> list[str]:
    """Labels that are neither faq/<a known id> nor a conversational intent."""
    known = {f"faq/{fid}" for fid in faq_ids}
    known |= {i for i in intents if i not in ("faq", "out_of_scope")}
    return [
        f"{m.text!r}: unknown label {label!r}"
        for m in messages
        for label in m.labels
        if label not in known
    ]


def answer_label(decision: str, faq_id: str | None) -> str:
    """The label of what the assistant does: ``faq/<id>`` for an FAQ answer,
    else the intent (or ``rejected``)."""
    if decision == "faq" and faq_id:
        return f"faq/{faq_id}"
    return decision


def mixed_report(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Share of messages whose answer is one of their labels. Each row has
    ``text``, ``labels`` and ``answer`` (answer_label of the decision)."""
    right = [r for r in rows if r["answer"] in r["labels"]]
    return {
        "messages": len(rows),
        "right": len(right),
        "fraction_right": round(len(right) / len(rows), 4) if rows else None,
        "rejected": sum(r["answer"] == "rejected" for r in rows),
        "wrong": [
            {"text": r["text"], "labels": list(r["labels"]), "answer": r["answer"]}
            for r in rows
            if r["answer"] not in r["labels"]
        ],
    }
