"""Rasa's Redis tracker store, with citizens' numbers masked before they are stored.

Used by endpoints.redis.yml as
``type: hotline_rasa.tracker_store.MaskingRedisTrackerStore``. Rasa keeps a
conversation's tracker in Redis between turns; without this class every
phone, ID and bank-card number a citizen typed sat there in plaintext until
the key expired.

What is masked (``hotline_rasa.masking``): in every stored event the user's
text, the parse data (its text and entity values), entity values, slot
values and bot texts. Rasa itself keeps working on the unmasked tracker in
memory during the turn (the model, the forms and the action server see what
the citizen typed); only the stored copy, which the next turn reloads, is
masked. What the dialogue needs across turns in full is stored by the action
server already encrypted (``enc:`` + a Fernet token: the complaint form's
``contact_phone``, see actions/complaints.py) and passes through unchanged:
only plaintext is masked. Event metadata (channel, message id) is not
citizen text and is kept.

Expiry: ``record_exp`` defaults to the hotline's retention period
(``RETENTION_DAYS``, 180 days, the same setting the front door's retention
sweep uses; ``bot.config``). A tracker untouched for that long expires; an
explicit ``record_exp`` in endpoints.yml still wins.

This module runs inside Rasa's process and must not import ``bot``.
"""

from __future__ import annotations

import json
import os
from typing import Any

from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import RedisTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker

from hotline_rasa.masking import mask_value
from hotline_rasa.redis_options import redis_options

RETENTION_ENV = "RETENTION_DAYS"
DEFAULT_RETENTION_DAYS = 180
#: Keys of a stored event whose values can hold what a citizen typed.
MASKED_KEYS = ("text", "parse_data", "entities", "value", "data")


def retention_seconds(environ: Any = None) -> float:
    """``RETENTION_DAYS`` (default 180) in seconds; a bad value fails loudly."""
    raw = (os.environ if environ is None else environ).get(RETENTION_ENV) or ""
    days = float(raw) if raw.strip() else DEFAULT_RETENTION_DAYS
    if days <= 0:
        raise ValueError(f"{RETENTION_ENV} must be a positive number of days")
    return days * 86400.0


def mask_event(event: dict[str, Any]) -> dict[str, Any]:
    """A stored event with the citizen's numbers masked (see the module doc)."""
    return {k: mask_value(v) if k in MASKED_KEYS else v for k, v in event.items()}


class MaskingRedisTrackerStore(RedisTrackerStore):
    """:class:`RedisTrackerStore` that stores masked events (see the module doc)."""

    def __init__(
        self,
        domain: Domain,
        host: str = "localhost",
        port: int | str = 6379,
        db: int | str = 0,
        username: str | None = None,
        password: str | None = None,
        event_broker: EventBroker | None = None,
        record_exp: float | str | None = None,
        key_prefix: str | None = None,
        **kwargs: Any,
    ) -> None:
        # endpoints.yml's ${VAR} substitution yields strings: use_ssl "false"
        # is no TLS, an empty ssl_ca_certs is none (hotline_rasa.redis_options)
        expiry = float(record_exp) if record_exp not in (None, "") else retention_seconds()
        options = redis_options(
            {"port": port, "db": db, "username": username, "password": password, **kwargs}
        )
        super().__init__(
            domain,
            host=host,
            event_broker=event_broker,
            record_exp=int(expiry),
            key_prefix=key_prefix,
            **options,
        )

    @staticmethod
    def serialise_tracker(tracker: DialogueStateTracker) -> str:
        """Rasa's text serialisation (SerializedTrackerAsText), events masked."""
        dialogue = tracker.as_dialogue().as_dict()
        dialogue["events"] = [mask_event(event) for event in dialogue.get("events") or []]
        return json.dumps(dialogue)
