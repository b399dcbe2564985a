"""What every action family shares: the database handle and tracker helpers.

The action server is its own process (rasa-sdk on sanic); it opens its own
connection to the same SQL database as the front door, lazily, on first use,
inside the server's event loop.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

# shared with scripts/evaluate.py
from actions.thresholds import FAQ_MIN_CONFIDENCE, FAQ_SURE_OUT_OF_CONTEXT
from bot.config import Settings, load_settings, require_shared_secrets
from bot.danger_words import load_danger_words
from bot.db import Database
from bot.db.crypto import Cipher, load_cipher
from bot.knowledge import use_knowledge_dir

logger = logging.getLogger(__name__)

_settings: Settings | None = None
_db: Database | None = None
_db_lock: asyncio.Lock | None = None
_cipher: Cipher | None = None


MENU_BUTTONS = [
    {"title": "政策咨询", "payload": "/consult"},
    {"title": "办事指南", "payload": "/request_service_guide"},
    {"title": "投诉建议", "payload": "/complain"},
    {"title": "查询工单", "payload": "/check_ticket"},
    {"title": "转人工客服", "payload": "/request_human"},
]


def settings() -> Settings:
    """The action server's settings: read from the environment once, on first use
    (:func:`use_settings` sets them instead)."""
    global _settings
    if _settings is None:
        _settings = load_settings()
        use_knowledge_dir(_settings.knowledge_dir, _settings.knowledge_reload_seconds)
    return _settings


def use_settings(value: Settings | None) -> None:
    """Use ``value`` as the action server's settings (tests; ``None`` reads the
    environment again on next use)."""
    global _settings, _cipher
    _settings, _cipher = value, None
    if value is not None:
        use_knowledge_dir(value.knowledge_dir, value.knowledge_reload_seconds)


async def get_db() -> Database:
    """The action server's database, connected (and migrated) on first use."""
    global _db, _db_lock
    if _db is not None:
        return _db
    if _db_lock is None:
        _db_lock = asyncio.Lock()
    async with _db_lock:
        if _db is None:
            db = Database.from_settings(settings())
            await db.connect()
            _db = db
    return _db


async def close_database(*_args: Any) -> None:
    """Close the action server's database (its pooled aiosqlite connections run
    in non-daemon threads: left open, they kept the process alive after SIGTERM
    until it was killed)."""
    global _db
    db, _db = _db, None
    if db is not None:
        await db.close()


def _close_with_the_server() -> None:
    """Inside the action server (``python -m bot.action_server``, which builds
    rasa-sdk's own app, or ``python -m rasa_sdk``): close the database when the
    server stops.

    rasa-sdk creates its Sanic app ("rasa_sdk") before importing this package;
    elsewhere (tests, scripts) there is no such app and nothing is registered.
    """
    try:
        from sanic import Sanic

        app = Sanic.get_app("rasa_sdk")
    except Exception:  # noqa: BLE001 - not running inside the action server
        return
    # Several replicas (DATABASE_URL / REDIS_URL): the action server encrypts
    # citizens' phone numbers, so it refuses to start without the shared keys.
    require_shared_secrets(settings(), webchat=False)
    app.register_listener(close_database, "after_server_stop")


_close_with_the_server()


def use_database(db: Database | None) -> None:
    """Point the actions at ``db`` (tests; ``None`` resets to lazy creation)."""
    global _db, _cipher
    _db, _cipher = db, None


def data_cipher() -> Cipher:
    """The key ring of citizens' personal data (``HOTLINE_DATA_KEYS``): the
    database's own when it is open, so a value sealed here opens there."""
    global _cipher
    if _db is not None:
        return _db.cipher
    if _cipher is None:
        _cipher = load_cipher(settings().data_keys)
    return _cipher


def drill_tags(tracker: Tracker) -> dict[str, Any]:
    """``{"drill": True}`` when the front door said this turn is in an emergency
    drill (the turn's metadata, bot/hub_routing.py; hotline_rasa/channel.py lets
    only that part through): the action server's side of the drill flag that
    keeps drills out of the city's figures (bot/emergency)."""
    metadata = tracker.latest_message.get("metadata")
    emergency = metadata.get("emergency") if isinstance(metadata, dict) else None
    return {"drill": True} if isinstance(emergency, dict) and emergency.get("drill") is True else {}


async def record_event(kind: str, tracker: Tracker, **data: Any) -> None:
    """Record a quality event; a failing database never breaks the dialogue."""
    data.update(drill_tags(tracker))
    try:
        db = await get_db()
        await db.events.record(kind, conversation_id=tracker.sender_id, data=data or None)
    except Exception:  # noqa: BLE001 - statistics must not take the answer down
        logger.exception("could not record event %s", kind)


async def keep_unanswered(
    reason: str,
    tracker: Tracker,
    *,
    action: str,
    text: str | None = None,
    parse_data: dict[str, Any] | None = None,
    faq_key: str | None = None,
) -> None:
    """Keep the citizen's question for the knowledge editors (masked by the
    repository) with what the assistant did; never breaks the dialogue.

    ``text`` and ``parse_data`` default to the latest message's.
    """
    parse = parse_data if parse_data is not None else tracker.latest_message
    intent, confidence = understood_intent(parse)
    if intent == "faq":  # the FAQ retriever's guess says more than the intent's
        guessed, selector_confidence = faq_prediction(parse)
        if guessed is not None:
            faq_key, confidence = faq_key or guessed, round(selector_confidence, 4)
    try:
        db = await get_db()
        await db.unanswered.keep(
            reason=reason,
            text=text if text is not None else latest_text(tracker),
            conversation_id=tracker.sender_id,
            intent=intent or None,
            confidence=confidence,
            faq_key=faq_key,
            action=action,
        )
    except Exception:  # noqa: BLE001 - the knowledge loop must not take the answer down
        logger.exception("could not keep an unanswered question (%s)", reason)


def understood_intent(parse_data: dict[str, Any]) -> tuple[str, float | None]:
    """The intent the model saw and its confidence; behind Rasa's fallback,
    the best real intent of the ranking (what it would have guessed)."""
    intent = parse_data.get("intent") or {}
    name = str(intent.get("name") or "")
    confidence = intent.get("confidence")
    if name == "nlu_fallback":
        for ranked in parse_data.get("intent_ranking") or []:
            if ranked.get("name") and ranked.get("name") != "nlu_fallback":
                return str(ranked["name"]), _float(ranked.get("confidence"))
    return name, _float(confidence)


def _float(value: Any) -> float | None:
    try:
        return None if value is None else round(float(value), 4)
    except (TypeError, ValueError):
        return None


def latest_text(tracker: Tracker) -> str:
    return str(tracker.latest_message.get("text") or "").strip()


def latest_intent(tracker: Tracker) -> str:
    return str((tracker.latest_message.get("intent") or {}).get("name") or "")


def faq_prediction(parse_data: dict[str, Any]) -> tuple[str | None, float]:
    """The FAQ id and confidence the FAQ retriever chose for one message
    (``response_selector.faq``, hotline_rasa/faq_retriever.py)."""
    selector = (parse_data.get("response_selector") or {}).get("faq") or {}
    response = selector.get("response") or {}
    key = response.get("intent_response_key") or ""
    confidence = float(response.get("confidence") or 0.0)
    if not key.startswith("faq/"):
        return None, 0.0
    return key.split("/", 1)[1], confidence


def faq_sure_out_of_context(parse_data: dict[str, Any]) -> bool:
    """True when a message the dialogue has no use for where it is (a form's
    answer with no form running, a change with no complaint being filled in)
    is an FAQ question the retriever is sure of (>= FAQ_SURE_OUT_OF_CONTEXT):
    it gets the FAQ answer instead of "not understood"."""
    _, confidence = faq_prediction(parse_data)
    return confidence >= FAQ_SURE_OUT_OF_CONTEXT


def was_understood(parse_data: dict[str, Any]) -> bool:
    """False for a fallback, or an FAQ guess too unsure to answer."""
    intent = (parse_data.get("intent") or {}).get("name")
    if intent == "nlu_fallback":
        return False
    if intent == "faq":
        return faq_prediction(parse_data)[1] >= FAQ_MIN_CONFIDENCE
    return True


#: The action that tells the citizen a message was not understood.
FALLBACK_ACTION = "action_handle_fallback"


def consecutive_misunderstandings(tracker: Tracker, *, latest_missed: bool = False) -> int:
    """How many of the latest user messages in a row were not understood: the
    parse says so, or the fallback action answered them (an answer to a form's
    question with no form running is parsed fine but declined by a rule).
    ``latest_missed``: the fallback action is answering the latest one now."""
    count = 0
    declined = latest_missed  # the fallback action answered the user message before it
    for event in reversed(tracker.events):
        if event.get("event") == "action" and event.get("name") == FALLBACK_ACTION:
            declined = True
            continue
        if event.get("event") != "user":
            continue
        text = str(event.get("text") or "")
        if text.startswith("/"):
            break  # a button press is always understood
        if was_understood(event.get("parse_data") or {}) and not declined:
            break
        count += 1
        declined = False
    return count


# Words that mean someone may be in danger right now (data/danger_words.yml).
# A message the model did not classify as an emergency but that contains one
# of these still gets the emergency numbers first (a safety net, not the
# primary classifier; Rasa's hotline_rasa/safety_net.py reads the same file).
_DANGER = load_danger_words()
EMERGENCY_TEXT = (
    "【如有危险请立即拨打电话】火灾请拨119，有人受伤或急病请拨120，"
    "遇到违法犯罪或人身危险请拨110；燃气泄漏请关阀、开窗、勿开关电器，到安全处拨119。"
)


def sounds_like_danger(text: str) -> bool:
    """True when ``text`` holds words of danger (the safety net's list)."""
    return bool(_DANGER.heard(text))


def parse_alarm(parse_data: dict[str, Any]) -> bool:
    """True when Rasa's safety net (hotline_rasa/safety_net.py) raised an alarm
    for this parse: a word of danger (not vetoed) or its learned detector's
    P(danger) at or above its threshold (``danger: {"p", "alarm", "words",
    "vetoed"}``; absent from a model older than the detector: False)."""
    danger = parse_data.get("danger")
    return isinstance(danger, dict) and danger.get("alarm") is True


def danger_alarm(tracker: Tracker) -> bool:
    """True when the citizen's latest message sounds like danger: the NLU's
    alarm in its parse (a word of the list or the learned detector; a word in
    a message the detector is sure is ordinary is vetoed there), or, for a
    parse without one (a model older than the detector), a word of the list
    in its text."""
    parse = tracker.latest_message or {}
    if isinstance(parse.get("danger"), dict):
        return parse_alarm(parse)
    return sounds_like_danger(latest_text(tracker))


def warn_if_danger(dispatcher: CollectingDispatcher, tracker: Tracker) -> bool:
    """Utter the emergency numbers first when the latest message sounds like
    danger (:func:`danger_alarm`)."""
    if danger_alarm(tracker):
        dispatcher.utter_message(text=EMERGENCY_TEXT)
        return True
    return False


def warned_in_form(tracker: Tracker, form: str) -> bool:
    """True when the emergency numbers were said since ``form`` last began
    (its ``active_loop`` event) or in the turn that began it (the start
    actions put them first: actions/complaints.py, guidance.py), by the safety
    net or the ``utter_emergency`` response: both texts name 119."""
    began = False
    for event in reversed(tracker.events):
        kind = event.get("event")
        if kind == "bot" and "119" in str(event.get("text") or ""):
            return True
        if kind == "active_loop" and event.get("name") == form:
            began = True
        elif kind == "user" and began:
            return False
    return False
    return False


async def parse_text(text: str) -> dict[str, Any] | None:
    """The model's NLU result for ``text`` (Rasa's ``/model/parse`` at
    ``RASA_URL``, or one of ``RASA_URLS`` that is reached, with
    ``RASA_AUTH_TOKEN``); None when Rasa does not answer.

    A client per call: a several-question message is rare, and a client kept
    open would outlive the event loop of whoever called first."""
    from bot.rasa_client import RasaUnavailable
    from bot.rasa_pool import RasaPool

    config = settings()
    token = config.rasa_auth_token
    client = RasaPool(
        config.rasa_servers,
        PARSE_TIMEOUT,
        auth_token=str(token) if token else None,
        probe_interval=0,
    )
    try:
        return dict(await client.parse(text))
    except RasaUnavailable as exc:
        logger.warning("could not parse a part of a message: %s", exc)
        return None
    finally:
        await client.close()


#: Seconds one part of a several-question message may take to parse.
PARSE_TIMEOUT = 5.0
