"""bot/messages and TranscriptEntry: hand-written to_dict() matches the dataclass fields."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

from bot.db.models import LOCAL_TZ, TranscriptEntry
from bot.messages import Attachment, Button, InboundMessage, OutboundMessage


def _json(value: object) -> object:
    """What every consumer of to_dict() sees: its JSON (tuples and lists alike)."""
    return json.loads(json.dumps(value, ensure_ascii=False))


def test_inbound_to_dict_is_asdict_plus_the_conversation_id_and_round_trips() -> None:
    msg = InboundMessage(
        channel="wechat", channel_user_id="o-1", message_id="m-1", text="我要投诉噪音",
        payload=None, attachments=(Attachment("location", None, {"lat": 23.0, "label": "南城"}),),
        metadata={"msg_type": "text", "nested": {"a": [1, 2]}},
    )  # fmt: skip
    data = msg.to_dict()
    assert _json(data) == _json({**dataclasses.asdict(msg), "conversation_id": "wechat:o-1"})
    assert InboundMessage.from_dict(json.loads(json.dumps(data))) == msg
    data["metadata"]["msg_type"] = "changed"  # a copy: the frozen message is unchanged
    assert msg.metadata["msg_type"] == "text"


def test_outbound_to_dict_is_asdict_and_round_trips() -> None:
    reply = OutboundMessage(
        text="请选择：", buttons=(Button("转人工", "/request_human"),), custom={"k": 1}
    )
    assert _json(reply.to_dict()) == _json(dataclasses.asdict(reply))
    assert OutboundMessage.from_dict(json.loads(json.dumps(reply.to_dict()))) == reply


def test_transcript_row_has_every_column_value() -> None:
    at = dt.datetime(2026, 11, 29, 9, 0, tzinfo=LOCAL_TZ)
    entry = TranscriptEntry(1, "rest:u", "rest", "in", "citizen", "m", "你好", {"x": [1]}, at)
    assert entry.to_row() == dataclasses.asdict(entry)
