"""The off-topic report of `make evaluate` (eval/off_topic.py, issue 18): which
intents count as starting a form or as chit-chat, how a parse is classified, and
the shares, targets and worst examples computed from a small hand-made set of
results. No model is loaded: these check the report, not the model's quality."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from eval.off_topic import (
    CHIT_CHAT,
    FALLBACK,
    FAQ_ANSWER,
    FAQ_CONFIRM,
    FORM,
    OTHER,
    DialoguePolicy,
    OffTopicSetError,
    classify,
    dialogue_policy,
    format_report,
    load_dialogue_policy,
    load_domains,
    off_topic_report,
)

ROOT = Path(__file__).resolve().parents[2]

RULES: list[dict[str, Any]] = [
    {"rule": "hello", "steps": [{"intent": "greet"}, {"action": "utter_greet"}]},
    {"rule": "oos", "steps": [{"intent": "out_of_scope"}, {"action": "utter_out_of_scope"}]},
    {
        "rule": "order starts a form",
        "steps": [
            {"intent": "order"},
            {"action": "action_start_order"},
            {"action": "order_form"},
            {"active_loop": "order_form"},
        ],
    },
    {
        "rule": "inside the form, stop runs a custom action only",
        "condition": [{"active_loop": "order_form"}],
        "steps": [{"intent": "stop"}, {"action": "action_cancel"}, {"active_loop": None}],
    },
    {
        "rule": "choosing a size restarts the form when idle",
        "condition": [{"active_loop": None}],
        "steps": [{"intent": "choose_size"}, {"action": "order_form"}],
    },
    {
        "rule": "a canned reply inside the form is not chit-chat",
        "condition": [{"active_loop": "order_form"}],
        "steps": [{"intent": "chat_in_form"}, {"action": "utter_noted"}],
    },
    {
        "rule": "a reply after an action is not a first message",
        "steps": [{"action": "action_summary"}, {"intent": "affirm"}, {"action": "utter_ok"}],
    },
    {
        "rule": "a canned reply followed by a custom action",
        "steps": [{"intent": "sos"}, {"action": "utter_sos"}, {"action": "action_handoff"}],
    },
]
STORIES: list[dict[str, Any]] = [
    {
        "story": "inform inside a running form continues it, bye starts a new one",
        "steps": [
            {"intent": "order"},
            {"action": "order_form"},
            {"active_loop": "order_form"},
            {"intent": "inform"},
            {"action": "order_form"},
            {"active_loop": None},
            {"intent": "thank"},
            {"action": "utter_welcome"},
            {"intent": "bye"},
            {"action": "order_form"},
        ],
    },
    {
        "story": "thanks answered by a custom action somewhere",
        "steps": [{"intent": "thanks_custom"}, {"action": "action_thanks"}],
    },
]
FORMS = ["order_form"]
RESPONSES = ["utter_greet", "utter_out_of_scope", "utter_noted", "utter_ok", "utter_sos",
             "utter_welcome"]  # fmt: skip


def test_forms_and_chit_chat_are_derived_from_rules_and_stories() -> None:
    policy = dialogue_policy(RULES, STORIES, FORMS, RESPONSES)
    # order: a rule; choose_size: a rule for an idle conversation; bye: a story,
    # after the first form ended. inform only continues a form already running.
    assert dict(policy.form_intents) == {
        "order": frozenset({"order_form"}),
        "choose_size": frozenset({"order_form"}),
        "bye": frozenset({"order_form"}),
    }
    # greet: a rule that opens on it and only says a canned text. out_of_scope
    # is the fallback, not chit-chat; chat_in_form needs a form running; affirm
    # needs an action before it; sos also runs a custom action; thank is
    # answered by a canned text in a story only, not by a rule.
    assert policy.chit_chat_intents == frozenset({"greet"})


def test_a_custom_action_elsewhere_takes_an_intent_out_of_chit_chat() -> None:
    rules = [{"rule": "r", "steps": [{"intent": "thanks_custom"}, {"action": "utter_welcome"}]}]
    alone = dialogue_policy(rules, [], FORMS, RESPONSES)
    assert alone.chit_chat_intents == frozenset({"thanks_custom"})
    # the second story answers thanks_custom with action_thanks
    with_story = dialogue_policy(rules, STORIES[1:], FORMS, RESPONSES)
    assert with_story.chit_chat_intents == frozenset()


def test_an_intent_a_rule_answers_with_the_fallback_alone_is_declined() -> None:
    idle = {"condition": [{"active_loop": None}]}
    rules = [
        {"rule": "stray answer", **idle,
         "steps": [{"intent": "inform"}, {"action": "action_handle_fallback"}]},
        {"rule": "not understood",
         "steps": [{"intent": "nlu_fallback"}, {"action": "action_handle_fallback"}]},
        {"rule": "fallback then a person",
         "steps": [{"intent": "lost"}, {"action": "action_handle_fallback"},
                   {"action": "action_handoff"}]},
        {"rule": "inside a form only", "condition": [{"active_loop": "order_form"}],
         "steps": [{"intent": "size_only"}, {"action": "action_handle_fallback"}]},
    ]  # fmt: skip
    policy = dialogue_policy(rules, STORIES[:1], FORMS, RESPONSES)
    # inform also continues a running form in the story: that is no idle form start
    assert policy.fallback_intents == frozenset({"inform", "nlu_fallback"})
    assert "inform" not in policy.chit_chat_intents


def test_the_projects_files_give_its_form_intents() -> None:
    policy = load_dialogue_policy(ROOT)
    # data/rules.yml starts complaint_form, service_guide_form and ticket_status_form
    assert {"complain", "request_service_guide", "check_ticket"} <= set(policy.form_intents)
    assert policy.form_intents["complain"] == frozenset({"complaint_form"})

    assert "greet" in policy.chit_chat_intents
    # data/rules.yml: an answer with no question asked (no form running) is declined
    assert "inform" in policy.fallback_intents
    for intent in ("request_human", "emergency", "faq", "out_of_scope", "nlu_fallback"):
        assert intent not in policy.form_intents
        assert intent not in policy.chit_chat_intents


def test_rules_and_stories_of_every_file_under_data_count(tmp_path: Path) -> None:
    (tmp_path / "data" / "more").mkdir(parents=True)
    (tmp_path / "domain.yml").write_text(
        "forms:\n  order_form:\n    required_slots: [size]\nresponses:\n  utter_hi:\n"
        "    - text: 你好\n",
        encoding="utf-8",
    )
    (tmp_path / "data" / "rules.yml").write_text(
        "rules:\n- rule: hi\n  steps:\n  - intent: greet\n  - action: utter_hi\n",
        encoding="utf-8",
    )
    (tmp_path / "data" / "more" / "extra.yml").write_text(
        "stories:\n- story: s\n  steps:\n  - intent: order\n  - action: order_form\n"
        "  - active_loop: order_form\n",
        encoding="utf-8",
    )
    (tmp_path / "data" / "nlu.yml").write_text("nlu:\n- intent: greet\n", encoding="utf-8")
    policy = load_dialogue_policy(tmp_path)
    assert dict(policy.form_intents) == {"order": frozenset({"order_form"})}
    assert policy.chit_chat_intents == frozenset({"greet"})


POLICY = DialoguePolicy(
    form_intents={"complain": frozenset({"complaint_form"})},
    chit_chat_intents=frozenset({"greet"}),
    fallback_intents=frozenset({"inform"}),
)


@pytest.mark.parametrize(
    ("intent", "faq_conf", "outcome"),
    [
        ("nlu_fallback", 0.9, FALLBACK),
        ("out_of_scope", 0.0, FALLBACK),
        ("faq", 0.09, FALLBACK),  # below the answer threshold: asked to rephrase
        ("faq", 0.10, FAQ_ANSWER),  # at the threshold an answer is given
        ("complain", 0.0, FORM),
        ("greet", 0.0, CHIT_CHAT),
        ("request_human", 0.0, OTHER),
        ("inform", 0.0, FALLBACK),  # a rule answers it with the fallback action
    ],
)
def test_classify(intent: str, faq_conf: float, outcome: str) -> None:
    assert classify(intent, faq_conf, POLICY, 0.1) == outcome


@pytest.mark.parametrize(
    ("faq_conf", "outcome"),
    [
        (0.09, FALLBACK),  # below the lower threshold: asked to rephrase
        (0.10, FAQ_CONFIRM),  # between the two: the question is named, not answered
        (0.34, FAQ_CONFIRM),
        (0.35, FAQ_ANSWER),  # at the answer threshold: answered at once
    ],
)
def test_classify_with_an_answer_threshold(faq_conf: float, outcome: str) -> None:
    assert classify("faq", faq_conf, POLICY, 0.1, 0.35) == outcome


@pytest.mark.parametrize(
    ("complaint_p", "outcome"),
    [
        (None, FALLBACK),  # a parse without the complaint arbiter
        (0.89, FALLBACK),
        (0.9, FORM),  # the fallback starts the complaint (actions/faq.py)
    ],
)
def test_a_stray_answer_telling_of_a_problem_starts_a_form(
    complaint_p: float | None, outcome: str
) -> None:
    got = classify(
        "inform", 0.0, POLICY, 0.1, 0.35, complaint_p=complaint_p, complaint_from_answer=0.9
    )
    assert got == outcome
    # only a form's answer: an FAQ guess or a declined message is the NLU's to change
    assert (
        classify("out_of_scope", 0.0, POLICY, 0.1, complaint_p=0.99, complaint_from_answer=0.9)
        == FALLBACK
    )


@pytest.mark.parametrize("intent", ["inform", "edit_complaint"])
def test_a_sure_faq_read_as_an_answer_or_a_change_gets_the_faq_answer(intent: str) -> None:
    """No form running and no complaint being filled in: the dialogue answers a
    sure FAQ guess (actions/faq.py, actions/complaints.py); a problem told in
    a stray answer starts the complaint first; unsure, the old outcome."""
    sure = {"faq_sure_out_of_context": 0.9}
    assert classify(intent, 0.95, POLICY, 0.1, 0.35, **sure) == FAQ_ANSWER
    assert classify(intent, 0.95, POLICY, 0.1, 0.35) == classify(intent, 0.0, POLICY, 0.1, 0.35)
    assert classify(intent, 0.85, POLICY, 0.1, 0.35, **sure) != FAQ_ANSWER
    told = classify(
        "inform", 0.95, POLICY, 0.1, 0.35, complaint_p=0.95, complaint_from_answer=0.8, **sure
    )
    assert told == FORM


def test_a_confirmation_is_neither_handled_nor_an_answer() -> None:
    report = off_topic_report(
        [_row("d", "a", FAQ_CONFIRM, 0.9, 0.2), _row("d", "b", FALLBACK, 0.9)]
    )
    overall = report["overall"]
    assert overall["faq_confirm"] == 1 and overall["faq_answer"] == 0
    assert overall["handled"] == 1 and overall["handled_share"] == 0.5


def _row(
    domain: str, text: str, outcome: str, raw_conf: float, faq_conf: float = 0.0
) -> dict[str, Any]:
    return {
        "domain": domain,
        "text": text,
        "outcome": outcome,
        "intent": "x",
        "raw_intent": "x",
        "raw_conf": raw_conf,
        "faq_pred": None,
        "faq_conf": faq_conf,
    }


def test_shares_per_domain_and_overall_targets_and_worst_first() -> None:
    rows = (
        [_row("weather", f"w{i}", FALLBACK, 0.3) for i in range(6)]
        + [_row("weather", "w-hi", CHIT_CHAT, 0.9)]
        + [_row("weather", "w-form", FORM, 0.7)]
        + [_row("music", f"m{i}", FALLBACK, 0.2) for i in range(9)]
        + [_row("music", "m-faq", FAQ_ANSWER, 0.99, faq_conf=0.4)]
        + [_row("music", "m-other", OTHER, 0.95)]
        + [_row("music", "m-form", FORM, 0.8)]
    )
    report = off_topic_report(rows, worst=4)

    assert list(report["domains"]) == ["weather", "music"]  # order of the file
    weather, music, overall = (
        report["domains"]["weather"],
        report["domains"]["music"],
        report["overall"],
    )
    assert weather["sentences"] == 8
    assert weather["handled"] == 7 and weather["handled_share"] == 0.875
    assert weather["fallback_share"] == 0.75 and weather["chit_chat_share"] == 0.125
    assert weather["form_share"] == 0.125 and weather["faq_answer_share"] == 0.0
    assert music["sentences"] == 12
    assert music["handled_share"] == 0.75 and music["other_share"] == 0.0833
    assert music["faq_answer"] == 1 and music["form"] == 1
    assert overall["sentences"] == 20
    assert overall["handled"] == 16 and overall["handled_share"] == 0.8
    assert overall["form"] == 2 and overall["form_share"] == 0.1
    assert overall["faq_answer"] == 1 and overall["faq_answer_share"] == 0.05
    assert report["targets"]["handled_share"]["value"] == 0.8
    assert report["targets"]["faq_answer"]["value"] == 1
    assert report["targets_met"] is False
    # forms and FAQ answers first, the surer the worse (an FAQ answer by its
    # FAQ confidence 0.4, a form by the intent's 0.8 and 0.7), then the rest
    assert [r["text"] for r in report["worst"]] == ["m-form", "w-form", "m-faq", "m-other"]

    printed = format_report(report)
    assert "ALL" in printed and "weather" in printed and "[form]" in printed


def test_targets_met_exactly_at_the_bounds() -> None:
    # 97 handled of 100, no form, no FAQ answer: met; one form more: not met
    rows = [_row("d", f"f{i}", FALLBACK, 0.1) for i in range(97)]
    rows += [_row("d", f"o{i}", OTHER, 0.5) for i in range(3)]
    assert off_topic_report(rows)["targets_met"] is True
    rows[-1] = _row("d", "form", FORM, 0.5)  # 1% start a form: not fewer than 1%
    assert off_topic_report(rows)["targets_met"] is False
    rows[-1] = _row("d", "faq", FAQ_ANSWER, 0.5, faq_conf=0.2)
    assert off_topic_report(rows)["targets_met"] is False
    assert off_topic_report([])["targets_met"] is False  # nothing measured meets nothing


def test_domains_are_read_from_the_comment_above_each_block(tmp_path: Path) -> None:
    path = tmp_path / "off_topic.yml"
    path.write_text(
        'version: "3.1"\n# a file comment\nnlu:\n# weather\n- intent: out_of_scope\n'
        "  examples: |\n    - 明天热不热\n    - 下雨吗\n\n# music\n- intent: out_of_scope\n"
        "  examples: |\n    - 放首歌\n",
        encoding="utf-8",
    )
    assert load_domains(path) == [
        ("weather", "明天热不热"),
        ("weather", "下雨吗"),
        ("music", "放首歌"),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "nlu:\n- intent: out_of_scope\n  examples: |\n    - 放首歌\n",
            "off_topic.yml:2: block without a domain comment",
        ),
        (
            "nlu:\n# music\n- intent: greet\n  examples: |\n    - 你好\n",
            "off_topic.yml:3: intent 'greet'",
        ),
    ],
)
def test_a_malformed_set_is_refused_with_its_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "off_topic.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(OffTopicSetError, match=message):
        load_domains(path)


def test_the_city_set_has_a_domain_for_every_example_rasa_reads() -> None:
    from rasa.shared.nlu.training_data.loading import load_data

    path = ROOT / "eval" / "city" / "off_topic.yml"
    rasa_texts = [m.get("text") for m in load_data(str(path)).intent_examples]
    assert [text for _, text in load_domains(path)] == rasa_texts
