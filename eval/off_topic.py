"""The off-topic report (issue 18, "Robustness"): what the assistant does with
everyday messages that are not a 12345 hotline's business (eval/city/off_topic.yml).

Every message is classified by what the dialogue would do with its parse
(the intent after the FallbackClassifier, and the FAQ confidence):

- ``fallback``: ``nlu_fallback`` or ``out_of_scope``, or an FAQ guess below
  the answer threshold (actions/faq.py then asks the citizen to rephrase);
- ``chit_chat``: an intent whose rule, from a conversation with nothing in
  progress, only sends canned responses (``utter_*``: a greeting, who is
  answering, you're welcome, ...);
- ``form``: an intent that starts a form (complaint, service guidance, ticket
  query, ...);
- ``faq_answer``: intent ``faq`` with the FAQ retriever's confidence at or
  above the answer threshold (``FAQ_ANSWER_CONFIDENCE``): an FAQ answer is given;
- ``faq_confirm``: intent ``faq`` with the confidence between
  ``FAQ_MIN_CONFIDENCE`` and the answer threshold: the assistant names the
  question it understood and asks whether that is it (no answer is given;
  not counted as handled either);
- ``other``: anything else (a handoff, an emergency reply, a rating, ...).

The form and chit-chat intents are derived from the rules and stories under
data/ and the forms and responses of domain.yml (``dialogue_policy``),
not listed by hand, so a new form-starting rule is counted without touching
this file. Targets (issue 18): handled (fallback + chit-chat) >= 97%, form < 1%,
no FAQ answer.

Plain Python and PyYAML only: scripts/evaluate.py runs it in Rasa's
environment, and its tests (hotline_rasa/tests/test_off_topic_report.py) need
no model.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

FALLBACK = "fallback"
CHIT_CHAT = "chit_chat"
FORM = "form"
FAQ_ANSWER = "faq_answer"
FAQ_CONFIRM = "faq_confirm"
OTHER = "other"
OUTCOMES = (FALLBACK, CHIT_CHAT, FORM, FAQ_ANSWER, FAQ_CONFIRM, OTHER)
REJECT_INTENTS = frozenset({"nlu_fallback", "out_of_scope"})
#: The actions that tell the citizen the message was not understood.
FALLBACK_ACTIONS = frozenset({"action_handle_fallback", "action_default_fallback"})

MIN_HANDLED = 0.97  # fallback + chit-chat, at least
MAX_FORM = 0.01  # start a form, strictly less
MAX_FAQ_ANSWER = 0  # FAQ answers above the threshold, at most (a count)

# How bad an outcome is for an off-topic message, to list the worst first.
SEVERITY = {FORM: 3, FAQ_ANSWER: 3, OTHER: 2, FAQ_CONFIRM: 1, CHIT_CHAT: 0, FALLBACK: 0}


@dataclass(frozen=True)
class DialoguePolicy:
    """What the dialogue does on an intent, read from the rules and stories."""

    form_intents: Mapping[str, frozenset[str]]  # intent -> forms it starts
    chit_chat_intents: frozenset[str]
    #: intents a rule answers, with nothing in progress, with the fallback action only
    fallback_intents: frozenset[str] = frozenset()


class OffTopicSetError(ValueError):
    """The off-topic set's file is not in the expected shape."""


# --- the set ---------------------------------------------------------------

_COMMENT = re.compile(r"^#\s*(?P<domain>.+?)\s*$")
_INTENT = re.compile(r"^-\s*intent:\s*(?P<intent>\S+)\s*$")
_EXAMPLE = re.compile(r"^\s+-\s+(?P<text>.+?)\s*$")


def load_domains(path: Path) -> list[tuple[str, str]]:
    """(domain, sentence) for every example of an off-topic NLU file.

    The domain is the YAML comment line right above each ``- intent:`` block
    (eval/city/README.md). Raises OffTopicSetError, naming the line, for a
    block without a domain comment or with another intent than out_of_scope.
    """
    rows: list[tuple[str, str]] = []
    comment: str | None = None
    domain: str | None = None
    in_examples = False
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        if (m := _COMMENT.match(line)) is not None:
            comment = m["domain"]
            in_examples = False
            continue
        if (m := _INTENT.match(line)) is not None:
            if m["intent"] != "out_of_scope":
                raise OffTopicSetError(f"{path.name}:{number}: intent {m['intent']!r}")
            if comment is None:
                raise OffTopicSetError(f"{path.name}:{number}: block without a domain comment")
            domain, comment, in_examples = comment, None, False
            continue
        if line.strip().startswith("examples:"):
            in_examples = domain is not None
            continue
        if in_examples and (m := _EXAMPLE.match(line)) is not None:
            assert domain is not None
            rows.append((domain, m["text"]))
            continue
        if not line.startswith((" ", "\t")):
            in_examples = False  # a top-level key such as "nlu:" or "version:"
            comment = None
    return rows


# --- what the dialogue does -------------------------------------------------


def _read_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def _initial_loop(item: Mapping[str, Any]) -> tuple[bool, str | None]:
    """(applies with nothing in progress, the form active at its start)."""
    for condition in item.get("condition") or []:
        if isinstance(condition, dict) and "active_loop" in condition:
            loop = condition["active_loop"]
            return loop is None, loop
    return True, None


def dialogue_policy(
    rules: Iterable[Mapping[str, Any]],
    stories: Iterable[Mapping[str, Any]],
    forms: Iterable[str],
    responses: Iterable[str],
) -> DialoguePolicy:
    """The intents that start a form and the chit-chat intents.

    Walks every rule and story, following ``active_loop`` steps. A user intent
    met while no form is active *starts a form* when the actions up to the
    next user step run a form (or make one active). A rule that opens on a
    user intent, applies with no form active and only sends responses
    (``utter_*`` of domain.yml) makes that intent *chit-chat*, unless some
    other rule or story starts a form or runs a custom action on it. A rule that
    opens on a user intent, applies with no form active and only runs the
    fallback action (``FALLBACK_ACTIONS``) makes that intent a *declined* one
    (``fallback_intents``), unless some rule or story starts a form on it.
    """
    form_names = set(forms)
    response_names = set(responses)
    starts: dict[str, set[str]] = {}
    canned: set[str] = set()
    not_canned: set[str] = set()
    declined: set[str] = set()

    for item, is_rule in [(r, True) for r in rules] + [(s, False) for s in stories]:
        applies_idle, active = _initial_loop(item)
        steps = list(item.get("steps") or [])
        for index, step in enumerate(steps):
            if not isinstance(step, dict):
                continue
            if "active_loop" in step:
                active = step["active_loop"]
                continue
            if "intent" not in step or active is not None:
                continue
            intent = str(step["intent"])
            actions: list[str] = []
            opened: set[str] = set()
            for follow in steps[index + 1 :]:
                if not isinstance(follow, dict):
                    continue
                if "intent" in follow or "user" in follow:
                    break
                if "action" in follow:
                    actions.append(str(follow["action"]))
                if follow.get("active_loop") in form_names:
                    opened.add(str(follow["active_loop"]))
            opened |= {a for a in actions if a in form_names}
            if opened:
                starts.setdefault(intent, set()).update(opened)
            elif actions and all(a in response_names for a in actions):
                if is_rule and index == 0 and applies_idle:
                    canned.add(intent)
            elif actions:
                not_canned.add(intent)  # a custom action runs on it
                if all(a in FALLBACK_ACTIONS for a in actions):
                    if is_rule and index == 0 and applies_idle:
                        declined.add(intent)

    form_intents = {intent: frozenset(names) for intent, names in sorted(starts.items())}
    chit_chat = frozenset(canned - not_canned - set(form_intents) - REJECT_INTENTS)
    return DialoguePolicy(
        form_intents=form_intents,
        chit_chat_intents=chit_chat,
        fallback_intents=frozenset(declined - set(form_intents)),
    )


def load_dialogue_policy(root: Path) -> DialoguePolicy:
    """dialogue_policy() of every rule and story under data/ (as Rasa reads them:
    any data/**/*.yml with ``rules:`` or ``stories:``) and domain.yml's forms and
    responses."""
    domain = _read_yaml(root / "domain.yml")
    rules: list[Mapping[str, Any]] = []
    stories: list[Mapping[str, Any]] = []
    for path in sorted((root / "data").rglob("*.yml")):
        data = _read_yaml(path)
        if isinstance(data, dict):
            rules += data.get("rules") or []
            stories += data.get("stories") or []
    return dialogue_policy(
        rules,
        stories,
        (domain.get("forms") or {}).keys(),
        (domain.get("responses") or {}).keys(),
    )


# --- classification and the report ------------------------------------------


#: Intents the dialogue has no use for in a first message (a form's answer
#: with no form running, a change with no complaint being filled in): a sure
#: FAQ guess is answered instead (actions/faq.py, actions/complaints.py).
OUT_OF_CONTEXT_INTENTS = ("inform", "edit_complaint")


def classify(
    intent: str,
    faq_confidence: float,
    policy: DialoguePolicy,
    faq_threshold: float,
    answer_threshold: float | None = None,
    complaint_p: float | None = None,
    complaint_from_answer: float | None = None,
    faq_sure_out_of_context: float | None = None,
) -> str:
    """The outcome of one message from its intent (after the FallbackClassifier).

    ``answer_threshold`` (default ``faq_threshold``): an FAQ guess at least
    ``faq_threshold`` but below it is confirmed, not answered. A form's answer
    (``inform``) with no form running whose P(complaint) (``complaint_p``, the
    parse's ``complaint.p``) is at least ``complaint_from_answer`` starts the
    complaint form (actions/faq.py ActionHandleFallback). Otherwise a form's
    answer or a change to a complaint (no form running, no complaint being
    filled in: a first message) whose FAQ guess is at least
    ``faq_sure_out_of_context`` gets that FAQ answer (actions/faq.py,
    actions/complaints.py ActionEditComplaint)."""
    if (
        intent == "inform"
        and complaint_p is not None
        and complaint_from_answer is not None
        and complaint_p >= complaint_from_answer
    ):
        return FORM
    if (
        intent in OUT_OF_CONTEXT_INTENTS
        and faq_sure_out_of_context is not None
        and faq_confidence >= faq_sure_out_of_context
    ):
        return FAQ_ANSWER
    if intent in REJECT_INTENTS or intent in policy.fallback_intents:
        return FALLBACK
    if intent == "faq":
        if faq_confidence < faq_threshold:
            return FALLBACK
        sure = faq_threshold if answer_threshold is None else answer_threshold
        return FAQ_ANSWER if faq_confidence >= sure else FAQ_CONFIRM
    if intent in policy.form_intents:
        return FORM
    if intent in policy.chit_chat_intents:
        return CHIT_CHAT
    return OTHER


def _shares(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    counts = Counter(str(r["outcome"]) for r in rows)
    n = len(rows)
    out: dict[str, Any] = {"sentences": n}
    for outcome in OUTCOMES:
        out[outcome] = counts[outcome]
    handled = counts[FALLBACK] + counts[CHIT_CHAT]
    out["handled"] = handled
    for key in (*OUTCOMES, "handled"):
        out[f"{key}_share"] = round(out[key] / n, 4) if n else None
    return out


def severity_key(row: Mapping[str, Any]) -> tuple[int, float]:
    """Sort key, worst first when reversed: the outcome's severity, then how sure
    the assistant was of the wrong thing (the FAQ confidence for an FAQ answer,
    else the top intent's confidence before the fallback)."""
    outcome = str(row["outcome"])
    if outcome in (FAQ_ANSWER, FAQ_CONFIRM):
        confidence = float(row.get("faq_conf") or 0.0)
    else:
        confidence = float(row.get("raw_conf") or 0.0)
    return SEVERITY[outcome], confidence


def off_topic_report(rows: Sequence[Mapping[str, Any]], *, worst: int = 20) -> dict[str, Any]:
    """Overall and per-domain shares, the targets and the worst examples.

    Each row needs "domain", "text" and "outcome" (see classify()); "intent",
    "raw_intent", "raw_conf", "faq_pred" and "faq_conf" are copied into the
    worst examples when present. Domains keep their order of first appearance.
    """
    overall = _shares(list(rows))
    domains: dict[str, list[Mapping[str, Any]]] = {}
    for row in rows:
        domains.setdefault(str(row["domain"]), []).append(row)
    per_domain = {name: _shares(domain_rows) for name, domain_rows in domains.items()}
    keep = ("domain", "text", "outcome", "intent", "raw_intent", "raw_conf", "faq_pred", "faq_conf")
    ranked = sorted(rows, key=severity_key, reverse=True)[:worst]
    targets = {
        "handled_share": {"value": overall["handled_share"], "target": f">= {MIN_HANDLED}"},
        "form_share": {"value": overall["form_share"], "target": f"< {MAX_FORM}"},
        "faq_answer": {"value": overall[FAQ_ANSWER], "target": f"<= {MAX_FAQ_ANSWER}"},
    }
    met = bool(rows) and (
        overall["handled_share"] >= MIN_HANDLED
        and overall["form_share"] < MAX_FORM
        and overall[FAQ_ANSWER] <= MAX_FAQ_ANSWER
    )
    return {
        "overall": overall,
        "domains": per_domain,
        "targets": targets,
        "targets_met": met,
        "worst": [{k: row[k] for k in keep if k in row} for row in ranked],
    }


def format_report(report: Mapping[str, Any]) -> str:
    """The report as printed by `make evaluate`."""
    lines = []
    o = report["overall"]
    lines.append(
        f"  {'domain':42s} {'n':>5s} {'handled':>8s} {'fallbk':>7s} {'chat':>6s} "
        f"{'form':>6s} {'faq':>6s} {'confirm':>7s} {'other':>6s}"
    )

    def line(name: str, s: Mapping[str, Any]) -> str:
        return (
            f"  {name[:42]:42s} {s['sentences']:5d} {s['handled_share']:8.1%} "
            f"{s['fallback_share']:7.1%} {s['chit_chat_share']:6.1%} {s['form_share']:6.1%} "
            f"{s['faq_answer_share']:6.1%} {s['faq_confirm_share']:7.1%} {s['other_share']:6.1%}"
        )

    for name, shares in report["domains"].items():
        lines.append(line(name, shares))
    lines.append(line("ALL", o))
    for key, target in report["targets"].items():
        lines.append(f"  {key:32s} {target['value']}  (target {target['target']})")
    lines.append(f"  worst {len(report['worst'])} examples:")
    for row in report["worst"]:
        if row["outcome"] in (FAQ_ANSWER, FAQ_CONFIRM):
            detail = f"faq/{row.get('faq_pred')} {float(row.get('faq_conf') or 0):.2f}"
        else:
            detail = f"{row.get('raw_intent')} {float(row.get('raw_conf') or 0):.2f}"
        lines.append(f"    [{row['outcome']}] {detail}  ({row['domain']}) {row['text']}")
    return "\n".join(lines)
