"""Only the front door's emergency switch and message id of a turn's metadata
reach Rasa's tracker (hotline_rasa/channel.py ``TokenRestInput.get_metadata``)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from hotline_rasa.channel import TokenRestInput

CHANNEL = TokenRestInput("t" * 32)


def metadata_of(body: Any) -> Any:
    return CHANNEL.get_metadata(SimpleNamespace(json=body))  # type: ignore[arg-type]


def test_only_the_emergency_switch_is_kept() -> None:
    body = {
        "sender": "webchat:s1",
        "message": "你好",
        "metadata": {
            "channel": "webchat",
            "client_address": "203.0.113.9",
            "emergency": {"period_id": 7, "drill": True, "extra": "dropped"},
        },
    }
    assert metadata_of(body) == {"emergency": {"period_id": 7, "drill": True}}


def test_no_switch_no_metadata() -> None:
    assert metadata_of({"sender": "a", "message": "b", "metadata": {"channel": "rest"}}) is None
    assert metadata_of({"sender": "a", "message": "b"}) is None
    assert metadata_of({"metadata": {"emergency": "on"}}) is None
    assert metadata_of(["not", "a", "dict"]) is None
    drill = {"metadata": {"emergency": {"period_id": 1, "drill": "yes"}}}
    assert metadata_of(drill) == {"emergency": {"period_id": 1, "drill": False}}


def test_the_front_doors_message_id_is_kept() -> None:
    body = {"metadata": {"channel": "wechat", "message_id": "24601", "client_address": "x"}}
    assert metadata_of(body) == {"hotline_message_id": "24601"}
    both = {"metadata": {"message_id": "m1", "emergency": {"period_id": 2, "drill": False}}}
    assert metadata_of(both) == {
        "emergency": {"period_id": 2, "drill": False},
        "hotline_message_id": "m1",
    }
    for bad in ("", "x" * 129, 7, None):
        assert metadata_of({"metadata": {"message_id": bad}}) is None
