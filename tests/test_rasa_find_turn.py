"""Reading a turn back from Rasa's tracker (bot/rasa_client.py ``find_turn``,
``replies_to``): what a replica uses when it takes over a message that a
replica that died may already have had Rasa run."""

from __future__ import annotations

from typing import Any

from bot.rasa_client import RasaClient, replies_to
from bot.rasa_pool import RasaPool
from tests.fakes.rasa import FakeRasa


def user(text: str, message_id: str | None, where: str = "metadata") -> dict[str, Any]:
    meta = {"hotline_message_id": message_id} if message_id else {}
    if where == "parse_data":
        return {"event": "user", "text": text, "metadata": {}, "parse_data": {"metadata": meta}}
    return {"event": "user", "text": text, "metadata": meta}


def bot(text: str | None, **data: Any) -> dict[str, Any]:
    return {"event": "bot", "text": text, "data": data}


def test_the_replies_after_the_message_up_to_the_next_one() -> None:
    buttons = [{"title": "是", "payload": "/affirm"}]
    events = [
        {"event": "action", "name": "action_listen"},
        user("你好", "m1"),
        bot("您好，我是东莞12345智能助手"),
        {"event": "action", "name": "action_listen"},
        user("我要投诉", "m2", where="parse_data"),
        {"event": "slot", "name": "x", "value": 1},
        bot("请描述一下具体情况", buttons=buttons, image=None),
        bot(None, custom={"handoff": {"reason": "x"}}),
        user("楼下很吵", "m3"),
        bot("好的"),
    ]
    assert replies_to(events, "s", "m1") == [
        {"recipient_id": "s", "text": "您好，我是东莞12345智能助手"}
    ]
    assert replies_to(events, "s", "m2") == [
        {"recipient_id": "s", "text": "请描述一下具体情况", "buttons": buttons},
        {"recipient_id": "s", "custom": {"handoff": {"reason": "x"}}},
    ]
    assert replies_to(events, "s", "m4") is None  # never reached Rasa


def test_an_undone_turn_counts_as_not_run() -> None:
    events = [user("确认", "m9"), {"event": "rewind"}]
    assert replies_to(events, "s", "m9") is None
    assert replies_to([user("确认", "m9")], "s", "m9") == []  # ran, said nothing (yet)


async def test_find_turn_reads_the_tracker_of_one_server_and_of_the_pool() -> None:
    rasa = FakeRasa()
    await rasa.start()
    client = RasaClient(rasa.url, 5.0, auth_token="t" * 32)
    pool = RasaPool([rasa.url], 5.0, auth_token="t" * 32)
    try:
        await client.send("rest:a:b", "你好", {"message_id": "m1"})
        assert await client.find_turn("rest:a:b", "m1") == [
            {"recipient_id": "rest:a:b", "text": "echo: 你好"}
        ]
        assert await client.find_turn("rest:a:b", "m2") is None
        assert await pool.find_turn("rest:a:b", "m1") == [
            {"recipient_id": "rest:a:b", "text": "echo: 你好"}
        ]
        assert await client.find_turn("rest:a b", "m1") is None  # cannot be named in a path
    finally:
        await client.close()
        await pool.close()
        await rasa.close()
