"""Form answers as the running system understands them (issue 18, forms).

For every turn of a set (``eval/forms/*.yml``: a form, the question just
asked, the answers already given, the citizen's text and what should happen)
this drives the real assistant: the trained model in a real Rasa server
(``python -m hotline_rasa run --enable-api`` from the Rasa environment) and a
real action server (``python -m bot.action_server``), both on free loopback
ports. Each turn gets a conversation of its own whose tracker is put in the
state "form active, this question asked, these answers given" through Rasa's
HTTP API (the events the form's start would have logged); the text then goes
through the REST channel like any citizen message, so the NLU, the slot
mappings, the rules (``stop`` cancels, ``request_human`` hands over) and the
validation actions all decide, as in production. The outcome is read from
the tracker: the slots as the form left them (before the action after the
form, which may clear them), the actions that ran, the question asked next.

Kinds of expectation (``expect.kind``):

- ``value``: ``slot`` gets ``value`` ("*": any text taken faithfully from the
  message); a phone number is compared in clear, a service by id or name;
- ``anonymous``: the phone is refused, the complaint is anonymous;
- ``refuse``: a question that may be skipped is refused and skipped
  ("未提供", or "匿名" for the name);
- ``unknown``: the citizen does not know: place/time are skipped; a ticket
  number or its phone digits cannot be skipped, so the same question stays
  open and a person is offered;
- ``reask``: nothing usable: nothing is stored, the same question is asked again;
- ``correct``: an earlier ``slot`` gets ``value``;
- ``cancel``: the form is abandoned (``action_cancel_process``);
- ``human``: a person is asked for (``action_handoff``).

Prints % right overall, per kind and per slot, and the wrong turns of a
development set (``dev*.yml``; ``--errors`` for any set): a test set is for
reporting only.

Usage: ``make evaluate-forms`` (the dev set and, when present, the test set
without its sentences), or ``.venv/bin/python eval/forms.py eval/forms/dev.yml
--errors``; ``--model models/<file>.tar.gz`` (default: the newest model).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import unicodedata
import urllib.error
import urllib.request
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

#: The key the action server seals phone numbers with; this process reads them back.
DATA_KEY = Fernet.generate_key().decode()
os.environ["HOTLINE_DATA_KEYS"] = DATA_KEY

from actions.complaints import ANONYMOUS, NOT_GIVEN, phone_from_slot, seal_phone  # noqa: E402
from bot.knowledge import match_service, service_by_id  # noqa: E402
from tests.support.ports import free_port  # noqa: E402
from tests.support.processes import start_action_server  # noqa: E402

RASA_PYTHON = Path(os.environ.get("RASA_PYTHON") or ROOT / ".venv-rasa" / "bin" / "python")
RASA_TOKEN = "forms-eval-rasa-token-" + uuid.uuid4().hex
ACTION_TOKEN = "forms-eval-action-token-" + uuid.uuid4().hex
RASA_START_SECONDS = 600.0
KINDS = ("value", "anonymous", "refuse", "unknown", "reask", "correct", "cancel", "human")

FORMS: dict[str, dict[str, Any]] = {
    "complaint_form": {
        "start_intent": "complain",
        "start_text": "我要投诉",
        "start_action": "action_start_complaint",
        "slots": ["complaint_what", "complaint_where", "complaint_when", "contact_phone",
                  "contact_name"],
        "defaults": {"complaint_what": "小区门口的路灯坏了一个多月，晚上很黑",
                     "complaint_where": "南城街道鸿福路", "complaint_when": "上周五晚上",
                     "contact_phone": "13800138000", "contact_name": "陈先生"},
        "after": "action_complaint_summary",
    },
    "service_guide_form": {
        "start_intent": "request_service_guide",
        "start_text": "我想办个事",
        "start_action": "action_start_service_guide",
        "slots": ["service", "service_mode"],
        "defaults": {"service": "住房公积金提取", "service_mode": "online"},
        "after": "action_service_guide",
    },
    "ticket_status_form": {
        "start_intent": "check_ticket",
        "start_text": "查一下工单进度",
        "start_action": "action_start_ticket_query",
        "slots": ["ticket_no", "ticket_phone_last4"],
        "defaults": {"ticket_no": "20261127-000123", "ticket_phone_last4": "5678"},
        "after": "action_ticket_status",
    },
}  # fmt: skip


@dataclass
class Turn:
    form: str
    slot: str
    text: str
    expect: dict[str, Any]
    filled: dict[str, Any] = field(default_factory=dict)
    note: str = ""


@dataclass
class Outcome:
    slots: dict[str, Any]
    actions: list[str]
    replies: list[str]
    buttons: list[str]
    requested: Any
    active_loop: Any
    intent: str
    #: the form still active once the turn is over (after any rule's action)
    final_loop: Any = None


# --- the set ------------------------------------------------------------------


def load_turns(path: Path) -> list[Turn]:
    """The turns of a set, checked: a bad turn is named with its index."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    turns = []
    for index, raw in enumerate(data.get("turns") or []):
        where = f"{path}: turn {index + 1}"
        if not isinstance(raw, dict):
            raise ValueError(f"{where}: not a mapping")
        form = raw.get("form")
        if form not in FORMS:
            raise ValueError(f"{where}: unknown form {form!r}")
        slot = raw.get("slot")
        if slot not in FORMS[form]["slots"]:
            raise ValueError(f"{where}: {slot!r} is not a question of {form}")
        expect = raw.get("expect") or {}
        if expect.get("kind") not in KINDS:
            raise ValueError(f"{where}: unknown expect.kind {expect.get('kind')!r}")
        text = raw.get("text")
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"{where}: no text")
        turns.append(
            Turn(str(form), str(slot), text, dict(expect), dict(raw.get("filled") or {}),
                 str(raw.get("note") or ""))
        )  # fmt: skip
    return turns


def _key(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    return re.sub(r"[\W_]+", "", text)


def training_overlap(turns: list[Turn]) -> list[str]:
    """Turn texts found verbatim (normalised) among the training examples of
    data/nlu: an evaluation turn must not be trained on."""
    trained: set[str] = set()
    for path in sorted((ROOT / "data" / "nlu").glob("*.yml")):
        for line in path.read_text(encoding="utf-8").splitlines():
            match = re.match(r"^\s+- (.+)$", line)
            if match:
                trained.add(_key(match.group(1)))
    return [turn.text for turn in turns if _key(turn.text) in trained]


# --- the servers --------------------------------------------------------------


def http_json(url: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(  # noqa: S310 - loopback
        url, data, {"Content-Type": "application/json", **(headers or {})}
    )
    with urllib.request.urlopen(request, timeout=120) as resp:  # noqa: S310
        return json.loads(resp.read() or b"null")


def newest_model() -> Path:
    models = sorted((ROOT / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not models:
        raise SystemExit("no trained model in models/: run `make train` first")
    return models[-1]


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


@contextmanager
def servers(model: Path, var: Path) -> Iterator[str]:
    """A real action server and Rasa with ``model``; yields Rasa's URL."""
    rasa_port = free_port()
    action_port = free_port()
    env = {
        **os.environ,
        "SANIC_HOST": "127.0.0.1",
        "HOTLINE_VAR_DIR": str(var),
        "PYTHONPATH": str(ROOT),
        "HOTLINE_DATA_KEYS": DATA_KEY,
        "ACTION_SERVER_TOKEN": ACTION_TOKEN,
        "RASA_URL": f"http://127.0.0.1:{rasa_port}",
        "RASA_AUTH_TOKEN": RASA_TOKEN,
    }
    env.pop("DATABASE_URL", None)  # a SQLite database in ``var``
    actions = start_action_server(action_port, env, var / "actions.log")
    rasa_env = {**env, "ACTION_SERVER_URL": f"http://127.0.0.1:{action_port}"}
    for name in ("VIRTUAL_ENV", "PYTHONHOME"):
        rasa_env.pop(name, None)
    log = var / "rasa.log"
    try:
        with log.open("wb") as out:
            rasa = subprocess.Popen(  # noqa: S603 - the Rasa environment's interpreter
                [str(RASA_PYTHON), "-m", "hotline_rasa", "run", "--enable-api",
                 "--interface", "127.0.0.1", "--port", str(rasa_port), "--model", str(model),
                 "--endpoints", "endpoints.yml", "--credentials", "credentials.yml"],
                cwd=ROOT, env=rasa_env, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        url = f"http://127.0.0.1:{rasa_port}"
        try:
            deadline = time.monotonic() + RASA_START_SECONDS
            while True:
                if rasa.poll() is not None:
                    raise SystemExit(f"Rasa stopped:\n{log.read_text()[-3000:]}")
                try:
                    if (http_json(f"{url}/status?token={RASA_TOKEN}") or {}).get("model_file"):
                        break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit(f"Rasa did not load the model:\n{log.read_text()[-3000:]}")
                time.sleep(1)
            yield url
        finally:
            _stop(rasa)
    finally:
        _stop(actions)


# --- one turn -----------------------------------------------------------------


def _slot_value(slot: str, value: Any) -> Any:
    """A given answer as the form stores it (a phone sealed, a service by id)."""
    if slot == "contact_phone" and isinstance(value, str) and value not in (ANONYMOUS, NOT_GIVEN):
        return seal_phone(str(value))
    if slot == "service" and isinstance(value, str):
        service = service_by_id(value) or match_service(value)
        return service.id if service else value
    return value


def state_events(turn: Turn) -> list[dict[str, Any]]:
    """The tracker of a conversation whose form just asked ``turn.slot``."""
    spec = FORMS[turn.form]
    slots: dict[str, Any] = {}
    order = spec["slots"]
    for slot in order[: order.index(turn.slot)]:
        slots[slot] = spec["defaults"][slot]  # a real form asks in order: all before are given
    slots.update(turn.filled)
    slots[turn.slot] = None
    if turn.form == "complaint_form":
        slots.setdefault("complaint_type", "complaint")
        slots["complaint_submission_id"] = uuid.uuid4().hex
    events: list[dict[str, Any]] = [
        {"event": "action", "name": "action_session_start"},
        {"event": "session_started"},
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": spec["start_text"],
         "parse_data": {"intent": {"name": spec["start_intent"], "confidence": 1.0},
                        "entities": [], "text": spec["start_text"]}},
        {"event": "action", "name": spec["start_action"]},
    ]  # fmt: skip
    events += [
        {"event": "slot", "name": name, "value": _slot_value(name, value)}
        for name, value in slots.items()
    ]
    events += [
        {"event": "action", "name": turn.form},
        {"event": "active_loop", "name": turn.form},
        {"event": "slot", "name": "requested_slot", "value": turn.slot},
        {"event": "action", "name": "action_listen"},
    ]
    return events


def run_turn(url: str, turn: Turn) -> Outcome:
    sender = "forms-eval-" + uuid.uuid4().hex
    token = f"token={RASA_TOKEN}"
    http_json(f"{url}/conversations/{sender}/tracker/events?{token}", state_events(turn))
    bearer = {"Authorization": f"Bearer {RASA_TOKEN}"}
    http_json(f"{url}/webhooks/rest/webhook", {"sender": sender, "message": turn.text}, bearer)
    tracker = http_json(f"{url}/conversations/{sender}/tracker?{token}")
    return outcome(tracker, turn)


def outcome(tracker: dict[str, Any], turn: Turn) -> Outcome:
    """What the turn did: the slots as the form (and its validation) left them,
    before the action that follows a finished form, which may clear them."""
    events = tracker.get("events") or []
    start = max(i for i, e in enumerate(events) if e.get("event") == "user")
    intent = ((events[start].get("parse_data") or {}).get("intent") or {}).get("name") or ""
    slots = dict(tracker.get("slots") or {})
    before: dict[str, Any] = {}
    # the slots before the message: replay the events up to it
    for event in events[:start]:
        if event.get("event") == "slot":
            before[event["name"]] = event.get("value")
    state = dict(before)
    actions: list[str] = []
    replies: list[str] = []
    buttons: list[str] = []
    frozen = False
    requested = before.get("requested_slot")
    active = turn.form
    for event in events[start + 1 :]:
        kind = event.get("event")
        if kind == "action":
            name = event.get("name") or ""
            if name != "action_listen":
                actions.append(name)
            if name not in (turn.form, "action_listen"):
                frozen = True
        elif kind == "slot" and not frozen:
            state[event["name"]] = event.get("value")
            if event["name"] == "requested_slot":
                requested = event.get("value")
        elif kind == "active_loop" and not frozen:
            active = event.get("name")
        elif kind == "bot":
            replies.append(str(event.get("text") or ""))
            for button in (event.get("data") or {}).get("buttons") or []:
                buttons.append(str(button.get("payload") or ""))
    del slots
    final = (tracker.get("active_loop") or {}).get("name")
    return Outcome(state, actions, replies, buttons, requested, active, intent, final)


# --- judging ------------------------------------------------------------------

_PUNCT = re.compile(r"[\s，,。.!！?？、~～：:；;“”\"'（）()]")
_MODES = {
    "online": ("online", "网上", "线上", "网办", "手机"),
    "offline": ("offline", "线下", "窗口"),
}
#: Chatter a free-text answer may keep around its core ("在厚街" for 厚街).
MAX_CHATTER = 4


def _norm(text: Any) -> str:
    return _PUNCT.sub("", str(text or "")).lower()


def _same(slot: str, got: Any, want: Any, text: str) -> bool:
    if got is None:
        return False
    if slot == "contact_phone":
        got = phone_from_slot(got)
        if str(want) == "*":
            return got not in (None, ANONYMOUS, NOT_GIVEN)
        return re.sub(r"\D", "", str(got)) == re.sub(r"\D", "", str(want))
    if slot == "service":
        service = service_by_id(str(got))
        names = {str(got)} | ({service.name, service.id} if service else set())
        if str(want) == "*":
            return service is not None
        wanted = service_by_id(str(want)) or match_service(str(want))
        return str(want) in names or (wanted is not None and wanted.id == got)
    if slot == "service_mode":
        if str(want) == "*":
            return got in _MODES
        return any(str(want).lower().startswith(w) for w in _MODES.get(str(got), ()))
    if got in (NOT_GIVEN, ANONYMOUS):
        return str(want) == got
    said, core, kept = _norm(text), _norm(want), _norm(got)
    if str(want) == "*":
        return bool(kept) and kept in said
    if kept == core:
        return True
    # the core with a little of the message's chatter around it, nothing else
    return core in kept and kept in said and len(kept) - len(core) <= MAX_CHATTER


def judge(turn: Turn, out: Outcome) -> tuple[bool, str]:
    """(right, what happened) for one turn."""
    expect = turn.expect
    kind = expect["kind"]
    slot = expect.get("slot") or turn.slot
    got = out.slots.get(slot)
    asked_again = out.active_loop == turn.form and out.requested == turn.slot
    left = "action_cancel_process" in out.actions or "action_handoff" in out.actions
    happened = (
        f"intent={out.intent} actions={out.actions} requested={out.requested} "
        f"{slot}={_shown(slot, got)!r} replies={[r[:60] for r in out.replies]}"
    )
    if kind == "value":
        right = not left and _same(slot, got, expect.get("value", "*"), turn.text)
    elif kind == "anonymous":
        right = not left and got == ANONYMOUS
    elif kind == "refuse":
        right = not left and got in (NOT_GIVEN, ANONYMOUS) and not asked_again
    elif kind == "unknown":
        if turn.slot in ("ticket_no", "ticket_phone_last4"):
            right = asked_again and got is None and "/request_human" in out.buttons
        else:
            right = not left and got == NOT_GIVEN and not asked_again
    elif kind == "reask":
        right = asked_again and got is None and bool(out.replies) and not left
    elif kind == "correct":
        right = not left and _same(slot, got, expect.get("value", "*"), turn.text)
    elif kind == "cancel":
        right = "action_cancel_process" in out.actions and out.final_loop is None
    else:  # human
        right = "action_handoff" in out.actions
    return right, happened


def _shown(slot: str, value: Any) -> Any:
    return phone_from_slot(value) if slot == "contact_phone" else value


# --- the report ---------------------------------------------------------------


#: What both emergency texts (the safety net's, ``utter_emergency``) name.
EMERGENCY_NUMBER = "119"
#: The end of "what happened" for a turn whose replies gave the emergency numbers.
NUMBERS_MARK = " numbers=1"


def evaluate(url: str, turns: list[Turn], jobs: int) -> list[tuple[Turn, bool, str]]:
    """(turn, right, what happened) of each turn; what happened ends with
    " numbers=1" when a reply gave the emergency numbers."""

    def one(turn: Turn) -> tuple[Turn, bool, str]:
        try:
            out = run_turn(url, turn)
            right, happened = judge(turn, out)
            if any(EMERGENCY_NUMBER in reply for reply in out.replies):
                happened += NUMBERS_MARK
        except (OSError, urllib.error.URLError, ValueError, KeyError) as exc:
            right, happened = False, f"error: {exc!r}"
        return turn, right, happened

    with ThreadPoolExecutor(jobs) as pool:
        return list(pool.map(one, turns))



def report(name: str, results: list[tuple[Turn, bool, str]], errors: bool) -> dict[str, Any]:
    def share(rows: list[tuple[Turn, bool, str]]) -> str:
        right = sum(1 for _, ok, _ in rows if ok)
        return f"{100 * right / len(rows):5.1f}% ({right}/{len(rows)})"

    by_kind: dict[str, list[tuple[Turn, bool, str]]] = defaultdict(list)
    by_slot: dict[str, list[tuple[Turn, bool, str]]] = defaultdict(list)
    for row in results:
        by_kind[row[0].expect["kind"]].append(row)
        by_slot[row[0].slot].append(row)
    print(f"\n== forms: {name} ==")
    print(f"overall  {share(results)}")
    for kind in KINDS:
        if by_kind.get(kind):
            print(f"  kind {kind:<10} {share(by_kind[kind])}")
    for slot, rows in sorted(by_slot.items()):
        print(f"  slot {slot:<18} {share(rows)}")
    # no turn of these sets tells of danger: the emergency numbers above a
    # form's answer are false alarms (CitizenFormValidation's net, the safety net)
    alarmed = [(t, h) for t, _, h in results if h.endswith(NUMBERS_MARK)]
    print(f"  turns with the emergency numbers: {len(alarmed)}")
    if errors:
        for turn, _ in alarmed:
            print(f"    numbers above: [{turn.form}/{turn.slot}] {turn.text!r}")
    wrong = [(t, h) for t, ok, h in results if not ok]
    if errors and wrong:
        print(f"\nwrong turns ({len(wrong)}):")
        for turn, happened in wrong:
            print(f"- [{turn.form}/{turn.slot}] {turn.text!r} expect={turn.expect}")
            print(f"    {happened}")
    right = sum(1 for _, ok, _ in results if ok)
    return {
        "set": name,
        "turns": len(results),
        "right": right,
        "accuracy": right / len(results) if results else 0.0,
        "by_kind": {k: [sum(ok for _, ok, _ in v), len(v)] for k, v in by_kind.items()},
        "by_slot": {k: [sum(ok for _, ok, _ in v), len(v)] for k, v in by_slot.items()},
        "kinds": dict(Counter(t.expect["kind"] for t, _, _ in results)),
        "emergency_numbers": len(alarmed),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="*", type=Path, help="turn sets (default: eval/forms/*.yml)")
    parser.add_argument("--model", type=Path, help="default: the newest model in models/")
    parser.add_argument("--errors", action="store_true", help="list the wrong turns (dev only)")
    parser.add_argument("--jobs", type=int, default=3, help="turns sent at once")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args(argv)
    sets = args.sets or sorted((ROOT / "eval" / "forms").glob("*.yml"))
    if not sets:
        raise SystemExit("no turn sets (eval/forms/*.yml)")
    loaded = {path: load_turns(path) for path in sets}
    for path, turns in loaded.items():
        overlap = training_overlap(turns)
        if overlap:
            # counted, never printed: a test set's sentences stay unseen
            print(f"warning: {len(overlap)} turn(s) of {path.name} are verbatim in data/nlu")
    model = args.model or newest_model()
    started = time.monotonic()
    reports = []
    with tempfile.TemporaryDirectory(prefix="forms-eval-") as tmp, servers(model, Path(tmp)) as url:
        print(f"model {model.name}; Rasa and the action server up in "
              f"{time.monotonic() - started:.0f} s")  # fmt: skip
        for path, turns in loaded.items():
            begun = time.monotonic()
            results = evaluate(url, turns, args.jobs)
            # the wrong turns of a development set only: a test set is for reporting
            show = args.errors or path.name.startswith("dev")
            reports.append(report(path.name, results, show))
            print(f"({len(turns)} turns in {time.monotonic() - begun:.0f} s)")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(reports, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
