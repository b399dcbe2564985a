"""Messages asking two things at once (eval/mixed.py, issue 18): how a mixed set is
read and refused, which files of a set are NLU files, and the fraction of messages
answered with one of their labels. No model is loaded."""

from __future__ import annotations

from pathlib import Path

import pytest

from eval.mixed import (
    MIXED_FILE,
    MixedMessage,
    MixedSetError,
    answer_label,
    load_mixed,
    mixed_report,
    nlu_files,
    parse_mixed,
    unknown_labels,
)

ROOT = Path(__file__).resolve().parents[2]


def test_a_mixed_set_is_read_with_its_labels(tmp_path: Path) -> None:
    path = tmp_path / MIXED_FILE
    path.write_text(
        "mixed:\n"
        "  - text: 社保断交有啥影响 还有公积金咋提\n"
        "    labels: [faq/si_interruption_impact, faq/hpf_withdrawal_conditions]\n"
        "  - text: 楼下好吵我要投诉 再帮我转人工\n"
        "    labels: [complain, request_human]\n",
        encoding="utf-8",
    )
    assert load_mixed(path) == [
        MixedMessage(
            "社保断交有啥影响 还有公积金咋提",
            ("faq/si_interruption_impact", "faq/hpf_withdrawal_conditions"),
        ),
        MixedMessage("楼下好吵我要投诉 再帮我转人工", ("complain", "request_human")),
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([{"text": "a", "labels": ["x", "y"]}], "single key 'mixed'"),
        ({"mixed": []}, "non-empty list"),
        ({"mixed": [{"text": "a", "labels": ["x", "y"], "note": 1}]}, "message 1: expected"),
        ({"mixed": [{"text": " ", "labels": ["x", "y"]}]}, "'text' must be"),
        ({"mixed": [{"text": "a", "labels": "x"}]}, "'labels' must be a list"),
        ({"mixed": [{"text": "a", "labels": ["complain"]}]}, "at least 2 different labels"),
        (
            {"mixed": [{"text": "a", "labels": ["x", "y"]}, {"text": "b", "labels": ["x", "x"]}]},
            "message 2 ('b'): at least 2",
        ),
        ({"mixed": [{"text": "a", "labels": ["x", "y", "x"]}]}, "repeated"),
    ],
)
def test_a_malformed_mixed_set_is_refused_with_the_message_at_fault(
    data: object, message: str
) -> None:
    with pytest.raises(MixedSetError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_mixed(data)


def test_invalid_yaml_is_refused(tmp_path: Path) -> None:
    path = tmp_path / MIXED_FILE
    path.write_text("mixed: [\n", encoding="utf-8")
    with pytest.raises(MixedSetError, match="not valid YAML"):
        load_mixed(path)


def test_labels_must_be_known_faq_ids_or_conversational_intents() -> None:
    messages = [
        MixedMessage("a", ("faq/known", "complain")),
        MixedMessage("b", ("faq/unknown", "faq", "out_of_scope", "no_such_intent")),
    ]
    problems = unknown_labels(messages, ["known"], ["faq", "complain", "out_of_scope"])
    assert problems == [
        "'b': unknown label 'faq/unknown'",
        "'b': unknown label 'faq'",
        "'b': unknown label 'out_of_scope'",
        "'b': unknown label 'no_such_intent'",
    ]


def test_the_nlu_files_of_a_set_leave_out_the_mixed_set(tmp_path: Path) -> None:
    for name in ("intents.yml", MIXED_FILE, "faq.yml", "README.md"):
        (tmp_path / name).write_text("", encoding="utf-8")
    assert [p.name for p in nlu_files(tmp_path)] == ["faq.yml", "intents.yml"]


def test_the_answer_label_of_an_faq_names_its_entry() -> None:
    assert answer_label("faq", "hpf_balance_query") == "faq/hpf_balance_query"
    assert answer_label("faq", None) == "faq"
    assert answer_label("complain", "hpf_balance_query") == "complain"
    assert answer_label("rejected", None) == "rejected"


def test_a_message_is_right_when_its_answer_is_one_of_its_labels() -> None:
    labels = ("faq/a", "complain")
    report = mixed_report(
        [
            {"text": "1", "labels": labels, "answer": "faq/a"},
            {"text": "2", "labels": labels, "answer": "complain"},
            {"text": "3", "labels": labels, "answer": "faq/b"},
            {"text": "4", "labels": labels, "answer": "rejected"},
        ]
    )
    assert report["messages"] == 4
    assert report["right"] == 2
    assert report["fraction_right"] == 0.5
    assert report["rejected"] == 1
    assert [w["text"] for w in report["wrong"]] == ["3", "4"]
    assert mixed_report([])["fraction_right"] is None


def test_the_citizen_mixed_set_loads_with_known_labels() -> None:
    import yaml

    messages = load_mixed(ROOT / "eval" / "citizen" / MIXED_FILE)
    assert len(messages) >= 40
    faq = yaml.safe_load((ROOT / "data" / "knowledge" / "faq.yml").read_text(encoding="utf-8"))
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    intents = [i if isinstance(i, str) else next(iter(i)) for i in domain["intents"]]
    assert unknown_labels(messages, [e["id"] for e in faq["entries"]], intents) == []
