"""有帮助/没帮助 on the assistant's FAQ answers, through the real front door:
the answer frame names its FAQ, one vote per answer, the event
``answer.feedback``, and a thumbs-down keeps the question (masked)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.db.schema import events
from bot.store import MemoryStore
from tests.channels.webchat.test_channel import connect, front_door, messages, new_session
from tests.fakes.db import TempDatabase
from tests.fakes.rasa import FakeRasa
from tests.support.waiting import frames_until

ANSWER = "可以通过粤省事查询社保缴费记录。"
FAQ_REPLY = [
    {"text": ANSWER, "buttons": [{"title": "问题解决了", "payload": "/thank"}]},
    {"custom": {"answer": {"faq": "si_payment_record"}}},
]


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBCHAT_SECRET", "test-secret-0123456789-abcdefghijklmnopqrstuvwxyz")


@pytest.fixture
def db() -> TempDatabase:
    return TempDatabase()


@pytest.fixture
async def client(
    aiohttp_client: Callable[..., Any], db: TempDatabase, fake_rasa: FakeRasa
) -> TestClient:
    fake_rasa.replies["我电话13812345678社保咋查"] = FAQ_REPLY
    app: web.Application = front_door(MemoryStore(), db, fake_rasa)
    return await aiohttp_client(app)


async def _answer(client: TestClient) -> tuple[Any, dict[str, Any], list[dict[str, Any]]]:
    session = await new_session(client)
    ws = await connect(client, session["token"])
    await ws.send_json({"type": "message", "id": "c-1", "text": "我电话13812345678社保咋查"})
    frames = await frames_until(ws, lambda fs: any(f.get("faq") for f in messages(fs, "out")))
    return ws, session, frames


async def _events(db: TempDatabase, kind: str) -> list[dict[str, Any]]:
    async with db.read() as conn:
        rows = (await conn.execute(sa.select(events).where(events.c.kind == kind))).all()
    return [dict(r._mapping) for r in rows]


async def test_the_answer_frame_names_its_faq_and_the_note_is_not_shown(
    client: TestClient,
) -> None:
    ws, _, frames = await _answer(client)
    [reply] = messages(frames, "out")
    assert reply["text"] == ANSWER and reply["faq"] == "si_payment_record"
    assert reply["buttons"] == [{"title": "问题解决了", "payload": "/thank"}]
    [question] = messages(frames, "in")
    assert "faq" not in question
    await ws.close()


async def test_thumbs_down_is_recorded_once_and_keeps_the_question(
    client: TestClient, db: TempDatabase
) -> None:
    ws, session, frames = await _answer(client)
    [reply] = messages(frames, "out")
    cid = f"webchat:{session['session_id']}"
    await ws.send_json({"type": "feedback", "seq": reply["seq"], "vote": "down"})
    got = await frames_until(ws, lambda fs: any(f["type"] == "feedback" for f in fs))
    assert got[-1] == {
        "type": "feedback",
        "seq": reply["seq"],
        "vote": "down",
        "status": "recorded",
    }
    await ws.send_json({"type": "feedback", "seq": reply["seq"], "vote": "up"})
    again = await frames_until(ws, lambda fs: any(f["type"] == "feedback" for f in fs))
    assert again[-1]["status"] == "already"
    [event] = await _events(db, "answer.feedback")
    assert event["conversation_id"] == cid
    assert event["data"] == {"faq_key": "si_payment_record", "vote": "down"}
    [row] = await db.unanswered.all_rows()
    assert row["reason"] == "thumbs_down" and row["faq_key"] == "si_payment_record"
    assert row["text"] == "我电话138****5678社保咋查" and row["action"] == "action_answer_faq"
    await ws.close()


async def test_thumbs_up_keeps_no_question(client: TestClient, db: TempDatabase) -> None:
    ws, _, frames = await _answer(client)
    [reply] = messages(frames, "out")
    await ws.send_json({"type": "feedback", "seq": reply["seq"], "vote": "up"})
    got = await frames_until(ws, lambda fs: any(f["type"] == "feedback" for f in fs))
    assert got[-1]["status"] == "recorded"
    assert [e["data"]["vote"] for e in await _events(db, "answer.feedback")] == ["up"]
    assert await db.unanswered.all_rows() == []
    await ws.close()


async def test_a_vote_on_anything_but_an_faq_answer_is_refused(
    client: TestClient, db: TempDatabase
) -> None:
    ws, _, frames = await _answer(client)
    [question] = messages(frames, "in")
    await ws.send_json({"type": "feedback", "seq": question["seq"], "vote": "down"})
    got = await frames_until(ws, lambda fs: any(f["type"] == "feedback" for f in fs))
    assert got[-1]["status"] == "not_an_answer"
    await ws.send_json({"type": "feedback", "seq": 10_000, "vote": "down"})
    got = await frames_until(ws, lambda fs: any(f["type"] == "feedback" for f in fs))
    assert got[-1]["status"] == "not_an_answer"
    await ws.send_json({"type": "feedback", "seq": question["seq"], "vote": "meh"})
    bad = await frames_until(ws, lambda fs: any(f["type"] == "error" for f in fs))
    assert bad[-1]["code"] == "bad_frame"
    assert await _events(db, "answer.feedback") == [] and await db.unanswered.all_rows() == []
    await ws.close()


async def test_another_session_cannot_vote_on_this_answer(
    client: TestClient, db: TempDatabase
) -> None:
    ws, _, frames = await _answer(client)
    [reply] = messages(frames, "out")
    other = await new_session(client)
    other_ws = await connect(client, other["token"])
    await other_ws.send_json({"type": "feedback", "seq": reply["seq"], "vote": "down"})
    got = await frames_until(other_ws, lambda fs: any(f["type"] == "feedback" for f in fs))
    assert got[-1]["status"] == "not_an_answer"
    assert await db.unanswered.all_rows() == []
    await ws.close()
    await other_ws.close()
