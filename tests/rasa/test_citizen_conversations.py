"""Issue 21: conversations as citizens have them, turn by turn, through the
trained model (a Rasa server from the Rasa environment, its REST channel), the
real action server and its SQLite database; the last one also through the
front door (the handoff path with nobody online)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import pytest
from cryptography.fernet import Fernet

from bot.app import create_app
from bot.config import ConsoleSettings, ServiceHours, Settings, parse_rest_tokens
from bot.db import Database
from bot.db.crypto import Cipher
from bot.knowledge import format_answer, load_faq
from bot.rasa_client import RasaClient
from bot.store.memory import MemoryStore
from channels import registry
from tests.rasa.conftest import RASA_TOKEN
from tests.rasa.test_dialogue import Citizen, action_db, payloads

pytestmark = pytest.mark.rasa


@pytest.fixture
def webhook(rasa_server: dict[str, str]) -> str:
    return rasa_server["url"] + "/webhooks/rest/webhook"


def texts(replies: list[dict[str, Any]]) -> list[str]:
    return [r["text"] for r in replies if r.get("text")]


async def my_tickets(action_server: dict[str, str], sender: str) -> list[Any]:
    db = await action_db(action_server)
    try:
        return [t for t in await db.tickets.list(limit=500) if t.conversation_id == sender]
    finally:
        await db.close()


# --- (1) the ticket number: asked once, or taken from the first sentence -----


async def test_ticket_progress_without_a_number_asks_for_it_once(webhook: str) -> None:
    citizen = Citizen(webhook)
    said = texts(await citizen.say("查一下我的工单进度"))
    assert len(said) == 1, said  # used to be three prompts at once
    assert "工单编号" in said[0] and "格式不对" not in said[0] and "后四位" not in said[0]
    said = texts(await citizen.say("20261205-000004"))
    assert len(said) == 1 and "后四位" in said[0], said


async def test_a_ticket_number_in_the_first_sentence_is_taken(webhook: str) -> None:
    said = texts(await Citizen(webhook).say("我的工单20261205-000004到哪一步了"))
    assert len(said) == 1 and "后四位" in said[0], said


async def test_not_knowing_the_number_gets_help_not_a_format_error(webhook: str) -> None:
    citizen = Citizen(webhook)
    assert "工单编号" in Citizen.text(await citizen.say("查一下我的工单"))
    replies = await citizen.say("不知道")
    text = Citizen.text(replies)
    assert "格式不对" not in text and "登记成功时" in text
    assert "/request_human" in payloads(replies)
    assert "已取消" in Citizen.text(await citizen.say("算了"))


# --- (5) every question: 不知道, 跳过, 上一步, corrections; the summary -------


async def test_a_complaint_with_skips_a_step_back_and_corrections(
    webhook: str, action_server: dict[str, str]
) -> None:
    citizen = Citizen(webhook)
    said = texts(await citizen.say("我要投诉"))
    assert "发生了什么" in said[-1]  # issue 18: what happened is asked first
    assert not any("格式" in s or "具体描述" in s for s in said), said
    assert "哪里" in Citizen.text(await citizen.say("小区门口的路灯坏了一个多月了"))
    assert "什么时候" in Citizen.text(await citizen.say("不知道"))
    assert "手机号码" in Citizen.text(await citizen.say("跳过"))
    assert "什么时候" in Citizen.text(await citizen.say("上一步"))
    assert "手机号码" in Citizen.text(await citizen.say("从上个月初开始"))
    text = Citizen.text(await citizen.say("地址说错了，是东城街道东纵路"))
    assert "地点已改为：东城街道东纵路" in text and "手机号码" in text and "格式" not in text
    assert "称呼" in Citizen.text(await citizen.say("13812345678"))
    summary = Citizen.text(await citizen.say("跳过"))
    for shown in ("小区门口的路灯坏了一个多月了", "东城街道东纵路", "从上个月初开始",
                  "138****5678", "称呼：未提供", "转交："):  # fmt: skip
        assert shown in summary, (shown, summary)
    summary = Citizen.text(await citizen.say("时间说错了，是上个月中旬"))
    assert "时间：上个月中旬" in summary and "东城街道东纵路" in summary
    done = Citizen.text(await citizen.say("/affirm"))
    assert "工单编号" in done
    [ticket] = await my_tickets(action_server, citizen.sender)
    assert ticket.location == "东城街道东纵路" and ticket.occurred_at == "上个月中旬"
    assert ticket.description == "小区门口的路灯坏了一个多月了"
    assert ticket.contact_name is None
    assert f"转交：{ticket.department_name}" in summary  # where the summary said it goes


async def test_back_from_the_summary_and_cancel_with_suanle(webhook: str) -> None:
    citizen = Citizen(webhook)
    await citizen.say("我要投诉楼下烧烤店油烟太大了熏得没法开窗")
    await citizen.say("南城街道")
    await citizen.say("每天晚上")
    summary = Citizen.text(await citizen.say("匿名"))
    assert "确认" in summary
    assert "手机号码" in Citizen.text(await citizen.say("上一步"))
    assert "已取消" in Citizen.text(await citizen.say("算了"))


async def test_changing_an_answer_with_nothing_pending_starts_no_blank_form(webhook: str) -> None:
    """ "上一步"/"地址说错了" with no complaint being written used to open an
    empty complaint form ("请简要描述您要反映的事情") for a complaint never started."""
    citizen = Citizen(webhook)
    text = Citizen.text(await citizen.say("上一步"))
    assert "发生了什么" not in text and "请确认" not in text
    text = Citizen.text(await citizen.say("地址说错了，是东城街道"))
    assert "目前没有正在填写" in text and "发生了什么" not in text and "请确认" not in text


async def test_a_problem_on_an_faq_entrys_subject_gets_the_rules_then_the_complaint(
    webhook: str,
) -> None:
    """A problem told in a line on an FAQ entry's very subject (the complaint
    arbiter's sure_faq_threshold): the entry's answer first, then the
    complaint with how to leave it; "取消" leaves it with the rules given."""
    citizen = Citizen(webhook)
    said = texts(await citizen.say("有人在楼顶违建加盖"))
    rules = load_faq()["um_illegal_building_definition"]
    assert len(said) >= 3 and said[0] == format_answer(rules), said
    assert said[1].startswith("您说的情况，我可以帮您登记投诉"), said
    assert "已取消" in Citizen.text(await citizen.say("取消"))


async def test_guidance_takes_dont_know_and_back(webhook: str) -> None:
    citizen = Citizen(webhook)
    said = texts(await citizen.say("我想办个业务"))
    assert len(said) == 1 and "哪项业务" in said[0], said  # no "没有找到这个事项" first
    text = Citizen.text(await citizen.say("不知道"))
    assert "没有找到" not in text and "想办什么事" in text
    assert "网上办理" in Citizen.text(await citizen.say("社保卡"))
    assert "哪项业务" in Citizen.text(await citizen.say("上一步"))


# --- (3) a complaint about the hotline's own service -------------------------


@pytest.mark.parametrize(
    "upset",
    [
        "你们这个办事效率太差了，我都打了三次电话了！！",
        "打了好几次热线都没人管，你们这服务也太差了",
    ],
)
async def test_a_complaint_about_the_service_gets_an_apology_and_a_person(
    webhook: str, upset: str
) -> None:
    replies = await Citizen(webhook).say(upset)
    text = Citizen.text(replies)
    assert "抱歉" in text and "哪里" not in text and "发生在" not in text
    assert payloads(replies)[:2] == ["/request_human", "/record_service_complaint"]


async def test_a_service_complaint_goes_to_the_hotline_supervisors(
    webhook: str, action_server: dict[str, str]
) -> None:
    citizen = Citizen(webhook)
    upset = "你们这个办事效率太差了，我都打了三次电话了！！"
    await citizen.say(upset)
    text = Citizen.text(await citizen.say("/record_service_complaint"))
    assert "服务监督组" in text and "什么时候" in text and "哪里" not in text
    assert "手机号码" in Citizen.text(await citizen.say("这周一到周三"))
    summary = Citizen.text(await citizen.say("匿名"))
    assert upset in summary and "12345热线服务监督组" in summary and "地点" not in summary
    await citizen.say("/affirm")
    [ticket] = await my_tickets(action_server, citizen.sender)
    assert ticket.category == "hotline_service" and ticket.department == "hotline_supervision"
    assert ticket.location is None and ticket.description == upset


# --- (2) two questions in one message ----------------------------------------


async def test_two_questions_in_one_message_are_both_taken_up(webhook: str) -> None:
    replies = await Citizen(webhook).say(
        "我问你个事，医保和社保有什么区别，另外公积金能不能取出来交房租"
    )
    text = Citizen.text(replies)
    assert "没太理解" not in text
    answers = [e for e in load_faq().values() if e.answer in text]
    assert answers and all(e.domain in ("housing_provident_fund", "medical_insurance",
                                        "social_insurance") for e in answers)  # fmt: skip
    hpf = [e for e in answers if e.domain == "housing_provident_fund"]
    assert hpf, text  # the provident fund question is answered
    other = [e for e in answers if e.domain != "housing_provident_fund"]
    # the other question: answered too, or offered as a button asking it alone
    assert other or "医保和社保有什么区别" in payloads(replies), replies


# --- (4) nobody online -------------------------------------------------------


async def test_nobody_online_is_said_plainly_with_the_callback_first(
    rasa_server: dict[str, str],
    aiohttp_client: Any,
    make_settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """Through the front door: the emergency advice, then no place in a queue
    nobody serves, the service hours, and the callback before anything else."""
    monkeypatch.setattr(registry, "OPTIONAL_CHANNELS", ())
    token = "issue21-front-door-token-" + "y" * 16
    settings: Settings = make_settings(
        rest_tokens=parse_rest_tokens(f"app:{token}"),
        console=ConsoleSettings(service_hours=ServiceHours.parse("00:00-24:00")),
    )
    db = Database(f"sqlite:///{tmp_path}/front.db", cipher=Cipher([Fernet.generate_key().decode()]))
    rasa = RasaClient(rasa_server["url"], 120.0, auth_token=RASA_TOKEN)
    client = await aiohttp_client(create_app(settings, store=MemoryStore(), db=db, rasa=rasa))

    async def say(sender: str, text: str) -> list[dict[str, Any]]:
        resp = await client.post(
            "/webhooks/rest/webhook",
            json={"sender": sender, "message": text},
            headers={"Authorization": f"Bearer {token}"},
            timeout=aiohttp.ClientTimeout(total=120),
        )
        assert resp.status == 200, await resp.text()
        return list(await resp.json())

    await say("other", "转人工")  # someone already waiting
    replies = await say("me", "救命啊我家厨房着火了")
    text = "\n".join(r.get("text") or "" for r in replies)
    assert "119" in (replies[0].get("text") or "")
    assert "现在没有人工客服在线" in text and "每天 00:00-24:00" in text
    assert "排在第" not in text and "请稍候" not in text
    buttons = [b["payload"] for r in replies for b in r.get("buttons") or []]
    assert buttons[0] == "/handoff_callback", buttons
