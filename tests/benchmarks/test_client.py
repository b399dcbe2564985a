"""The benchmark's widget client reads a turn's frames as the whole-log judge does."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from benchmark_paths import TurnWatch, _replies_after  # noqa: E402


def msg(direction: str, text: str = "", **extra: Any) -> dict[str, Any]:
    return {"type": "message", "direction": direction, "text": text, **extra}


LOG = [
    msg("in", "上一句", id="a"),
    msg("out", "上一句的回复"),
    {"type": "ack", "id": "b", "status": "pending"},
    msg("in", "居住证怎么办", id="b"),
    {"type": "typing", "on": True},
    msg("out", "第一条"),
    msg("out", "第二条"),
    msg("in", "下一句", id="c"),
    msg("out", "下一句的回复"),
]


async def test_watch_answers_when_acked_and_enough_replies_and_matches_the_judge() -> None:
    watch = TurnWatch("b", wanted=2)
    for index, frame in enumerate(LOG):
        watch.see(frame)
        if index < 6:
            assert not watch.done.done(), index
    assert watch.done.result() is None
    assert watch.replies == _replies_after(LOG, "b") == ["第一条", "第二条"]


async def test_watch_waits_for_the_ack() -> None:
    watch = TurnWatch("b", wanted=1)
    for frame in [msg("in", "x", id="b"), msg("out", "回复")]:
        watch.see(frame)
    assert not watch.done.done()
    watch.see({"type": "ack", "id": "b", "status": "ok"})
    assert watch.done.result() is None


async def test_watch_stops_at_the_next_inbound_echo() -> None:
    watch = TurnWatch("b", wanted=3)
    for frame in LOG:
        watch.see(frame)
    assert not watch.done.done()  # "下一句的回复" belongs to the next message
    assert watch.replies == _replies_after(LOG, "b")


async def test_watch_ends_on_an_error_frame_a_busy_reply_or_a_closed_socket() -> None:
    refused = TurnWatch("b", wanted=1)
    refused.see({"type": "error", "id": "b", "code": "rate_limited"})
    assert refused.done.result() == "ws error rate_limited"
    other = TurnWatch("b", wanted=1)
    other.see({"type": "error", "id": "z", "code": "rate_limited"})
    assert not other.done.done()
    busy = TurnWatch("b", wanted=2)
    for frame in [{"type": "ack", "id": "b"}, msg("in", "x", id="b"), msg("out", "系统繁忙，稍后")]:
        busy.see(frame)
    assert busy.done.result() == "busy reply"
    closed = TurnWatch("b", wanted=1)
    closed.closed()
    assert closed.done.result() == "socket closed"


def test_rasas_faq_note_is_not_expected_of_the_front_door() -> None:
    """Rasa's custom-only {"answer": ...} message is folded by the front door
    into the answer before it: the reference recorded on Rasa leaves it out."""
    from benchmark_paths import answer_note_only

    assert answer_note_only({"recipient_id": "a", "custom": {"answer": {"faq": "social_security"}}})
    assert not answer_note_only({"recipient_id": "a", "text": "答案"})
    assert not answer_note_only({"custom": {"handoff": {"reason": "x"}}})
    assert not answer_note_only({"text": "答案", "custom": {"answer": {"faq": "k"}}})
