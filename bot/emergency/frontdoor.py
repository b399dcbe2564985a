"""What the emergency mode changes on the front door's message path.

Called by the router (bot/hub_routing.py) for every Rasa turn, whatever the
channel (WeChat, widget, Telegram, REST): one place for all of them.

- **Notice on the greeting.** The first reply a conversation gets in this
  period, and every greeting of the assistant (the texts of ``utter_greet``
  in domain.yml: WeChat's subscribe event, Telegram's /start, "你好"), start
  with the notice (``【应急通知】...``, ``【应急演练】...`` in a drill); the
  named FAQ entries follow as the first buttons of that message.
- **Named FAQ answers first.** What a citizen expects: asking about the
  incident (a keyword in their message), the official answer about it comes
  first. The best-matching named entry (most shared two-character pieces
  with its question and examples; the first named on a tie) is answered
  first, the other named entries as buttons; the assistant's own reply
  follows unchanged (a complaint or a handoff it started goes on), without a
  second copy of the same answer. A message about something else is
  answered as usual: the emergency does not push itself into unrelated
  questions beyond the one notice.
- **A button of a named FAQ** (``/emergency_faq{"id": ...}``) is answered by
  the front door itself from data/knowledge/faq.yml, also after the switch
  went off (the answer is still the knowledge base's).
- **Handoffs about the incident** (a keyword in the citizen's words or the
  handoff summary) queue with reason ``incident`` (bot/hub_routing.py:
  ``EMERGENCY_HANDOFF_HEAD_START``); the reason they had is kept in the
  summary (``reason_before``).
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import Any

import yaml

from bot.config import ROOT
from bot.emergency import EmergencyBoard, EmergencyState
from bot.knowledge import FaqEntry, format_answer, load_faq
from bot.messages import Button, InboundMessage, OutboundMessage

logger = logging.getLogger(__name__)

FAQ_PAYLOAD = "/emergency_faq"
INCIDENT_REASON = "incident"
BUTTON_TITLE_MAX = 18


def faq_payload(faq_id: str) -> str:
    return FAQ_PAYLOAD + json.dumps({"id": faq_id}, separators=(",", ":"))


def payload_faq(payload: str | None) -> str | None:
    """The FAQ id of an emergency FAQ button, or None."""
    if not payload or not payload.startswith(FAQ_PAYLOAD + "{"):
        return None
    try:
        data = json.loads(payload[len(FAQ_PAYLOAD) :])
    except ValueError:
        return None
    value = data.get("id") if isinstance(data, dict) else None
    return value if isinstance(value, str) else None


@functools.lru_cache(maxsize=2)
def greeting_texts(path: str = str(ROOT / "domain.yml")) -> frozenset[str]:
    """The texts of the assistant's greeting (``utter_greet``) in the domain."""
    try:
        with open(path, encoding="utf-8") as f:
            domain = yaml.safe_load(f) or {}
        variants = (domain.get("responses") or {}).get("utter_greet") or []
        return frozenset(str(v.get("text")).strip() for v in variants if v.get("text"))
    except (OSError, yaml.YAMLError, AttributeError):
        logger.warning("could not read the greeting texts of domain.yml")
        return frozenset()


def named_entries(state: EmergencyState) -> list[FaqEntry]:
    known = load_faq()
    return [known[k] for k in state.faq if k in known]


def _short(text: str) -> str:
    text = text.strip().rstrip("?？")
    return text if len(text) <= BUTTON_TITLE_MAX else text[: BUTTON_TITLE_MAX - 1] + "…"


def faq_buttons(entries: Iterable[FaqEntry]) -> tuple[Button, ...]:
    return tuple(Button(title=_short(e.question), payload=faq_payload(e.id)) for e in entries)


def _pieces(text: str) -> set[str]:
    text = "".join(ch for ch in text if ch.isalnum())
    return {text[i : i + 2] for i in range(len(text) - 1)}


def best_entry(entries: Sequence[FaqEntry], text: str) -> FaqEntry | None:
    """The named entry closest to ``text`` (shared two-character pieces)."""
    if not entries:
        return None
    asked = _pieces(text)
    scores = [len(asked & _pieces(" ".join((e.question, *e.examples)))) for e in entries]
    return entries[scores.index(max(scores))]


def answer_text(entry: FaqEntry) -> str:
    return format_answer(entry)


def button_answer(msg: InboundMessage) -> list[OutboundMessage] | None:
    """The answer to an emergency FAQ button, or None when it is not one."""
    faq_id = payload_faq(msg.payload)
    if faq_id is None:
        return None
    entry = load_faq().get(faq_id)
    if entry is None:
        return [OutboundMessage(text="抱歉，这条应急问答已经下线。请直接输入您的问题。")]
    return [OutboundMessage(text=answer_text(entry))]


async def dress(
    board: EmergencyBoard,
    state: EmergencyState,
    msg: InboundMessage,
    replies: Sequence[OutboundMessage],
    on_faq_first: Callable[[str], None] | None = None,
) -> list[OutboundMessage]:
    """A Rasa turn's visible replies during the emergency (see the module doc);
    ``on_faq_first(faq_id)`` is told when a named FAQ answer was put first."""
    out = list(replies)
    if not state.active:
        return out
    entries = named_entries(state)
    if not msg.payload and state.mentions(msg.text) and entries:
        entry = best_entry(entries, msg.text or "")
        assert entry is not None
        text = answer_text(entry)
        others = faq_buttons(e for e in entries if e.id != entry.id)
        out = [r for r in out if (r.text or "").strip() != text]
        out.insert(0, OutboundMessage(text=text, buttons=others))
        if on_faq_first is not None:
            on_faq_first(entry.id)
    if not out:
        return out
    first_time = await board.first_reply(state, msg.conversation_id)
    greetings = greeting_texts()
    at = next((i for i, r in enumerate(out) if (r.text or "").strip() in greetings), None)
    if at is None and first_time:
        at = next((i for i, r in enumerate(out) if r.text), None)
        if at is None:
            out.insert(0, OutboundMessage(text="", sender="system"))
            at = 0
    if at is not None:
        first = out[at]
        buttons = faq_buttons(entries)
        kept = tuple(b for b in first.buttons if b.payload not in {x.payload for x in buttons})
        text = state.banner + ("\n\n" + first.text if first.text else "")
        out[at] = replace(first, text=text, buttons=buttons + kept)
    return out


def incident_handoff(state: EmergencyState, msg: InboundMessage, summary: dict[str, Any]) -> bool:
    """True when a handoff requested now is about the incident."""
    said = summary.get("last_messages")
    words = [str(t) for t in said] if isinstance(said, list) else []
    slots = summary.get("slots")
    if isinstance(slots, dict):
        words += [str(v) for v in slots.values()]
    return state.mentions(msg.text, *words)
