"""Whole conversations through the trained model (a Rasa server from the Rasa
environment, its REST channel with the token), the real action server and a
real SQLite database: every flow a citizen meets."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from actions._runtime import faq_prediction
from actions.thresholds import FAQ_ANSWER_CONFIDENCE
from bot.db import Database
from bot.db.crypto import load_cipher
from bot.knowledge import load_faq
from tests.rasa.conftest import RASA_TOKEN

pytestmark = pytest.mark.rasa


@pytest.fixture
def webhook(rasa_server: dict[str, str]) -> str:
    """Where a citizen's turn goes: Rasa's REST channel."""
    return rasa_server["url"] + "/webhooks/rest/webhook"


class Citizen:
    def __init__(self, webhook: str) -> None:
        self.webhook = webhook
        self.sender = f"rest:{uuid.uuid4().hex[:12]}"

    async def say(self, text: str) -> list[dict[str, Any]]:
        """One turn: Rasa's replies (``text``, ``buttons``, ``custom``, ...)."""
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                self.webhook,
                json={"sender": self.sender, "message": text},
                headers={"Authorization": f"Bearer {RASA_TOKEN}"},
                timeout=aiohttp.ClientTimeout(total=120),
            ) as resp,
        ):
            assert resp.status == 200, await resp.text()
            replies = await resp.json()
        assert isinstance(replies, list)
        return replies

    @staticmethod
    def text(replies: list[dict[str, Any]]) -> str:
        return "\n".join(r.get("text") or "" for r in replies)


def payloads(replies: list[dict[str, Any]]) -> list[str]:
    return [b["payload"] for r in replies for b in r.get("buttons") or []]


async def action_db(action_server: dict[str, str]) -> Database:
    cipher = load_cipher(action_server["keys"])
    db = Database(f"sqlite:///{Path(action_server['var']) / 'hotline.db'}", cipher=cipher)
    await db.connect()
    return db


async def test_greeting_says_who_is_answering_and_offers_services(webhook: str) -> None:
    replies = await Citizen(webhook).say("你好")
    assert "东莞12345" in Citizen.text(replies) and "智能助手" in Citizen.text(replies)
    assert {"/consult", "/request_service_guide", "/complain", "/request_human"} <= set(
        payloads(replies)
    )


async def test_identity(webhook: str) -> None:
    replies = await Citizen(webhook).say("你是机器人还是真人")
    assert "智能助手" in Citizen.text(replies)


async def test_faq_answered_from_the_knowledge_file(webhook: str) -> None:
    entries = list(load_faq().values())
    for entry in entries[:: max(1, len(entries) // 8)]:
        replies = await Citizen(webhook).say(entry.question)
        assert entry.answer in Citizen.text(replies), entry.id


async def test_every_faq_question_parses_back_to_its_entry(rasa_server: dict[str, str]) -> None:
    """The confirm button of an unsure FAQ guess (actions/faq.py ``confirm_entry``)
    sends the entry's own question: the model must read it as that entry, sure
    enough to answer it at once, or the citizen would be asked again."""
    wrong = []
    async with aiohttp.ClientSession() as session:
        for entry in load_faq().values():
            async with session.post(
                rasa_server["url"] + f"/model/parse?token={RASA_TOKEN}",
                json={"text": entry.question},
                timeout=aiohttp.ClientTimeout(total=120),
            ) as resp:
                assert resp.status == 200, await resp.text()
                parse = await resp.json()
            faq_id, confidence = faq_prediction(parse)
            if parse["intent"]["name"] != "faq" or faq_id != entry.id:
                wrong.append((entry.id, parse["intent"]["name"], faq_id))
            elif confidence < FAQ_ANSWER_CONFIDENCE:
                wrong.append((entry.id, "unsure", confidence))
    assert not wrong, wrong


async def test_guidance_asks_the_way_then_answers_from_the_catalog(webhook: str) -> None:
    citizen = Citizen(webhook)
    replies = await citizen.say("我想办居住证")
    assert '/inform_service_mode{"service_mode":"offline"}' in payloads(replies)
    replies = await citizen.say('/inform_service_mode{"service_mode":"offline"}')
    text = Citizen.text(replies)
    assert "居住证" in text and "所需材料" in text and "办理地点" in text


async def test_guidance_asks_which_service_when_unclear(webhook: str) -> None:
    citizen = Citizen(webhook)
    replies = await citizen.say("我想办个业务")
    assert "哪项业务" in Citizen.text(replies)
    await citizen.say("社保卡")
    replies = await citizen.say("网上办")
    assert "社保卡" in Citizen.text(replies) and "办理入口" in Citizen.text(replies)


async def test_complaint_with_correction_creates_exactly_one_ticket(
    webhook: str, action_server: dict[str, str]
) -> None:
    citizen = Citizen(webhook)
    replies = await citizen.say("楼下KTV每天半夜唱歌太吵了我要投诉")
    assert "哪里" in Citizen.text(replies)
    assert "什么时候" in Citizen.text(await citizen.say("在南城区鸿福路"))
    assert "手机号码" in Citizen.text(await citizen.say("每天晚上十一点以后"))
    assert "格式" in Citizen.text(await citizen.say("138"))
    assert "称呼" in Citizen.text(await citizen.say("13812345678"))
    summary = Citizen.text(await citizen.say("王先生"))
    assert "南城区鸿福路" in summary and "138****5678" in summary and "13812345678" not in summary
    await citizen.say('/edit_complaint{"field":"complaint_where"}')
    summary = Citizen.text(await citizen.say("东城区万达广场旁边"))
    assert "东城区万达广场旁边" in summary and "鸿福路" not in summary
    done = Citizen.text(await citizen.say("/affirm"))
    assert "工单编号" in done and "工作日" in done
    await citizen.say("/affirm")  # a double click must not create a second ticket
    db = await action_db(action_server)
    try:
        mine = [t for t in await db.tickets.list(limit=200) if t.conversation_id == citizen.sender]
    finally:
        await db.close()
    assert len(mine) == 1
    assert mine[0].location == "东城区万达广场旁边" and mine[0].number in done
    status = Citizen.text(await citizen.say(f"查一下工单{mine[0].number}"))
    assert "后四位" in status
    status = Citizen.text(await citizen.say("5678"))
    assert mine[0].number in status and "承办部门" in status


async def test_citizen_changes_their_mind_during_the_complaint(webhook: str) -> None:
    citizen = Citizen(webhook)
    await citizen.say("我要投诉")
    await citizen.say("小区门口的路灯坏了一个多月了")
    replies = await citizen.say("算了不投诉了")
    assert "已取消" in Citizen.text(replies)
    replies = await citizen.say("你好")
    assert "智能助手" in Citizen.text(replies)


async def test_asking_for_a_person_signals_a_handoff(webhook: str) -> None:
    replies = await Citizen(webhook).say("转人工")
    custom = [r["custom"] for r in replies if r.get("custom")]
    assert custom and custom[0]["handoff"]["reason"] == "citizen_request"


async def test_emergency_gets_the_emergency_numbers_first(webhook: str) -> None:
    replies = await Citizen(webhook).say("救命啊我家厨房着火了")
    assert "119" in (replies[0].get("text") or "")
    custom = [r["custom"] for r in replies if r.get("custom")]
    assert custom and custom[0]["handoff"]["priority"] == "urgent"


async def test_out_of_scope_gets_an_honest_answer(webhook: str) -> None:
    replies = await Citizen(webhook).say("给我讲个笑话吧")
    assert "不在12345" in Citizen.text(replies)
    assert not any(e.answer in Citizen.text(replies) for e in load_faq().values())


async def test_goodbye_offers_a_rating_that_is_stored(
    webhook: str, action_server: dict[str, str]
) -> None:
    citizen = Citizen(webhook)
    replies = await citizen.say("好的没事了再见")
    assert '/rate{"rating":"5"}' in payloads(replies)
    replies = await citizen.say('/rate{"rating":"5"}')
    assert "感谢您的评价" in Citizen.text(replies)
    db = await action_db(action_server)
    try:
        assert (await db.events.counts("rating")).get("rating", 0) >= 1
    finally:
        await db.close()
